"""Tenant settings pages: the settings index, switch tenant, company settings, users,
registers, API keys."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.actors import Actor

from . import selectors, services
from .decorators import tenant_perm_required
from .emails import send_member_welcome
from .forms import (
    ApiKeyForm,
    MemberChangeForm,
    MemberInviteForm,
    ReferenceEntryForm,
    TenantSettingsForm,
    apply_service_errors,
)
from .middleware import SESSION_KEY
from .models import ApiKey, ReferenceEntry, ReferenceRegister, Tenant
from .roles import SETTINGS_AREA_PERMS, Perm, Role
from .url_prefix import company_url


@login_required
@require_POST
def tenant_switch(request):
    tenant_id = request.POST.get("tenant", "")
    if not (tenant_id.isascii() and tenant_id.isdigit()):  # "²" is a digit too
        raise Http404
    membership = selectors.memberships_of(request.user).filter(tenant_id=tenant_id).first()
    if membership is None:
        raise Http404
    request.session[SESSION_KEY] = membership.tenant_id
    # To the new company's home, in its own URLs: a page of the old company (``next``) would
    # name the old company, and another tab keeps acting on the company in its URL.
    return redirect(company_url(membership.tenant))


@login_required
def settings_index(request):
    """The settings area's landing page: the menu of the pages this role may open."""
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404
    if not any(membership.has_perm(perm) for perm in SETTINGS_AREA_PERMS):
        raise PermissionDenied
    return render(request, "settings/index.html")


@tenant_perm_required(Perm.SETTINGS_EDIT)
def register_index(request):
    counts = {r: 0 for r in ReferenceRegister.values}
    for entry in ReferenceEntry.objects.only("register"):
        counts[entry.register] += 1
    registers = [(value, label, counts[value]) for value, label in ReferenceRegister.choices]
    return render(request, "tenancy/register_index.html", {"registers": registers})


def _register_or_404(register: str) -> str:
    if register not in ReferenceRegister.values:
        raise Http404
    return register


@tenant_perm_required(Perm.SETTINGS_EDIT)
def register_detail(request, register, pk=None):
    register = _register_or_404(register)
    entry = get_object_or_404(ReferenceEntry, pk=pk, register=register) if pk else None
    form = ReferenceEntryForm(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        try:
            services.reference_entry_save(
                entry=entry,
                actor=Actor.user(request.user),
                register=register,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("register-detail", register=register)
    return render(
        request,
        "tenancy/register_detail.html",
        {
            "register": register,
            "register_label": ReferenceRegister(register).label,
            "entries": selectors.reference_entries(register),
            "form": form,
            "editing": entry,
        },
    )


@tenant_perm_required(Perm.API_KEYS_MANAGE)
def api_key_list(request):
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _obj, new_key = services.api_key_create(
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                actor=Actor.user(request.user),
                created_by=request.user,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            form = ApiKeyForm()
    return render(
        request,
        "tenancy/api_keys.html",
        {"keys": selectors.api_key_list(), "form": form, "new_key": new_key},
    )


@tenant_perm_required(Perm.API_KEYS_MANAGE)
@require_POST
def api_key_revoke(request, prefix):
    key = get_object_or_404(ApiKey, prefix=prefix)
    services.api_key_revoke(key=key, actor=Actor.user(request.user))
    messages.success(request, _("The key %(prefix)s is revoked.") % {"prefix": key.prefix})
    return redirect("api-keys")


@tenant_perm_required(Perm.SETTINGS_EDIT)
def tenant_settings(request):
    tenant = request.tenant
    form = TenantSettingsForm(
        request.POST or None, request.FILES or None, instance=Tenant.objects.get(pk=tenant.pk)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.tenant_update(
                tenant=tenant, actor=Actor.user(request.user), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Company settings saved."))
            return redirect("tenant-settings")
    return render(request, "tenancy/tenant_settings.html", {"form": form})


@tenant_perm_required(Perm.USERS_MANAGE)
def member_list(request):
    form = MemberInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership, is_new = services.member_invite(
                actor=Actor.user(request.user), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            email = form.cleaned_data["email"]
            if is_new:
                welcome = partial(
                    send_member_welcome,
                    user=membership.user,
                    tenant=request.tenant,
                    language=request.LANGUAGE_CODE,
                )
                transaction.on_commit(welcome)
            messages.success(request, _("%(email)s was added.") % {"email": email})
            return redirect("members")
    return render(
        request,
        "tenancy/members.html",
        {
            "members": selectors.members_of_current_tenant(),
            "form": form,
            "roles": Role.choices,
        },
    )


@tenant_perm_required(Perm.USERS_MANAGE)
@require_POST
def member_change(request, pk):
    membership = get_object_or_404(selectors.members_of_current_tenant(), pk=pk)
    form = MemberChangeForm(request.POST)
    if form.is_valid():
        try:
            services.member_change(
                membership=membership, actor=Actor.user(request.user), **form.cleaned_data
            )
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
        else:
            messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Choose a valid role."))
    return redirect("members")
