"""Two-factor sign-in pages: the user's own set-up (Settings > Users), an administrator's
reset of a member's lost device, and the code step after the password (tenancy/mfa.py)."""

from __future__ import annotations

from functools import wraps

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.actors import Actor

from . import mfa, selectors
from .decorators import tenant_perm_required
from .forms import apply_service_errors
from .roles import Perm


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


def member_required(view):
    """A signed-in member of the active company, whatever their role."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if getattr(request, "membership", None) is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _setup_page(request, form=None, status=200):
    user = request.user
    enabled = mfa.has_second_factor(user)
    pending = None if enabled else mfa.pending_app_device(user)
    required = mfa.required_by(user)
    membership = request.membership
    return render(
        request,
        "settings/mfa.html",
        {
            "enabled": enabled,
            "setup": mfa.setup_for(pending) if pending is not None else None,
            "form": form or CodeForm(),
            "codes_left": mfa.recovery_codes_left(user) if enabled else 0,
            "required_by": required,
            "required_here": mfa.role_requires_mfa(membership.tenant, membership.role),
        },
        status=status,
    )


@member_required
def mfa_setup(request):
    return _setup_page(request)


@member_required
@require_POST
def mfa_start(request):
    try:
        mfa.mfa_setup_start(user=request.user)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    return redirect("mfa-setup")


@member_required
@require_POST
def mfa_confirm(request):
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            codes = mfa.mfa_setup_confirm(
                request=request,
                user=request.user,
                code=form.cleaned_data["code"],
                actor=Actor.user(request.user),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Two-factor sign-in is on."))
            return render(request, "settings/mfa_codes.html", {"codes": codes})
    return _setup_page(request, form=form, status=200)


@member_required
@require_POST
def mfa_recovery_codes(request):
    try:
        codes = mfa.mfa_recovery_codes_generate(user=request.user, actor=Actor.user(request.user))
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return redirect("mfa-setup")
    return render(request, "settings/mfa_codes.html", {"codes": codes})


@member_required
@require_POST
def mfa_disable(request):
    try:
        mfa.mfa_disable(request=request, user=request.user, actor=Actor.user(request.user))
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, _("Two-factor sign-in is off."))
    return redirect("mfa-setup")


@tenant_perm_required(Perm.USERS_MANAGE)
@require_POST
def mfa_reset(request, pk):
    membership = get_object_or_404(selectors.members_of_current_tenant(), pk=pk)
    try:
        removed = mfa.mfa_reset(
            membership=membership, actor_user=request.user, actor=Actor.user(request.user)
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        email = membership.user.email
        if removed:
            messages.success(
                request,
                _("The two-factor sign-in of %(email)s is reset: they set it up again.")
                % {"email": email},
            )
        else:
            messages.info(request, _("%(email)s has no two-factor sign-in.") % {"email": email})
    return redirect("members")


# --- The code step after the password ------------------------------------------------------


def _next_url(request) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("home")


@login_required
def mfa_verify(request):
    """The second step: a code from the app or a recovery code.

    Wrong codes count as failed sign-ins for django-axes (the same username-and-address
    lockout as wrong passwords); on lockout the half-signed-in session ends.
    """
    user = request.user
    next_url = _next_url(request)
    if mfa.is_verified(request) or not mfa.has_second_factor(user):
        return redirect(next_url)
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        logout(request)
        return get_lockout_response(request, None, credentials)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mfa.mfa_verify(request=request, user=user, code=form.cleaned_data["code"])
        except mfa.CodeRefused as refused:
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if getattr(request, "axes_locked_out", False):
                logout(request)
                return get_lockout_response(request, None, credentials)
            form.add_error(
                "code",
                _("Too many wrong codes in a row. Wait a few seconds and try again.")
                if refused.throttled
                else _("That code is not right, or it was used already."),
            )
        else:
            AxesProxyHandler.reset_attempts(
                ip_address=request.axes_ip_address, username=user.get_username()
            )
            return redirect(next_url)
    return render(request, "registration/otp_verify.html", {"form": form, "next": next_url})
