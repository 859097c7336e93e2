"""API authentication and permissions: an Api-Key header or a signed-in browser session."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions, throttling

from .client_ip import client_ip
from .middleware import enter_tenant
from .models import ApiKey
from .roles import Perm, role_has_perm
from .services import api_key_touch

KEYWORD = "Api-Key"

# What a browser session needs in place of an API key's scope.
SCOPE_PERMS = {
    "customers:read": Perm.REGISTRY_VIEW,
    "customers:pick": Perm.CUSTOMER_PICK,
    "customers:write": Perm.REGISTRY_EDIT,
    "consent:write": Perm.CONSENT_REQUEST,
    "consent:admin": Perm.CONSENT_TERMS_EDIT,
    "sales:write": Perm.REGISTRY_EDIT,
    "anonymization:read": Perm.ANONYMIZE,
    "audit:read": Perm.AUDIT_VIEW,
}


def _find_key(prefix: str) -> ApiKey | None:
    # Row security shows an API key row outside its tenant only to whoever
    # already holds its prefix (part of the secret key), for this lookup only.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.api_key_prefix', %s, true)", [prefix])
        key = (
            ApiKey.objects.with_scopes_disabled()
            .select_related("tenant")
            .filter(prefix=prefix)
            .first()
        )
        cursor.execute("SELECT set_config('app.api_key_prefix', '', true)")
    return key


class FailedKeyThrottle(throttling.SimpleRateThrottle):
    """Failed API-key attempts per client address (API_KEY_FAILURE_RATE), in a fixed window.

    Counted per address, never per key or tenant, so someone guessing cannot lock a
    company's real keys out; a blocked address gets 429 before any lookup or hashing.
    Concurrent attempts may overshoot the limit by the number in flight.
    """

    scope = "api_key_failure"

    def get_rate(self):
        return settings.API_KEY_FAILURE_RATE

    def _window(self, request) -> tuple[str, float]:
        now = self.timer()
        start = int(now // self.duration * self.duration)
        ident = client_ip(request) or "unknown"
        key = self.cache_format % {"scope": self.scope, "ident": f"{ident}:{start}"}
        return key, start + self.duration - now

    def blocked_for(self, request) -> float | None:
        """Seconds until the address may try again, or None when it may now."""
        key, remaining = self._window(request)
        if (self.cache.get(key) or 0) >= self.num_requests:
            return remaining
        return None

    def record_failure(self, request) -> None:
        key, remaining = self._window(request)
        timeout = int(remaining) + 1  # the key names its window: gone when the window is
        self.cache.add(key, 0, timeout=timeout)
        try:
            self.cache.incr(key)
        except ValueError:  # expired between add and incr
            self.cache.set(key, 1, timeout=timeout)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _sep, raw = header.partition(" ")
        if keyword != KEYWORD:
            return None
        throttle = FailedKeyThrottle()
        wait = throttle.blocked_for(request)
        if wait is not None:
            detail = _("Too many failed API-key attempts from this address.")
            raise exceptions.Throttled(wait, str(detail))
        raw = raw.strip()
        prefix, dot, _secret = raw.partition(".")
        well_formed = dot and prefix.isascii() and prefix.isalnum() and len(prefix) <= 8
        key = _find_key(prefix) if well_formed else None
        if (
            key is None
            or key.revoked
            or key.has_expired
            or not key.tenant.is_active
            or not key.is_valid(raw)
        ):
            throttle.record_failure(request)
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        enter_tenant(request, key.tenant)
        request._request.api_key = key
        api_key_touch(key=key)
        return AnonymousUser(), key

    def authenticate_header(self, request):
        return KEYWORD


class TenantSessionAuthentication(authentication.SessionAuthentication):
    """A signed-in user with an active tenant (chosen by the tenant middleware)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or getattr(request._request, "membership", None) is None:
            return None
        return result


def _principal_allows(request, scope: str, session_perm: str | None = None) -> bool:
    key = getattr(request._request, "api_key", None)
    if key is not None:
        return key.has_scope(scope)
    membership = getattr(request._request, "membership", None)
    perm = session_perm or SCOPE_PERMS[scope]
    return membership is not None and role_has_perm(membership.role, perm)


def principal_allows_any(request, scopes: tuple[str, ...], session_perm: str) -> bool:
    """An API key with any of ``scopes``, or a signed-in user whose role has ``session_perm``."""
    return any(_principal_allows(request, scope, session_perm) for scope in scopes)


class HasTenant(permissions.BasePermission):
    """Every API view needs a tenant: from the key, or from the signed-in user's membership."""

    def has_permission(self, request, view):
        django_request = request._request
        signed_in = getattr(django_request, "api_key", None) is not None or (
            request.user is not None and request.user.is_authenticated
        )
        if getattr(django_request, "tenant", None) is None or not signed_in:
            raise exceptions.NotAuthenticated()
        return True


class HasScope(HasTenant):
    """The view's ``required_scopes`` = {"read": scope, "write": scope}.

    A signed-in user needs the role permission the scope maps to (SCOPE_PERMS), or
    the view's ``session_perms`` = {"read"/"write": Perm} where the browser's rule
    for the same data is stricter.
    """

    message = _("This API key or user lacks the scope this needs.")

    def has_permission(self, request, view):
        super().has_permission(request, view)
        kind = "read" if request.method in permissions.SAFE_METHODS else "write"
        scope = getattr(view, "required_scopes", {}).get(kind)
        if scope is None:
            return True
        return _principal_allows(request, scope, getattr(view, "session_perms", {}).get(kind))
