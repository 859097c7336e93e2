"""The card's contact tab (the card's first page) and the customer's contacts on it:
add, edit, (in)activate, delete, and link or unlink a contact and a customer."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors
from ..forms import ContactForm, ContactLinkForm, CustomerLinkForm, HeadOfficeForm, apply_errors
from ..models import Contact, Customer
from ..services import contacts as contact_services
from .card import EDIT, GET_POST, VIEW, card_customer, card_render, refuse_if_anonymized
from .shortcuts import request_actor, save_and_redirect


def _contact_rows(customer: Customer, show_inactive: bool):
    """Active contacts, and deleted ones (shown as "Deleted contact": their links stay);
    inactive ones only on request."""
    return selectors.contacts_of(customer, include_inactive=show_inactive, include_deleted=True)


def _contact(customer: Customer, contact_pk: int) -> Contact:
    """A contact linked to this customer (any other is a 404)."""
    return get_object_or_404(
        customer.contacts.select_related("title", "created_by", "updated_by"), pk=contact_pk
    )


def _contact_page(request, customer, contact, *, form=None, customer_link_form=None):
    return card_render(
        request,
        customer,
        tab="contact",
        tab_template="customers/card/contact_form.html",
        form=form,
        contact=contact,
        linked_customers=contact.customers.order_by("number"),
        customer_link_form=customer_link_form or CustomerLinkForm(),
    )


@VIEW
@require_http_methods(["GET"])
def customer_card(request, pk):
    customer = card_customer(pk)
    show_inactive = request.GET.get("inactive") == "1"
    addresses = list(customer.addresses.select_related("created_by", "updated_by"))
    return card_render(
        request,
        customer,
        tab="contact",
        tab_template="customers/card/contact_info.html",
        addresses=addresses,
        head_office=next((a for a in addresses if a.is_head_office), None),
        head_office_form=HeadOfficeForm(customer=customer),
        contacts=_contact_rows(customer, show_inactive),
        show_inactive=show_inactive,
        link_form=ContactLinkForm(),
    )


@EDIT
@GET_POST
def contact_create(request, pk):
    customer = card_customer(pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    form = ContactForm(request.POST or None)

    def create():
        data = dict(form.cleaned_data)
        contact_services.contact_create(
            customer=customer,
            actor=request_actor(request),
            user=request.user,
            number=data.pop("number", None),
            roles=data.pop("roles", None),
            **data,
        )

    if saved := save_and_redirect(
        request,
        form,
        create,
        message=_("The contact was added."),
        to="customer-card",
        pk=customer.pk,
    ):
        return saved
    return card_render(
        request,
        customer,
        tab="contact",
        tab_template="customers/card/contact_form.html",
        form=form,
        contact=None,
    )


@EDIT
@GET_POST
def contact_edit(request, pk, contact_pk):
    customer = card_customer(pk)
    contact = _contact(customer, contact_pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    form = None if contact.is_deleted else ContactForm(request.POST or None, contact=contact)

    def update():
        data = dict(form.cleaned_data)
        contact_services.contact_update(
            contact=contact,
            actor=request_actor(request),
            user=request.user,
            roles=data.pop("roles", None),
            **data,
        )

    if form is not None and (
        saved := save_and_redirect(
            request,
            form,
            update,
            message=_("The contact was saved."),
            to="customer-card",
            pk=customer.pk,
        )
    ):
        return saved
    return _contact_page(request, customer, contact, form=form)


@EDIT
@require_POST
def contact_active(request, pk, contact_pk):
    customer = card_customer(pk)
    contact = _contact(customer, contact_pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    active = request.POST.get("active") == "1"
    try:
        contact_services.contact_set_active(
            contact=contact, active=active, actor=request_actor(request), user=request.user
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        if active:
            messages.success(request, _("The contact is active again."))
        else:
            messages.success(request, _("The contact is now inactive."))
    card = resolve_url("customer-card", pk=customer.pk)
    return redirect(card + ("" if active else "?inactive=1"))


@EDIT
@GET_POST
def contact_delete(request, pk, contact_pk):
    customer = card_customer(pk)
    contact = _contact(customer, contact_pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    if contact.is_deleted:
        messages.error(request, _("This contact has been deleted."))
        return redirect("customer-card", pk=customer.pk)
    if request.method == "POST":
        contact_services.contact_delete(
            contact=contact, actor=request_actor(request), user=request.user
        )
        messages.success(request, _("The contact was deleted."))
        return redirect("customer-card", pk=customer.pk)
    return card_render(
        request,
        customer,
        tab="contact",
        tab_template="customers/card/confirm_delete.html",
        what=_("contact"),
        object_label=contact.full_name,
        warning=_(
            "The contact will show as “Deleted contact” everywhere it appears, on every "
            "customer it is linked to. Documents already issued keep the name they printed."
        ),
        cancel_url=resolve_url("customer-contact-edit", pk=customer.pk, contact_pk=contact.pk),
    )


@EDIT
@GET_POST
def contact_link(request, pk):
    """Link an existing contact (by its number) to this customer."""
    customer = card_customer(pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    form = ContactLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        contact = form.contact
        if customer.contacts.filter(pk=contact.pk).exists():
            form.add_error("number", _("This contact is already linked to the customer."))
        else:
            try:
                contact_services.contact_link(
                    contact=contact, customer=customer, actor=request_actor(request)
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(name)s is now linked to this customer.") % {"name": contact.full_name},
                )
                return redirect("customer-card", pk=customer.pk)
    return card_render(
        request,
        customer,
        tab="contact",
        tab_template="customers/card/contact_link.html",
        link_form=form,
    )


@EDIT
@require_POST
def contact_link_customer(request, pk, contact_pk):
    """From the contact's page: link it to another customer, by that customer's number."""
    customer = card_customer(pk)
    contact = _contact(customer, contact_pk)
    if refused := refuse_if_anonymized(request, customer):
        return refused
    form = CustomerLinkForm(request.POST)
    if form.is_valid():
        other = form.customer
        if contact.customers.filter(pk=other.pk).exists():
            form.add_error("number", _("The contact is already linked to this customer."))
        else:
            try:
                contact_services.contact_link(
                    contact=contact, customer=other, actor=request_actor(request)
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The contact is now linked to %(number)s %(name)s.")
                    % {"number": other.number, "name": other.name},
                )
                return redirect("customer-contact-edit", pk=customer.pk, contact_pk=contact.pk)
    form_for_contact = None if contact.is_deleted else ContactForm(contact=contact)
    return _contact_page(
        request,
        customer,
        contact,
        form=form_for_contact,
        customer_link_form=form,
    )


@EDIT
@require_POST
def contact_unlink(request, pk, contact_pk):
    """Remove the link between the contact and this customer, or another of its customers."""
    customer = card_customer(pk)
    contact = _contact(customer, contact_pk)
    target = customer
    other_pk = request.POST.get("customer", "")
    if other_pk and other_pk != str(customer.pk):
        if not other_pk.isdigit() or len(other_pk) > 18:
            raise Http404
        target = get_object_or_404(contact.customers.all(), pk=int(other_pk))
    if refused := refuse_if_anonymized(request, target):
        return refused
    contact_services.contact_unlink(contact=contact, customer=target, actor=request_actor(request))
    messages.success(
        request,
        _("The link between the contact and %(number)s %(name)s was removed.")
        % {"number": target.number, "name": target.name},
    )
    if target == customer:
        return redirect("customer-card", pk=customer.pk)
    return redirect("customer-contact-edit", pk=customer.pk, contact_pk=contact.pk)
