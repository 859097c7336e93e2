"""The card's parts: keys and cards, files and links, the activity feed, the registry update.

Thin views: look the customer up in the active tenant (another tenant's id is a
404), parse a form, call a service, render. Writes answer with a redirect
(post/redirect/get), or, when htmx asked, with the refreshed partial.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.actors import Actor
from tenancy.decorators import tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.models import ReferenceEntry, ReferenceRegister
from tenancy.roles import Perm

from .. import registry_lookup
from ..forms_parts import (
    ActivityForm,
    AttachmentFileForm,
    AttachmentLinkForm,
    DesignationForm,
    IdCardForm,
    KeyAddForm,
    KeyTypeRuleForm,
    RegistryUpdateForm,
)
from ..models import (
    Activity,
    ActivityKind,
    Attachment,
    ContactKey,
    Customer,
    CustomerContact,
    CustomerIdCard,
    CustomerKey,
    KeyTypeRule,
    PredefinedDesignation,
)
from ..registry_lookup.services import customer_registry_update, registry_proposals
from ..selectors import activity_feed, contacts_of
from ..services import activities, attachments, keys

# --- helpers ---------------------------------------------------------------------------


def _customer(pk: int) -> Customer:
    return get_object_or_404(Customer, pk=pk)


def _card_url(customer: Customer) -> str:
    try:
        return reverse("customer-card", kwargs={"pk": customer.pk})
    except NoReverseMatch:  # the card shell is another module's; its path is fixed
        return f"/customers/{customer.pk}/"


def _can_edit(request) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.has_perm(Perm.REGISTRY_EDIT)


def _actor(request) -> Actor:
    return Actor.user(request.user)


def _posted(request):
    """The POST data, or None on GET (an empty POST is still a submission)."""
    return request.POST if request.method == "POST" else None


def _base_context(request, customer: Customer) -> dict:
    return {"customer": customer, "card_url": _card_url(customer), "can_edit": _can_edit(request)}


# --- Keys and cards ----------------------------------------------------------------------


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
    context = _base_context(request, customer) | {
        "customer_keys": customer.keys.select_related("key_type"),
        "contacts": contacts,
        "key_types": key_types,
        "designations": customer.designations.all(),
        "id_cards": customer.id_cards.select_related("default_consignee", "warehouse"),
        "key_form": key_form,
        "designation_form": designation_form or DesignationForm(auto_id="designation_%s"),
        "today": timezone.localdate(),
    }
    return render(request, "customers/parts/keys.html", context)


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_GET
def customer_keys(request, pk):
    return _render_keys(request, _customer(pk))


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def key_add(request, pk):
    customer = _customer(pk)
    form = KeyAddForm(request.POST, customer=customer)
    if form.is_valid():
        contact = form.cleaned_data["contact"]
        common = {
            "key_type": form.cleaned_data["key_type"],
            "value": form.cleaned_data["value"],
            "actor": _actor(request),
            "user": request.user,
        }
        try:
            if contact is not None:
                keys.contact_key_add(contact=contact, **common)
            else:
                keys.customer_key_add(customer=customer, **common)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The key was added."))
            return redirect("customer-keys", pk=customer.pk)
    return _render_keys(request, customer, key_form=form)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def customer_key_remove(request, pk, key_pk):
    customer = _customer(pk)
    key = get_object_or_404(CustomerKey, pk=key_pk, customer=customer)
    try:
        keys.customer_key_remove(key=key, actor=_actor(request), user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The key was removed."))
    return redirect("customer-keys", pk=customer.pk)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def contact_key_remove(request, pk, key_pk):
    customer = _customer(pk)
    linked = CustomerContact.objects.filter(customer=customer).values("contact_id")
    key = get_object_or_404(ContactKey, pk=key_pk, contact_id__in=linked)
    keys.contact_key_remove(key=key, actor=_actor(request), user=request.user)
    messages.success(request, _("The key was removed."))
    return redirect("customer-keys", pk=customer.pk)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def designation_add(request, pk):
    customer = _customer(pk)
    form = DesignationForm(request.POST, auto_id="designation_%s")
    if form.is_valid():
        try:
            keys.designation_add(
                customer=customer,
                text=form.cleaned_data["text"],
                actor=_actor(request),
                user=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The designation was added."))
            return redirect("customer-keys", pk=customer.pk)
    return _render_keys(request, customer, designation_form=form)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def designation_remove(request, pk, designation_pk):
    customer = _customer(pk)
    designation = get_object_or_404(PredefinedDesignation, pk=designation_pk, customer=customer)
    try:
        keys.designation_remove(designation=designation, actor=_actor(request), user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The designation was removed."))
    return redirect("customer-keys", pk=customer.pk)


@tenant_perm_required(Perm.REGISTRY_EDIT)
def id_card_edit(request, pk, card_pk=None):
    customer = _customer(pk)
    card = get_object_or_404(CustomerIdCard, pk=card_pk, customer=customer) if card_pk else None
    form = IdCardForm(_posted(request), customer=customer, card=card)
    if request.method == "POST" and form.is_valid():
        common = {"actor": _actor(request), "user": request.user, **form.service_kwargs()}
        try:
            if card is None:
                keys.id_card_create(customer=customer, **common)
            else:
                keys.id_card_update(card=card, **common)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The card was saved."))
            return redirect("customer-keys", pk=customer.pk)
    context = _base_context(request, customer) | {"form": form, "card": card}
    return render(request, "customers/parts/id_card_form.html", context)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def id_card_delete(request, pk, card_pk):
    customer = _customer(pk)
    card = get_object_or_404(CustomerIdCard, pk=card_pk, customer=customer)
    try:
        keys.id_card_delete(card=card, actor=_actor(request), user=request.user)
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
        form = KeyTypeRuleForm(_posted(request), initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                keys.key_type_rule_set(key_type=entry, actor=_actor(request), **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("key-type-rules")
    elif request.method == "POST":
        return redirect("key-type-rules")
    context = {
        "rows": [(e, rules.get(e.pk)) for e in entries],
        "entry": entry,
        "form": form,
    }
    return render(request, "customers/parts/key_type_rules.html", context)


# --- Files and links ---------------------------------------------------------------------


def _render_files(request, customer, *, file_form=None, link_form=None):
    context = _base_context(request, customer) | {
        "attachments": customer.attachments.select_related("created_by"),
        "file_form": file_form or AttachmentFileForm(auto_id="file_%s"),
        "link_form": link_form or AttachmentLinkForm(auto_id="link_%s"),
        "max_bytes": attachments.max_bytes(),
        "extensions": attachments.allowed_extensions(),
    }
    return render(request, "customers/parts/files.html", context)


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_GET
def customer_files(request, pk):
    return _render_files(request, _customer(pk))


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def file_add(request, pk):
    customer = _customer(pk)
    form = AttachmentFileForm(request.POST, request.FILES, auto_id="file_%s")
    if form.is_valid():
        try:
            attachments.attachment_add_file(
                customer=customer,
                uploaded_file=form.cleaned_data["file"],
                name=form.cleaned_data["name"],
                actor=_actor(request),
                user=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The file was added."))
            return redirect("customer-files", pk=customer.pk)
    return _render_files(request, customer, file_form=form)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def link_add(request, pk):
    customer = _customer(pk)
    form = AttachmentLinkForm(request.POST, auto_id="link_%s")
    if form.is_valid():
        try:
            attachments.attachment_add_link(
                customer=customer,
                url=form.cleaned_data["url"],
                name=form.cleaned_data["name"],
                actor=_actor(request),
                user=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The link was added."))
            return redirect("customer-files", pk=customer.pk)
    return _render_files(request, customer, link_form=form)


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def attachment_delete(request, pk, attachment_pk):
    customer = _customer(pk)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, customer=customer)
    attachments.attachment_delete(attachment=attachment, actor=_actor(request), user=request.user)
    messages.success(request, _("Deleted."))
    return redirect("customer-files", pk=customer.pk)


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_GET
def file_download(request, pk, attachment_pk):
    """Stream a stored file as a download (never inline, never sniffed as something else)."""
    customer = _customer(pk)
    attachment = get_object_or_404(Attachment, pk=attachment_pk, customer=customer)
    if not attachment.file:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except OSError as exc:  # the row outlived its file
        raise Http404 from exc
    ext = os.path.splitext(attachment.file.name)[1].lower()
    filename = attachment.name if attachment.name.lower().endswith(ext) else attachment.name + ext
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Activities --------------------------------------------------------------------------


def _feed(customer) -> dict:
    feed = activity_feed(customer)
    # Newest first on the completed side: done tasks by completion, notes by writing.
    feed["completed"] = sorted(
        feed["completed"], key=lambda a: a.done_at or a.created_at, reverse=True
    )
    return feed


def _render_activities(request, customer, *, forms=None, status=200):
    forms = forms or {}
    context = _base_context(request, customer) | _feed(customer)
    context |= {
        "note_form": forms.get("note") or ActivityForm(customer=customer, kind=ActivityKind.NOTE),
        "task_form": forms.get("task") or ActivityForm(customer=customer, kind=ActivityKind.TASK),
        "today": timezone.localdate(),
    }
    # htmx asks from the card shell (which loads the feed) or from our own page (a swap).
    page = urlsplit(request.htmx.current_url or "").path if request.htmx else ""
    own_page = reverse("customer-activities", kwargs={"pk": customer.pk})
    context["in_card"] = bool(request.htmx) and page != own_page
    template = (
        "customers/parts/_activity_feed.html" if request.htmx else "customers/parts/activities.html"
    )
    return render(request, template, context, status=status)


def _after_activity_write(request, customer):
    if request.htmx:
        return _render_activities(request, customer)
    return redirect("customer-activities", pk=customer.pk)


@tenant_perm_required(Perm.REGISTRY_VIEW)
@require_GET
def customer_activities(request, pk):
    return _render_activities(request, _customer(pk))


@tenant_perm_required(Perm.REGISTRY_EDIT)
@require_POST
def activity_add(request, pk):
    customer = _customer(pk)
    kind = request.POST.get("kind")
    if kind not in ActivityKind.values:
        kind = ActivityKind.NOTE
    form = ActivityForm(request.POST, customer=customer, kind=kind)
    if form.is_valid():
        data = form.cleaned_data
        try:
            activities.activity_add(
                customer=customer,
                kind=data["kind"],
                subject=data["subject"],
                body=data["body"],
                contact=data["contact"],
                due_date=data.get("due_date"),
                actor=_actor(request),
                user=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, _("Saved."))
            return _after_activity_write(request, customer)
    return _render_activities(request, customer, forms={kind: form})


def _activity_action(service, done_message):
    @tenant_perm_required(Perm.REGISTRY_EDIT)
    @require_POST
    def view(request, pk, activity_pk):
        customer = _customer(pk)
        activity = get_object_or_404(Activity, pk=activity_pk, customer=customer)
        try:
            service(activity=activity, actor=_actor(request), user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if not request.htmx:
                messages.success(request, done_message())
        return _after_activity_write(request, customer)

    return view


activity_complete = _activity_action(activities.activity_complete, lambda: _("Marked as done."))
activity_reopen = _activity_action(activities.activity_reopen, lambda: _("Reopened."))
activity_delete = _activity_action(activities.activity_delete, lambda: _("Deleted."))


# --- Update from the business registry ------------------------------------------------------


@tenant_perm_required(Perm.REGISTRY_EDIT)
def registry_update(request, pk):
    """Show the registry's values beside the card's; apply the ticked ones (NO and FI only)."""
    customer = _customer(pk)
    context = _base_context(request, customer)
    country = (customer.country or "").upper()
    number = registry_lookup.registry_number(customer)
    if country not in registry_lookup.SUPPORTED_COUNTRIES:
        context["problem"] = _(
            "Updating from the business registry is available for customers in Norway and "
            "Finland only."
        )
    elif not number:
        context["problem"] = _(
            "Add a valid organisation number or VAT number to the customer first."
        )
    else:
        try:
            record = registry_lookup.lookup(country, number)
        except registry_lookup.RegistryUnavailable:
            context["problem"] = _(
                "The business registry is unavailable right now. Nothing was changed; "
                "try again later."
            )
        else:
            if record is None:
                context["problem"] = _(
                    "The business registry has no company with the number %(number)s."
                ) % {"number": number}
            else:
                return _registry_form(request, customer, record, context)
    return render(request, "customers/parts/registry_update.html", context)


def _registry_form(request, customer, record, context):
    proposals = registry_proposals(customer=customer, record=record)
    form = RegistryUpdateForm(_posted(request), proposals=proposals)
    if request.method == "POST" and form.is_valid():
        if not form.chosen():
            form.add_error(None, _("Tick at least one field to update."))
        else:
            try:
                applied = customer_registry_update(
                    customer=customer,
                    record=record,
                    fields=form.chosen(),
                    actor=_actor(request),
                    user=request.user,
                )
            except ValidationError as exc:
                customer.refresh_from_db()  # customer_update may have set values it then refused
                apply_service_errors(form, exc)
            else:
                if applied:
                    messages.success(request, _("The customer was updated from the registry."))
                else:
                    messages.info(request, _("Nothing needed updating."))
                return redirect(_card_url(customer))
    context |= {"record": record, "proposals": proposals, "form": form}
    return render(request, "customers/parts/registry_update.html", context)
