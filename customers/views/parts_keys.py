"""Keys and cards: customer and contact keys, predefined designations, ID cards, key-type rules."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tenancy.decorators import tenant_perm_required
from tenancy.models import ReferenceEntry, ReferenceRegister
from tenancy.roles import Perm

from ..forms_parts import DesignationForm, IdCardForm, KeyAddForm, KeyTypeRuleForm
from ..models import (
    ContactKey,
    CustomerContact,
    CustomerIdCard,
    CustomerKey,
    KeyTypeRule,
    PredefinedDesignation,
)
from ..selectors import contacts_of
from ..services import keys
from .card import card_render
from .parts import base_context, customer_or_404, posted
from .shortcuts import request_actor, save_and_redirect


def _render_keys(request, customer, *, key_form=None, designation_form=None):
    contacts = list(contacts_of(customer).prefetch_related("keys__key_type"))
    rules = {r.key_type_id: r for r in KeyTypeRule.objects.all()}
    key_types = [
        (entry, rules.get(entry.pk))
        for entry in ReferenceEntry.objects.filter(
            register=ReferenceRegister.KEY_TYPE, is_active=True
        )
    ]
    if key_form is None:
        initial = {}
        contact_id = request.GET.get("contact", "")
        if contact_id.isdigit():
            initial["contact"] = int(contact_id)
        key_form = KeyAddForm(
            customer=customer, key_type_id=request.GET.get("key_type"), initial=initial
        )
    context = base_context(request, customer) | {
        "customer_keys": customer.keys.select_related("key_type"),
        "contacts": contacts,
        "key_types": key_types,
        "designations": customer.designations.all(),
        "id_cards": customer.id_cards.select_related("default_consignee", "warehouse"),
        "key_form": key_form,
        "designation_form": designation_form or DesignationForm(auto_id="designation_%s"),
        "today": timezone.localdate(),
    }
    # A tab of the card (issue 14): the card's header and tab bar stay around it.
    del context["customer"]
    return card_render(
        request, customer, tab="keys", tab_template="customers/parts/keys.html", **context
    )


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_GET
def customer_keys(request, pk):
    return _render_keys(request, customer_or_404(pk))


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def key_add(request, pk):
    customer = customer_or_404(pk)
    form = KeyAddForm(request.POST, customer=customer)

    def add():
        contact = form.cleaned_data["contact"]
        common = {
            "key_type": form.cleaned_data["key_type"],
            "value": form.cleaned_data["value"],
            "actor": request_actor(request),
            "user": request.user,
        }
        if contact is not None:
            keys.contact_key_add(contact=contact, **common)
        else:
            keys.customer_key_add(customer=customer, **common)

    if saved := save_and_redirect(
        request, form, add, message=_("The key was added."), to="customer-keys", pk=customer.pk
    ):
        return saved
    return _render_keys(request, customer, key_form=form)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def customer_key_remove(request, pk, key_pk):
    customer = customer_or_404(pk)
    key = get_object_or_404(CustomerKey, pk=key_pk, customer=customer)
    try:
        keys.customer_key_remove(key=key, actor=request_actor(request), user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The key was removed."))
    return redirect("customer-keys", pk=customer.pk)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def contact_key_remove(request, pk, key_pk):
    customer = customer_or_404(pk)
    linked = CustomerContact.objects.filter(customer=customer).values("contact_id")
    key = get_object_or_404(ContactKey, pk=key_pk, contact_id__in=linked)
    keys.contact_key_remove(key=key, actor=request_actor(request), user=request.user)
    messages.success(request, _("The key was removed."))
    return redirect("customer-keys", pk=customer.pk)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def designation_add(request, pk):
    customer = customer_or_404(pk)
    form = DesignationForm(request.POST, auto_id="designation_%s")
    if saved := save_and_redirect(
        request,
        form,
        lambda: keys.designation_add(
            customer=customer,
            text=form.cleaned_data["text"],
            actor=request_actor(request),
            user=request.user,
        ),
        message=_("The designation was added."),
        to="customer-keys",
        pk=customer.pk,
    ):
        return saved
    return _render_keys(request, customer, designation_form=form)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def designation_remove(request, pk, designation_pk):
    customer = customer_or_404(pk)
    designation = get_object_or_404(PredefinedDesignation, pk=designation_pk, customer=customer)
    try:
        keys.designation_remove(
            designation=designation, actor=request_actor(request), user=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The designation was removed."))
    return redirect("customer-keys", pk=customer.pk)


@tenant_perm_required(Perm.REGISTRY_EDIT)
def id_card_edit(request, pk, card_pk=None):
    customer = customer_or_404(pk)
    card = get_object_or_404(CustomerIdCard, pk=card_pk, customer=customer) if card_pk else None
    form = IdCardForm(posted(request), customer=customer, card=card)

    def save():
        common = {"actor": request_actor(request), "user": request.user, **form.service_kwargs()}
        if card is None:
            keys.id_card_create(customer=customer, **common)
        else:
            keys.id_card_update(card=card, **common)

    if saved := save_and_redirect(
        request, form, save, message=_("The card was saved."), to="customer-keys", pk=customer.pk
    ):
        return saved
    context = base_context(request, customer) | {"form": form, "card": card}
    return render(request, "customers/parts/id_card_form.html", context)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def id_card_delete(request, pk, card_pk):
    customer = customer_or_404(pk)
    card = get_object_or_404(CustomerIdCard, pk=card_pk, customer=customer)
    try:
        keys.id_card_delete(card=card, actor=request_actor(request), user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The card was deleted."))
    return redirect("customer-keys", pk=customer.pk)


@tenant_perm_required(Perm.SETTINGS_EDIT)
def key_type_rules(request, entry_pk=None):
    """The key-type register's rules: once or many times, list of values or free text."""
    entries = ReferenceEntry.objects.filter(register=ReferenceRegister.KEY_TYPE)
    rules = {r.key_type_id: r for r in KeyTypeRule.objects.all()}
    entry = get_object_or_404(entries, pk=entry_pk) if entry_pk else None
    form = None
    if entry is not None:
        rule = rules.get(entry.pk)
        initial = {
            "allow_multiple": rule.allow_multiple if rule else False,
            "allowed_values": "\n".join(rule.allowed_values) if rule else "",
        }
        form = KeyTypeRuleForm(posted(request), initial=initial)
        if saved := save_and_redirect(
            request,
            form,
            lambda: keys.key_type_rule_set(
                key_type=entry, actor=request_actor(request), **form.cleaned_data
            ),
            message=_("Saved."),
            to="key-type-rules",
        ):
            return saved
    elif request.method == "POST":
        return redirect("key-type-rules")
    context = {
        "rows": [(e, rules.get(e.pk)) for e in entries],
        "entry": entry,
        "form": form,
    }
    return render(request, "customers/parts/key_type_rules.html", context)
