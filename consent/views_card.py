"""Consent on the customer card: the panel (customers.hooks.card_panels) and its actions.

The panel sits at the top of the card's "Contact info" tab, under the header's consent
badge. Registry viewers see the status, the open requests and the decision history with
a receipt per decision; roles with ``consent.request`` also get the actions: request
consent, record a decision given on paper / by phone / in person, and "Update consent"
(``consent.refresh.consent_refresh`` for this customer). The actions are POST-only and
redirect back to the card; bad input shows the card's consent panel again with the
errors at their fields (and changes nothing).
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.actors import Actor
from audit.models import ActorType
from customers import selectors as customer_selectors
from customers.models import Customer, CustomerStatus
from customers.views.card import card_render
from notifications.services import SmsNotEnabled
from tenancy.decorators import outside_transaction, tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.roles import Perm

from . import selectors, services
from .forms import CardManualForm, CardRequestForm
from .models import (
    OPEN_STATUSES,
    Channel,
    ConsentDecision,
    ConsentRequest,
    ConsentStatus,
    Decision,
    Method,
    RequestStatus,
)
from .receipts import consent_receipt
from .refresh import consent_refresh

VIEW = tenant_perm_required(Perm.REGISTRY_VIEW)
ACT = tenant_perm_required(Perm.CONSENT_REQUEST)
HISTORY_ROWS = 50


def _has(request, perm: str) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.has_perm(perm)


def _customer(pk: int) -> Customer:
    try:
        return customer_selectors.customer_card(pk)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc


def _card_url(customer: Customer) -> str:
    return reverse("customer-card", kwargs={"pk": customer.pk}) + "#consent"


def _actor_label(actor_type: str) -> str:
    return ActorType(actor_type).label if actor_type in ActorType.values else actor_type


def panel_context(request, customer: Customer, *, request_form=None, manual_form=None) -> dict:
    tenant = request.tenant
    status = selectors.consent_status_of(customer)
    decisions = list(selectors.decisions_of(customer)[:HISTORY_ROWS])
    can_act = _has(request, Perm.CONSENT_REQUEST) and customer.status != CustomerStatus.ANONYMIZED
    return {
        "customer": customer,
        "consent": status,
        "consent_label": ConsentStatus(status["status"]).label,
        "consent_method": Method(status["method"]).label if status["method"] else "",
        "open_requests": [
            (r, RequestStatus(r.effective_status).label)
            for r in ConsentRequest.objects.filter(customer=customer, status__in=OPEN_STATUSES)
        ],
        "decisions": [(d, _actor_label(d.actor_type)) for d in decisions],
        "can_act": can_act,
        "request_form": request_form or CardRequestForm(customer=customer, tenant=tenant),
        "manual_form": manual_form or CardManualForm(customer=customer, tenant=tenant),
    }


def consent_card_panel(customer, request) -> str:
    """customers.hooks.card_panels: the consent panel, for roles that may see the registry."""
    if request is None or not _has(request, Perm.REGISTRY_VIEW):
        return ""
    return render_to_string(
        "consent/card_panel.html", panel_context(request, customer), request=request
    )


def _card_with_errors(request, customer: Customer, **forms):
    """The card with only its consent panel, the rejected form open and its errors shown."""
    context = panel_context(request, customer, **forms)
    del context["customer"]  # card_render's own argument
    return card_render(
        request, customer, tab="contact", tab_template="consent/card_errors.html", **context
    )


def _refuse_if_anonymized(request, customer: Customer):
    if customer.status == CustomerStatus.ANONYMIZED:
        messages.error(request, _("This customer is anonymized and cannot be changed."))
        return redirect(_card_url(customer))
    return None


@ACT
@require_POST
def consent_request_send(request, pk):
    customer = _customer(pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    form = CardRequestForm(request.POST, customer=customer, tenant=request.tenant)
    if form.is_valid():
        try:
            consent_request, _token = services.consent_request_create(
                customer=customer,
                channel=form.cleaned_data["channel"],
                language=form.cleaned_data["language"],
                actor=Actor.user(request.user),
            )
        except SmsNotEnabled as exc:
            form.add_error("channel", exc)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Consent requested by %(channel)s to %(destination)s.")
                % {
                    "channel": Channel(consent_request.channel).label,
                    "destination": consent_request.destination_masked,
                },
            )
            return redirect(_card_url(customer))
    return _card_with_errors(request, customer, request_form=form)


@ACT
@require_POST
def consent_record_manual(request, pk):
    customer = _customer(pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    form = CardManualForm(request.POST, customer=customer, tenant=request.tenant)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.consent_record(
                customer=customer,
                decision=data["decision"],
                method=Method.MANUAL,
                how=data["how"],
                terms_version=data["terms_version"],
                note=data["note"],
                actor=Actor.user(request.user),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Recorded: %(decision)s.") % {"decision": Decision(data["decision"]).label},
            )
            return redirect(_card_url(customer))
    return _card_with_errors(request, customer, manual_form=form)


@outside_transaction  # asks the SMS provider over the network
@ACT
@require_POST
def consent_refresh_customer(request, pk):
    customer = _customer(pk)
    result = consent_refresh(actor=Actor.user(request.user), customer_ids=[customer.pk])
    messages.success(
        request,
        _("Consent updated. Requests expired: %(expired)s; delivery statuses checked: %(polled)s.")
        % {"expired": result.expired, "polled": result.polled},
    )
    return redirect(_card_url(customer))


@VIEW
@require_GET
def consent_receipt_download(request, pk, decision_pk):
    """A decision's consent receipt as a JSON file (the same document the API serves)."""
    customer = _customer(pk)
    decision = get_object_or_404(
        ConsentDecision.objects.select_related("customer"), pk=decision_pk, customer=customer
    )
    body = json.dumps(
        consent_receipt(decision, tenant=request.tenant), indent=2, ensure_ascii=False
    )
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="consent-receipt-{decision.receipt_id}.json"'
    )
    response["Cache-Control"] = "private, no-store"
    return response
