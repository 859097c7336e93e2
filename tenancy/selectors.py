"""Reads of the tenancy app."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from .models import ApiKey, Membership, ReferenceEntry


def memberships_of(user) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, is_active=True, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__name")
    )


def membership_for_session(user, tenant_id) -> Membership | None:
    """The membership the session chose, or the user's first one."""
    memberships = memberships_of(user)
    if tenant_id is not None:
        chosen = memberships.filter(tenant_id=tenant_id).first()
        if chosen is not None:
            return chosen
    return memberships.first()


def api_key_list() -> QuerySet[ApiKey]:
    return ApiKey.objects.order_by("revoked", "-created")


def reference_entries(register: str, *, active_only: bool = False) -> QuerySet[ReferenceEntry]:
    qs = ReferenceEntry.objects.filter(register=register)
    return qs.filter(is_active=True) if active_only else qs


def members_of_current_tenant() -> QuerySet[Membership]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .context import require_tenant

    # has_mfa: the Users page shows who signed up for two-factor sign-in (tenancy/mfa.py).
    app = TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)
    return (
        Membership.objects.filter(tenant=require_tenant())
        .select_related("user")
        .annotate(has_mfa=Exists(app))
        .order_by("-is_active", "user__email")
    )


def number_series_next(*, series: str, start: int = 1) -> int:
    """The number the active tenant's ``series`` gives next (``start`` before its first)."""
    from .models import NumberSeries

    row = NumberSeries.objects.filter(key=series).only("next_value").first()
    return row.next_value if row is not None else start
