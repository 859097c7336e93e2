"""The card's history tab: what happened to the customer, as sentences, newest first, a
page at a time (customers/history.py), and the exports of its personal data."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.views.decorators.http import require_http_methods

from audit.describe import describe
from audit.models import AuditEvent

from ..history import customer_history as history_of
from ..history import history_entries
from ..permissions import can_see_finance
from .card import VIEW, card_customer, card_render

HISTORY_PAGE_SIZE = 50
EXPORTS_SHOWN = 20


@VIEW
@require_http_methods(["GET"])
def customer_history(request, pk):
    customer = card_customer(pk)
    history = history_of(customer, finance=can_see_finance(request))
    page = Paginator(history, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    # Exports of the customer's personal data (GDPR art. 15, reports/subject_access.py):
    # who took them and when, from the audit log (the entries name no one).
    exports = AuditEvent.objects.filter(
        action="customer.exported", object_type="customer", object_id=str(customer.pk)
    ).order_by("-created_at", "-id")[:EXPORTS_SHOWN]
    return card_render(
        request,
        customer,
        tab="history",
        tab_template="customers/card/history.html",
        page=page,
        rows=history_entries(page.object_list),
        exports=describe(exports),
    )
