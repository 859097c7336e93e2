"""The card's consignees tab: the list, and adding, editing and deleting a consignee."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..forms import ConsigneeForm
from ..models import Consignee, Customer
from ..services import consignees as consignee_services
from .card import EDIT, GET_POST, VIEW, card_customer, card_render, refuse_if_anonymized
from .shortcuts import request_actor, save_and_redirect


def _consignee(customer: Customer, consignee_pk: int) -> Consignee:
    return get_object_or_404(
        customer.consignees.select_related("created_by", "updated_by"), pk=consignee_pk
    )


def _consignee_page(request, customer, consignee, form):
    return card_render(
        request,
        customer,
        tab="consignees",
        tab_template="customers/card/consignee_form.html",
        form=form,
        sections=form.sections(),
        consignee=consignee,
    )


@VIEW
@require_http_methods(["GET"])
def customer_consignees(request, pk):
    customer = card_customer(pk)
    return card_render(
        request,
        customer,
        tab="consignees",
        tab_template="customers/card/consignees.html",
        consignees=customer.consignees.all(),
    )


@EDIT
@GET_POST
def consignee_create(request, pk):
    customer = card_customer(pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    form = ConsigneeForm(request.POST or None, tenant=request.tenant)

    def create():
        data = form.changed_values()
        consignee_services.consignee_create(
            customer=customer,
            actor=request_actor(request),
            user=request.user,
            number=data.pop("number", None),
            **data,
        )

    if saved := save_and_redirect(
        request,
        form,
        create,
        message=_("The consignee was added."),
        to="customer-consignees",
        pk=customer.pk,
    ):
        return saved
    return _consignee_page(request, customer, None, form)


@EDIT
@GET_POST
def consignee_edit(request, pk, consignee_pk):
    customer = card_customer(pk)
    consignee = _consignee(customer, consignee_pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    form = ConsigneeForm(request.POST or None, consignee=consignee, tenant=request.tenant)
    if saved := save_and_redirect(
        request,
        form,
        lambda: consignee_services.consignee_update(
            consignee=consignee,
            actor=request_actor(request),
            user=request.user,
            **form.changed_values(),
        ),
        message=_("The consignee was saved."),
        to="customer-consignees",
        pk=customer.pk,
    ):
        return saved
    return _consignee_page(request, customer, consignee, form)


@EDIT
@GET_POST
def consignee_delete(request, pk, consignee_pk):
    customer = card_customer(pk)
    consignee = _consignee(customer, consignee_pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    if request.method == "POST":
        consignee_services.consignee_delete(
            consignee=consignee, actor=request_actor(request), user=request.user
        )
        messages.success(request, _("The consignee was deleted."))
        return redirect("customer-consignees", pk=customer.pk)
    return card_render(
        request,
        customer,
        tab="consignees",
        tab_template="customers/card/confirm_delete.html",
        what=_("consignee"),
        object_label=str(consignee),
        warning="",
        cancel_url=resolve_url("customer-consignees", pk=customer.pk),
    )
