"""The customer's addresses, shown on the card's contact tab: add, edit, delete, head office."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..forms import AddressForm, HeadOfficeForm
from ..models import Address, Customer
from ..services import addresses as address_services
from .card import EDIT, GET_POST, card_customer, card_render, refuse_if_anonymized
from .shortcuts import request_actor, save_and_redirect


def _address(customer: Customer, address_pk: int) -> Address:
    return get_object_or_404(
        customer.addresses.select_related("created_by", "updated_by"), pk=address_pk
    )


@EDIT
@GET_POST
def address_create(request, pk):
    customer = card_customer(pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    first = not customer.addresses.exists()
    form = AddressForm(request.POST or None, initial={"kind": "postal" if first else ""})
    if saved := save_and_redirect(
        request,
        form,
        lambda: address_services.address_add(
            customer=customer,
            actor=request_actor(request),
            user=request.user,
            **{k: v for k, v in form.cleaned_data.items() if v},
        ),
        message=_("The address was added."),
        to="customer-card",
        pk=customer.pk,
    ):
        return saved
    return card_render(
        request,
        customer,
        tab="contact",
        tab_template="customers/card/address_form.html",
        form=form,
        address=None,
        first=first,
    )


@EDIT
@GET_POST
def address_edit(request, pk, address_pk):
    customer = card_customer(pk)
    address = _address(customer, address_pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    form = AddressForm(request.POST or None, address=address)
    if saved := save_and_redirect(
        request,
        form,
        lambda: address_services.address_update(
            address=address, actor=request_actor(request), user=request.user, **form.cleaned_data
        ),
        message=_("The address was saved."),
        to="customer-card",
        pk=customer.pk,
    ):
        return saved
    return card_render(
        request,
        customer,
        tab="contact",
        tab_template="customers/card/address_form.html",
        form=form,
        address=address,
    )


@EDIT
@GET_POST
def address_delete(request, pk, address_pk):
    customer = card_customer(pk)
    address = _address(customer, address_pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    if request.method == "POST":
        address_services.address_delete(
            address=address, actor=request_actor(request), user=request.user
        )
        messages.success(request, _("The address was deleted."))
        return redirect("customer-card", pk=customer.pk)
    return card_render(
        request,
        customer,
        tab="contact",
        tab_template="customers/card/confirm_delete.html",
        what=_("address"),
        object_label=str(address) or _("(empty address)"),
        warning=_("If it is the head office, the oldest remaining address becomes the head office.")
        if address.is_head_office
        else "",
        cancel_url=resolve_url("customer-card", pk=customer.pk),
    )


@EDIT
@require_POST
def head_office_change(request, pk):
    customer = card_customer(pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    form = HeadOfficeForm(request.POST, customer=customer)
    if form.is_valid():
        address_services.head_office_change(
            address=form.cleaned_data["address"], actor=request_actor(request), user=request.user
        )
        messages.success(request, _("The head office was changed."))
    else:
        messages.error(request, _("Choose one of the customer's other addresses."))
    return redirect("customer-card", pk=customer.pk)
