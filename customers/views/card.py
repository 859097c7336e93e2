"""The customer card in the browser: its layout and the lookups its tab modules share.

The views live one module per tab: ``card_contact`` (the contact tab: the card's
first page, contacts), ``card_addresses``, ``card_consignees``, ``card_history``
and ``card_customer`` (creating a customer, its settings, status and deletion).

Thin views: parse with ``customers.forms``, change through ``customers.services``,
render. Every tab is its own URL (works without JavaScript); an htmx request
for a tab gets only the card's body (tabs and panel), everything else the
full page. Objects are looked up through the tenant-scoped managers, so
another tenant's ids are a 404.

Other card tabs (keys, files) can reuse the layout: render
``customers/card/page.html`` (or ``customers/card/_body.html`` for htmx) with
``customer``, ``tab`` and ``tab_template``; see :func:`card_render`.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from .. import selectors
from ..models import Customer, CustomerStatus
from ..permissions import can_see_finance

VIEW = tenant_perm_required(Perm.REGISTRY_VIEW)
EDIT = tenant_perm_required(Perm.REGISTRY_EDIT)
GET_POST = require_http_methods(["GET", "POST"])


def card_customer(pk: int) -> Customer:
    """The customer with what the card shows of it; another tenant's id is a 404."""
    try:
        return selectors.customer_card(pk)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc


def is_anonymized(customer: Customer) -> bool:
    return customer.status == CustomerStatus.ANONYMIZED


def refuse_if_anonymized(request, customer: Customer):
    """Anonymized customers are read-only: nothing personal may come back."""
    if is_anonymized(customer):
        messages.error(request, _("This customer is anonymized and cannot be changed."))
        return redirect("customer-card", pk=customer.pk)
    return None


def has_perm(request, perm: str) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.has_perm(perm)


def card_render(request, customer: Customer, *, tab: str, tab_template: str, **ctx):
    """The card with one tab open: full page, or only the body for an htmx tab switch."""
    context = {
        "customer": customer,
        "tab": tab,
        "tab_template": tab_template,
        "can_edit": has_perm(request, Perm.REGISTRY_EDIT) and not is_anonymized(customer),
        "can_delete": has_perm(request, Perm.DELETE_CUSTOMER),
        "finance_visible": can_see_finance(request),
        **ctx,
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "customers/card/_body.html" if partial else "customers/card/page.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
