"""The customer card in the browser: creating a customer, its tabs and their parts.

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
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from audit.actors import Actor
from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from .. import selectors
from ..forms import (
    AddressForm,
    ConsigneeForm,
    ContactForm,
    ContactLinkForm,
    CustomerCreateForm,
    CustomerLinkForm,
    CustomerSettingsForm,
    HeadOfficeForm,
    apply_errors,
)
from ..models import (
    FINANCE_FIELDS,
    Address,
    ChangeRecord,
    Consignee,
    Contact,
    Customer,
    CustomerStatus,
)
from ..permissions import can_edit_finance, can_see_finance
from ..services import addresses as address_services
from ..services import consignees as consignee_services
from ..services import contacts as contact_services
from ..services import customers as customer_services

VIEW = tenant_perm_required(Perm.REGISTRY_VIEW)
EDIT = tenant_perm_required(Perm.REGISTRY_EDIT)
GET_POST = require_http_methods(["GET", "POST"])
HISTORY_PAGE_SIZE = 50

# Pseudo-fields the services record besides real model fields.
HISTORY_FIELD_LABELS = {
    "address": gettext_lazy("Address"),
    "head_office": gettext_lazy("Head office"),
    "contact": gettext_lazy("Contact"),
    "consignee": gettext_lazy("Consignee"),
}
HISTORY_OBJECTS = {
    "customer": Customer,
    "address": Address,
    "contact": Contact,
    "consignee": Consignee,
}


# --- helpers --------------------------------------------------------------------------


def _actor(request) -> Actor:
    return Actor.user(request.user)


def _customer(pk: int) -> Customer:
    try:
        return selectors.customer_card(pk)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc


def _is_anonymized(customer: Customer) -> bool:
    return customer.status == CustomerStatus.ANONYMIZED


def _refuse_if_anonymized(request, customer: Customer):
    """Anonymized customers are read-only: nothing personal may come back."""
    if _is_anonymized(customer):
        messages.error(request, _("This customer is anonymized and cannot be changed."))
        return redirect("customer-card", pk=customer.pk)
    return None


def _has(request, perm: str) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.has_perm(perm)


def card_render(request, customer: Customer, *, tab: str, tab_template: str, **ctx):
    """The card with one tab open: full page, or only the body for an htmx tab switch."""
    context = {
        "customer": customer,
        "tab": tab,
        "tab_template": tab_template,
        "can_edit": _has(request, Perm.REGISTRY_EDIT) and not _is_anonymized(customer),
        "can_delete": _has(request, Perm.DELETE_CUSTOMER),
        "finance_visible": can_see_finance(request),
        **ctx,
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "customers/card/_body.html" if partial else "customers/card/page.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- create ---------------------------------------------------------------------------


@EDIT
@GET_POST
def customer_create(request):
    tenant = request.tenant
    form = CustomerCreateForm(request.POST or None, tenant=tenant)
    address_form = AddressForm(
        request.POST or None,
        prefix="address",
        optional=True,
        initial={"kind": "head_office"},
    )
    if request.method == "POST" and form.is_valid() & address_form.is_valid():
        stage = form
        try:
            with transaction.atomic():
                data = dict(form.cleaned_data)
                number = data.pop("number", "") or None
                customer = customer_services.customer_create(
                    actor=_actor(request), user=request.user, number=number, **data
                )
                if not address_form.is_empty():
                    stage = address_form
                    fields = {k: v for k, v in address_form.cleaned_data.items() if v}
                    address_services.address_add(
                        customer=customer, actor=_actor(request), user=request.user, **fields
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


# --- tabs -----------------------------------------------------------------------------


def _contact_rows(customer: Customer, show_inactive: bool):
    """Active contacts, and deleted ones (shown as "Deleted contact": their links stay);
    inactive ones only on request."""
    return selectors.contacts_of(customer, include_inactive=show_inactive, include_deleted=True)


@VIEW
@require_http_methods(["GET"])
def customer_card(request, pk):
    customer = _customer(pk)
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


@VIEW
@require_http_methods(["GET"])
def customer_consignees(request, pk):
    customer = _customer(pk)
    return card_render(
        request,
        customer,
        tab="consignees",
        tab_template="customers/card/consignees.html",
        consignees=customer.consignees.all(),
    )


def _history_rows(records):
    rows = []
    for record in records:
        model = HISTORY_OBJECTS.get(record.object_type)
        label = HISTORY_FIELD_LABELS.get(record.field, record.field)
        is_bool = False
        if model is not None:
            try:
                model_field = model._meta.get_field(record.field)
            except FieldDoesNotExist:  # a pseudo-field of the service, e.g. "head_office"
                model_field = None
            if model_field is not None and hasattr(model_field, "verbose_name"):
                label = model_field.verbose_name
                is_bool = model_field.get_internal_type() == "BooleanField"
        old, new = record.old_value, record.new_value
        if is_bool:
            yes_no = {"True": _("Yes"), "False": _("No")}
            old, new = yes_no.get(old, old), yes_no.get(new, new)
        rows.append(
            {
                "record": record,
                "object": model._meta.verbose_name if model else record.object_type,
                "field": label,
                "old": old,
                "new": new,
            }
        )
    return rows


@VIEW
@require_http_methods(["GET"])
def customer_history(request, pk):
    customer = _customer(pk)
    records = ChangeRecord.objects.filter(customer=customer).select_related("changed_by")
    if not can_see_finance(request):
        records = records.exclude(object_type="customer", field__in=FINANCE_FIELDS)
    page = Paginator(records, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return card_render(
        request,
        customer,
        tab="history",
        tab_template="customers/card/history.html",
        page=page,
        rows=_history_rows(page.object_list),
    )


@EDIT
@GET_POST
def customer_settings(request, pk):
    customer = _customer(pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    form = CustomerSettingsForm(
        request.POST or None,
        customer=customer,
        tenant=request.tenant,
        finance_visible=can_see_finance(request),
        finance_editable=can_edit_finance(request),
        retention_editable=_has(request, Perm.RETENTION_EDIT),
    )
    if request.method == "POST" and form.is_valid():
        try:
            customer_services.customer_update(
                customer=customer,
                actor=_actor(request),
                user=request.user,
                **form.changed_values(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
            customer = _customer(pk)  # the header shows the stored values, not the rejected
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


# --- status and deletion ----------------------------------------------------------------


@EDIT
@require_POST
def customer_status(request, pk):
    customer = _customer(pk)
    status = request.POST.get("status", "")
    try:
        customer_services.customer_set_status(
            customer=customer, status=status, actor=_actor(request), user=request.user
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
    customer = _customer(pk)
    if request.method == "POST":
        number, name = customer.number, customer.name
        try:
            customer_services.customer_delete(customer=customer, actor=_actor(request))
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
        return redirect("/customers/")
    return card_render(
        request,
        customer,
        tab="",
        tab_template="customers/card/customer_delete.html",
    )


# --- addresses ------------------------------------------------------------------------


def _address(customer: Customer, address_pk: int) -> Address:
    return get_object_or_404(
        customer.addresses.select_related("created_by", "updated_by"), pk=address_pk
    )


@EDIT
@GET_POST
def address_create(request, pk):
    customer = _customer(pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    first = not customer.addresses.exists()
    form = AddressForm(request.POST or None, initial={"kind": "head_office" if first else ""})
    if request.method == "POST" and form.is_valid():
        try:
            address_services.address_add(
                customer=customer,
                actor=_actor(request),
                user=request.user,
                **{k: v for k, v in form.cleaned_data.items() if v},
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The address was added."))
            return redirect("customer-card", pk=customer.pk)
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
    customer = _customer(pk)
    address = _address(customer, address_pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    form = AddressForm(request.POST or None, address=address)
    if request.method == "POST" and form.is_valid():
        try:
            address_services.address_update(
                address=address, actor=_actor(request), user=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The address was saved."))
            return redirect("customer-card", pk=customer.pk)
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
    customer = _customer(pk)
    address = _address(customer, address_pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    if request.method == "POST":
        address_services.address_delete(address=address, actor=_actor(request), user=request.user)
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
        cancel_url=f"/customers/{customer.pk}/",
    )


@EDIT
@require_POST
def head_office_change(request, pk):
    customer = _customer(pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    form = HeadOfficeForm(request.POST, customer=customer)
    if form.is_valid():
        address_services.head_office_change(
            address=form.cleaned_data["address"], actor=_actor(request), user=request.user
        )
        messages.success(request, _("The head office was changed."))
    else:
        messages.error(request, _("Choose one of the customer's other addresses."))
    return redirect("customer-card", pk=customer.pk)


# --- contacts -------------------------------------------------------------------------


def _contact(customer: Customer, contact_pk: int) -> Contact:
    """A contact linked to this customer (any other is a 404)."""
    return get_object_or_404(
        customer.contacts.select_related("title", "created_by", "updated_by"), pk=contact_pk
    )


@EDIT
@GET_POST
def contact_create(request, pk):
    customer = _customer(pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            contact_services.contact_create(
                customer=customer,
                actor=_actor(request),
                user=request.user,
                number=data.pop("number", None),
                roles=data.pop("roles", None),
                **data,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The contact was added."))
            return redirect("customer-card", pk=customer.pk)
    return card_render(
        request,
        customer,
        tab="contact",
        tab_template="customers/card/contact_form.html",
        form=form,
        contact=None,
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


@EDIT
@GET_POST
def contact_edit(request, pk, contact_pk):
    customer = _customer(pk)
    contact = _contact(customer, contact_pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    form = None if contact.is_deleted else ContactForm(request.POST or None, contact=contact)
    if request.method == "POST" and form is not None and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            contact_services.contact_update(
                contact=contact,
                actor=_actor(request),
                user=request.user,
                roles=data.pop("roles", None),
                **data,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The contact was saved."))
            return redirect("customer-card", pk=customer.pk)
    return _contact_page(request, customer, contact, form=form)


@EDIT
@require_POST
def contact_active(request, pk, contact_pk):
    customer = _customer(pk)
    contact = _contact(customer, contact_pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    active = request.POST.get("active") == "1"
    try:
        contact_services.contact_set_active(
            contact=contact, active=active, actor=_actor(request), user=request.user
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        if active:
            messages.success(request, _("The contact is active again."))
        else:
            messages.success(request, _("The contact is now inactive."))
    return redirect(f"/customers/{customer.pk}/" + ("" if active else "?inactive=1"))


@EDIT
@GET_POST
def contact_delete(request, pk, contact_pk):
    customer = _customer(pk)
    contact = _contact(customer, contact_pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    if contact.is_deleted:
        messages.error(request, _("This contact has been deleted."))
        return redirect("customer-card", pk=customer.pk)
    if request.method == "POST":
        contact_services.contact_delete(contact=contact, actor=_actor(request), user=request.user)
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
        cancel_url=f"/customers/{customer.pk}/contacts/{contact.pk}/",
    )


@EDIT
@GET_POST
def contact_link(request, pk):
    """Link an existing contact (by its number) to this customer."""
    customer = _customer(pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    form = ContactLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        contact = form.contact
        if customer.contacts.filter(pk=contact.pk).exists():
            form.add_error("number", _("This contact is already linked to the customer."))
        else:
            try:
                contact_services.contact_link(
                    contact=contact, customer=customer, actor=_actor(request)
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
    customer = _customer(pk)
    contact = _contact(customer, contact_pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    form = CustomerLinkForm(request.POST)
    if form.is_valid():
        other = form.customer
        if contact.customers.filter(pk=other.pk).exists():
            form.add_error("number", _("The contact is already linked to this customer."))
        else:
            try:
                contact_services.contact_link(
                    contact=contact, customer=other, actor=_actor(request)
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
    customer = _customer(pk)
    contact = _contact(customer, contact_pk)
    target = customer
    other_pk = request.POST.get("customer", "")
    if other_pk and other_pk != str(customer.pk):
        if not other_pk.isdigit() or len(other_pk) > 18:
            raise Http404
        target = get_object_or_404(contact.customers.all(), pk=int(other_pk))
    if refused := _refuse_if_anonymized(request, target):
        return refused
    contact_services.contact_unlink(contact=contact, customer=target, actor=_actor(request))
    messages.success(
        request,
        _("The link between the contact and %(number)s %(name)s was removed.")
        % {"number": target.number, "name": target.name},
    )
    if target == customer:
        return redirect("customer-card", pk=customer.pk)
    return redirect("customer-contact-edit", pk=customer.pk, contact_pk=contact.pk)


# --- consignees -----------------------------------------------------------------------


def _consignee(customer: Customer, consignee_pk: int) -> Consignee:
    return get_object_or_404(
        customer.consignees.select_related("created_by", "updated_by"), pk=consignee_pk
    )


@EDIT
@GET_POST
def consignee_create(request, pk):
    customer = _customer(pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    form = ConsigneeForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        data = form.changed_values()
        try:
            consignee_services.consignee_create(
                customer=customer,
                actor=_actor(request),
                user=request.user,
                number=data.pop("number", None),
                **data,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The consignee was added."))
            return redirect("customer-consignees", pk=customer.pk)
    return card_render(
        request,
        customer,
        tab="consignees",
        tab_template="customers/card/consignee_form.html",
        form=form,
        sections=form.sections(),
        consignee=None,
    )


@EDIT
@GET_POST
def consignee_edit(request, pk, consignee_pk):
    customer = _customer(pk)
    consignee = _consignee(customer, consignee_pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    form = ConsigneeForm(request.POST or None, consignee=consignee, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            consignee_services.consignee_update(
                consignee=consignee,
                actor=_actor(request),
                user=request.user,
                **form.changed_values(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The consignee was saved."))
            return redirect("customer-consignees", pk=customer.pk)
    return card_render(
        request,
        customer,
        tab="consignees",
        tab_template="customers/card/consignee_form.html",
        form=form,
        sections=form.sections(),
        consignee=consignee,
    )


@EDIT
@GET_POST
def consignee_delete(request, pk, consignee_pk):
    customer = _customer(pk)
    consignee = _consignee(customer, consignee_pk)
    if refused := _refuse_if_anonymized(request, customer):
        return refused
    if request.method == "POST":
        consignee_services.consignee_delete(
            consignee=consignee, actor=_actor(request), user=request.user
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
        cancel_url=f"/customers/{customer.pk}/consignees/",
    )
