"""Two-factor sign-in (issue 14, item 13): an authenticator app (TOTP) and recovery codes.

Built on django-otp: a user's second factor is one confirmed ``TOTPDevice`` (the app) and
one ``StaticDevice`` whose tokens are the recovery codes (each is deleted when it is
used). Devices belong to the user, not to a company: one enrolment serves every company
the user is a member of. A company decides only whether its administrators and
bookkeepers must have one (``Tenant.require_mfa``); the gate (``mfa_gate.py``) asks
for the code, or sends them to enrol, before any of that company's pages.

Audit entries go to every company the user is a member of (each sees what happened to
the sign-in of its own people) and hold ids and counts only, never a key or a code.
"""

from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import segno
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY, verify_token
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.actors import Actor
from audit.services import audit_record

from . import mfa_audit_text  # noqa: F401  (how the mfa.* entries read in the audit log)
from .context import each_tenant, require_tenant
from .models import Membership, Tenant
from .roles import Role

# The roles that can export and erase every customer; a company may require 2FA of them.
MFA_REQUIRED_ROLES = frozenset({Role.ADMIN, Role.BOOKKEEPER})
RECOVERY_CODE_COUNT = 10
ISSUER = "Kundreg"
APP_DEVICE_NAME = "app"
RECOVERY_DEVICE_NAME = "recovery"


# --- Reads -----------------------------------------------------------------------------


def confirmed_app_device(user) -> TOTPDevice | None:
    """The user's authenticator app, once a code from it was accepted."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_app_device(user) -> TOTPDevice | None:
    """An app device being set up: shown as a QR code until a code from it confirms it."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def role_requires_mfa(tenant: Tenant, role: str) -> bool:
    return tenant.require_mfa and role in MFA_REQUIRED_ROLES


def required_by(user) -> list[Tenant]:
    """The companies that require this user to have a second factor."""
    memberships = Membership.objects.filter(
        user=user,
        is_active=True,
        tenant__is_active=True,
        tenant__require_mfa=True,
        role__in=MFA_REQUIRED_ROLES,
    ).select_related("tenant")
    return [m.tenant for m in memberships]


def is_verified(request) -> bool:
    """The session's user entered a code from one of their devices (OTPMiddleware)."""
    verified = getattr(request.user, "is_verified", None)
    return bool(verified and verified())


@dataclass(frozen=True)
class Setup:
    """What the enrolment page shows: the secret as a QR code and as text."""

    device: TOTPDevice
    secret: str  # base32, in groups of four, for typing into an app by hand
    otpauth_url: str
    qr_svg: SafeString


def setup_for(device: TOTPDevice) -> Setup:
    secret = b32encode(device.bin_key).decode()
    label = quote(f"{ISSUER}:{device.user.get_username()}")
    params = urlencode(
        {
            "secret": secret,
            "issuer": ISSUER,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        }
    )
    url = f"otpauth://totp/{label}?{params}"
    # Inline SVG: no image request, and nothing the CSP must allow (no style attributes).
    svg = segno.make(url, error="m").svg_inline(
        scale=5, border=2, dark="#000", light="#fff", title=_("QR code for your app")
    )
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return Setup(device=device, secret=grouped, otpauth_url=url, qr_svg=mark_safe(svg))  # noqa: S308  (segno's own markup)


def totp_code(device: TOTPDevice, *, at: float | None = None) -> str:
    """The code the device's app shows now (for tests and the docs' examples)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if at is not None:
        totp.time = at
    return f"{totp.token():0{device.digits}d}"


# --- Writes ------------------------------------------------------------------------------


def _audit_in_every_company(*, user, action: str, actor: Actor, data: dict) -> None:
    """One entry in each company the user belongs to (the active one first)."""
    active = require_tenant()
    audit_record(action=action, actor=actor, object_type="user", object_id=user.pk, data=data)
    others = Tenant.objects.filter(
        memberships__user=user, memberships__is_active=True, is_active=True
    ).exclude(pk=active.pk)
    for _tenant in each_tenant(others):
        audit_record(action=action, actor=actor, object_type="user", object_id=user.pk, data=data)


@transaction.atomic
def mfa_setup_start(*, user) -> TOTPDevice:
    """A new, unconfirmed app device (or the one already waiting) with a fresh secret."""
    if has_second_factor(user):
        raise ValidationError(_("Two-factor sign-in is already on."))
    device = pending_app_device(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def normalize_code(code: str) -> str:
    """What people type: spaces and dashes between groups, any case."""
    return "".join(code.split()).replace("-", "").lower()


@transaction.atomic
def mfa_setup_confirm(*, request, user, code: str, actor: Actor) -> list[str]:
    """Confirm the app device with a code from it; returns the new recovery codes.

    The session counts as verified from now on: the user just proved they hold the app.
    """
    device = pending_app_device(user)
    if device is None:
        raise ValidationError({"code": _("Start the setup again: no app is waiting.")})
    code = normalize_code(code)
    if not (code.isascii() and code.isdigit() and len(code) == device.digits):
        raise ValidationError({"code": _("Enter the 6-digit code your app shows.")})
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        raise ValidationError(
            {"code": _("Too many wrong codes in a row. Wait a few seconds and try again.")}
        )
    if not device.verify_token(code):
        raise ValidationError({"code": _("That code is not right. Check your phone's clock.")})
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    otp_login(request, device)
    request.session.cycle_key()
    _audit_in_every_company(
        user=user,
        action="mfa.enabled",
        actor=actor,
        data={"user": user.pk, "method": "totp", "recovery_codes": len(codes)},
    )
    return codes


@transaction.atomic
def mfa_recovery_codes_generate(*, user, actor: Actor) -> list[str]:
    """New recovery codes; the old ones stop working."""
    if not has_second_factor(user):
        raise ValidationError(_("Turn two-factor sign-in on first."))
    codes = _new_recovery_codes(user)
    _audit_in_every_company(
        user=user,
        action="mfa.recovery_codes_generated",
        actor=actor,
        data={"user": user.pk, "count": len(codes)},
    )
    return codes


def _remove_devices(user) -> int:
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        _total, by_model = model.objects.filter(user=user).delete()
        removed += by_model.get(model._meta.label, 0)  # devices, not their tokens
    return removed


@transaction.atomic
def mfa_disable(*, request, user, actor: Actor) -> None:
    """The user turns their own second factor off, unless a company requires it."""
    companies = required_by(user)
    if companies:
        names = ", ".join(t.name for t in companies)
        raise ValidationError(
            _("%(companies)s requires two-factor sign-in for your role: it cannot be turned off.")
            % {"companies": names}
        )
    if not has_second_factor(user):
        return
    _remove_devices(user)
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    _audit_in_every_company(user=user, action="mfa.disabled", actor=actor, data={"user": user.pk})


@transaction.atomic
def mfa_reset(*, membership: Membership, actor_user, actor: Actor) -> int:
    """An administrator removes a member's devices (a lost phone); returns how many.

    The member signs in with the password alone until they enrol again, which the gate
    makes them do at once where a company requires it.
    """
    tenant = require_tenant()
    if membership.tenant_id != tenant.pk:
        raise ValidationError(_("Not a member of this company."))
    user = get_user_model().objects.get(pk=membership.user_id)
    if user.pk == actor_user.pk:
        raise ValidationError(
            _("You cannot reset your own two-factor sign-in here; use your own page for it.")
        )
    removed = _remove_devices(user)
    if removed:
        _audit_in_every_company(
            user=user, action="mfa.reset", actor=actor, data={"user": user.pk, "devices": removed}
        )
    return removed


# --- The second step of signing in ---------------------------------------------------------


class CodeRefused(Exception):
    """A wrong, used or throttled code; ``throttled`` when the device refuses tries for now."""

    def __init__(self, throttled: bool = False):
        super().__init__("code refused")
        self.throttled = throttled


def mfa_verify(*, request, user, code: str) -> TOTPDevice | StaticDevice:
    """Check a code from the app or a recovery code; mark the session verified.

    A recovery code is deleted as it is accepted (django-otp's StaticDevice), under a row
    lock on its device, so two requests cannot both use it. Both devices slow down
    repeated failures (django-otp's throttling doubles the wait after each one).
    """
    code = normalize_code(code)
    if not code:
        raise CodeRefused()
    app = confirmed_app_device(user)
    # The app's codes are all digits; a recovery code (8 base32 letters) may be too, rarely.
    if app is not None and code.isascii() and code.isdigit() and len(code) == app.digits:
        device = app
    else:
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise CodeRefused()
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        raise CodeRefused(throttled=True)
    verified = verify_token(user, device.persistent_id, code)
    if verified is None:
        raise CodeRefused()
    otp_login(request, verified)
    request.session.cycle_key()  # a new session id for the more trusted session
    return verified
