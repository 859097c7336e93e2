"""The customer itself: creating one, its settings tab, its status and its deletion."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from ..forms import AddressForm, CustomerCreateForm, CustomerSettingsForm, apply_errors
from ..models import CustomerStatus
from ..permissions import can_edit_finance, can_see_finance
from ..services import addresses as address_services
from ..services import customers as customer_services
from .card import EDIT, GET_POST, card_customer, card_render, has_perm, refuse_if_anonymized
from .shortcuts import request_actor


@EDIT
@GET_POST
def customer_create(request):
    tenant = request.tenant
    form = CustomerCreateForm(request.POST or None, tenant=tenant)
    address_form = AddressForm(
        request.POST or None,
        prefix="address",
        optional=True,
        initial={"kind": "postal"},
    )
    if request.method == "POST" and form.is_valid() & address_form.is_valid():
        stage = form
        try:
            with transaction.atomic():
                data = dict(form.cleaned_data)
                number = data.pop("number", "") or None
                customer = customer_services.customer_create(
                    actor=request_actor(request), user=request.user, number=number, **data
                )
                if not address_form.is_empty():
                    stage = address_form
                    fields = {k: v for k, v in address_form.cleaned_data.items() if v}
                    address_services.address_add(
                        customer=customer, actor=request_actor(request), user=request.user, **fields
                    )
        except ValidationError as exc:
            apply_errors(stage, exc)
        else:
            messages.success(
                request,
                _("Customer %(number)s %(name)s was created.")
                % {"number": customer.number, "name": customer.name},
            )
            return redirect("customer-card", pk=customer.pk)
    return render(
        request, "customers/card/create.html", {"form": form, "address_form": address_form}
    )


@EDIT
@GET_POST
def customer_settings(request, pk):
    customer = card_customer(pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    form = CustomerSettingsForm(
        request.POST or None,
        customer=customer,
        tenant=request.tenant,
        finance_visible=can_see_finance(request),
        finance_editable=can_edit_finance(request),
        retention_editable=has_perm(request, Perm.RETENTION_EDIT),
    )
    if request.method == "POST" and form.is_valid():
        try:
            customer_services.customer_update(
                customer=customer,
                actor=request_actor(request),
                user=request.user,
                **form.changed_values(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
            customer = card_customer(pk)  # the header shows the stored values, not the rejected
        else:
            messages.success(request, _("Saved."))
            return redirect("customer-settings", pk=customer.pk)
    return card_render(
        request,
        customer,
        tab="settings",
        tab_template="customers/card/settings.html",
        form=form,
        sections=form.sections(request.GET.get("section", "")),
    )


@EDIT
@require_POST
def customer_status(request, pk):
    customer = card_customer(pk)
    status = request.POST.get("status", "")
    try:
        customer_services.customer_set_status(
            customer=customer, status=status, actor=request_actor(request), user=request.user
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        if status == CustomerStatus.INACTIVE:
            messages.success(request, _("The customer is now inactive."))
        else:
            messages.success(request, _("The customer is active again."))
    return redirect("customer-card", pk=customer.pk)


@tenant_perm_required(Perm.DELETE_CUSTOMER)
@GET_POST
def customer_delete(request, pk):
    customer = card_customer(pk)
    if request.method == "POST":
        number, name = customer.number, customer.name
        try:
            customer_services.customer_delete(customer=customer, actor=request_actor(request))
        except customer_services.CustomerInUse as exc:
            return card_render(
                request,
                customer,
                tab="",
                tab_template="customers/card/customer_in_use.html",
                reasons=exc.reasons,
            )
        messages.success(
            request,
            _("Customer %(number)s %(name)s was deleted.") % {"number": number, "name": name},
        )
        return redirect("customer-list")
    return card_render(
        request,
        customer,
        tab="",
        tab_template="customers/card/customer_delete.html",
    )
