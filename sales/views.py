"""The customer card's Sales tab: the customer's documents (searchable, a page at a time)
and their totals. Thin: the reads are ``sales.selectors``; the layout is the card's."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.views.decorators.http import require_http_methods

from customers.views.card import VIEW, card_customer, card_render

from .forms import DocumentSearchForm
from .selectors import documents_of, sales_totals

PAGE_SIZE = 25


@VIEW
@require_http_methods(["GET"])
def customer_sales(request, pk):
    customer = card_customer(pk)
    form = DocumentSearchForm(request.GET)
    documents = form.filter(documents_of(customer))
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    return card_render(
        request,
        customer,
        tab="sales",
        tab_template="sales/card_sales.html",
        form=form,
        page=page,
        totals=sales_totals(customer),
    )
