"""Retention settings (/settings/retention/), and the legal-hold and anonymization panels on
the customer card."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.actors import Actor
from customers import selectors as customer_selectors
from customers.models import Customer, CustomerStatus
from customers.views.card import card_render
from tenancy.decorators import tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.roles import Perm

from . import eligibility, runs, selectors, services
from .forms import CardAnonymizeForm, LegalHoldForm, PresetForm, RetentionForm
from .models import PRESETS, LegalHold, RunSource

HOLD = tenant_perm_required(Perm.ANONYMIZE)


@tenant_perm_required(Perm.RETENTION_EDIT)
def retention_settings(request):
    policy = selectors.retention_policy()
    initial = {
        "customer_years": policy.customer_years,
        "prospect_years": policy.prospect_years,
        "fiscal_year_end_day": policy.fiscal_year_end_day,
        "fiscal_year_end_month": policy.fiscal_year_end_month,
        "auto_anonymize_prospects": policy.auto_anonymize_prospects,
    }
    form = RetentionForm(initial=initial)
    preset_form = PresetForm(prefix="preset", initial={"country": policy.preset or None})
    actor = Actor.user(request.user)
    if request.method == "POST" and request.POST.get("form") == "preset":
        preset_form = PresetForm(request.POST, prefix="preset")
        if preset_form.is_valid():
            try:
                services.retention_preset_apply(
                    actor=actor, country=preset_form.cleaned_data["country"]
                )
            except ValidationError as exc:
                apply_service_errors(preset_form, exc)
            else:
                messages.success(request, _("Preset applied."))
                return redirect(request.path)
    elif request.method == "POST":
        form = RetentionForm(request.POST)
        if form.is_valid():
            try:
                services.retention_policy_update(actor=actor, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Retention settings saved."))
                return redirect(request.path)
    return render(
        request,
        "anonymization/retention_settings.html",
        {
            "policy": policy,
            "form": form,
            "preset_form": preset_form,
            "presets": PRESETS.values(),
        },
    )


# --- Legal hold on the customer card -----------------------------------------------------


def _has(request, perm: str) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.has_perm(perm)


def _customer(pk: int) -> Customer:
    try:
        return customer_selectors.customer_card(pk)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc


def _card_url(customer_pk: int) -> str:
    return reverse("customer-card", kwargs={"pk": customer_pk}) + "#legal-hold"


def _panel_context(request, customer: Customer, form=None) -> dict:
    return {
        "customer": customer,
        "hold": selectors.active_hold_of(customer),
        "can_act": _has(request, Perm.ANONYMIZE),
        "anonymized": customer.status == CustomerStatus.ANONYMIZED,
        "hold_form": form or LegalHoldForm(prefix="hold"),
    }


def legal_hold_card_panel(customer, request) -> str:
    """customers.hooks.card_panels: the legal-hold panel, for roles that see the registry."""
    if request is None or not _has(request, Perm.REGISTRY_VIEW):
        return ""
    context = _panel_context(request, customer)
    if context["hold"] is None and not context["can_act"]:
        return ""  # nothing to show and nothing this role may do
    return render_to_string("anonymization/hold_panel.html", context, request=request)


@HOLD
@require_POST
def legal_hold_set_view(request, pk):
    customer = _customer(pk)
    form = LegalHoldForm(request.POST, prefix="hold")
    if form.is_valid():
        try:
            services.legal_hold_set(
                customer=customer,
                reason=form.cleaned_data["reason"],
                actor=Actor.user(request.user),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The customer is on legal hold."))
            return redirect(_card_url(customer.pk))
    context = _panel_context(request, customer, form)
    del context["customer"]
    return card_render(
        request, customer, tab="contact", tab_template="anonymization/hold_errors.html", **context
    )


@HOLD
@require_POST
def legal_hold_lift_view(request, pk, hold_pk):
    customer = _customer(pk)
    hold = LegalHold.objects.filter(pk=hold_pk, customer=customer).first()
    if hold is None:
        raise Http404
    try:
        services.legal_hold_lift(hold=hold, actor=Actor.user(request.user))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The legal hold is lifted."))
    return redirect(_card_url(customer.pk))


# --- Anonymization from the customer card (Avance's manual way) ------------------------------


def anonymize_card_panel(customer, request) -> str:
    """customers.hooks.card_panels: when the customer may be anonymized, and the button."""
    if request is None or not _has(request, Perm.ANONYMIZE):
        return ""
    return render_to_string(
        "anonymization/anonymize_panel.html", _anonymize_context(request, customer), request=request
    )


def _anonymize_context(request, customer: Customer, form=None) -> dict:
    today = eligibility.tenant_today()
    state = eligibility.eligibility_of(customer, today=today)
    reasons = eligibility.reasons_of(state, today=today)
    return {
        "customer": customer,
        "state": state,
        "reasons": [eligibility.BLOCKER_LABELS[r] for r in reasons],
        "eligible": not reasons,
        "anonymized": customer.status == CustomerStatus.ANONYMIZED,
        "anonymize_form": form
        or CardAnonymizeForm(prefix="anonymize", language=get_language() or "en"),
    }


@HOLD
@require_POST
def anonymize_view(request, pk):
    customer = _customer(pk)
    form = CardAnonymizeForm(request.POST, prefix="anonymize", language=get_language() or "en")
    if form.is_valid():
        try:
            run = runs.anonymization_run_start(
                customer_ids=[customer.pk],
                actor=Actor.user(request.user),
                source=RunSource.CARD,
                categories=form.cleaned_data["categories"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("anonymization-run", pk=run.pk)
    context = _anonymize_context(request, customer, form)
    del context["customer"]
    return card_render(
        request,
        customer,
        tab="contact",
        tab_template="anonymization/anonymize_errors.html",
        **context,
    )
