"""Reads. ``route_tenant`` and ``inbound_sms_owner`` are the only cross-tenant lookups here."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tenancy.context import each_tenant
from tenancy.memo import memoized
from tenancy.models import Tenant

from .models import Channel, NotificationSettings, OutboundMessage, ProviderRoute, Status


def notification_settings() -> NotificationSettings:
    """The active tenant's settings (defaults when none are stored: SMS off)."""
    row = memoized(("notifications.settings",), NotificationSettings.objects.first)
    return row or NotificationSettings()


def message_list(*, reference: str | None = None):
    qs = OutboundMessage.objects.all()
    if reference is not None:
        qs = qs.filter(reference=reference)
    return qs


def route_tenant(*, provider: str, provider_id: str) -> Tenant | None:
    """CROSS-TENANT: which tenant owns a provider's message id (ids only, no content).

    ``provider`` may end in ``*`` to match a prefix, e.g. ``"anymail:*"``.
    """
    if not provider_id:
        return None
    qs = ProviderRoute.objects.filter(provider_id=provider_id)
    if provider.endswith("*"):
        qs = qs.filter(provider__startswith=provider[:-1])
    else:
        qs = qs.filter(provider=provider)
    route = qs.select_related("tenant").first()
    return route.tenant if route and route.tenant.is_active else None


def inbound_sms_owner(*, from_number: str, to_number: str) -> tuple[Tenant, int | None] | None:
    """CROSS-TENANT: the tenant an inbound SMS answers, via each_tenant.

    The tenant whose latest SMS to ``from_number`` is the most recent wins; a
    tenant whose own sender number is ``to_number`` is preferred. Returns the
    tenant and that message's id. Visits every active tenant: fine at our scale;
    a routing row per destination would avoid it.
    """
    best = None  # (sender matches, sent at, tenant, message id)
    for tenant in each_tenant(Tenant.objects.filter(is_active=True)):
        message = (
            OutboundMessage.objects.filter(channel=Channel.SMS, destination=from_number)
            .exclude(sent_at=None)
            .order_by("-sent_at")
            .first()
        )
        if message is None:
            continue
        candidate = (
            notification_settings().sms_sender == to_number,
            message.sent_at,
            tenant,
            message.pk,
        )
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return (best[2], best[3]) if best else None


def pending_sms(*, older_than_minutes: int, max_age_days: int = 3):
    """The active tenant's SMS still ``sending``/``sent`` after a while: their callback is late."""
    now = timezone.now()
    return OutboundMessage.objects.filter(
        channel=Channel.SMS,
        provider="twilio",
        status__in=[Status.SENDING, Status.SENT],
        sent_at__lt=now - timedelta(minutes=older_than_minutes),
        sent_at__gt=now - timedelta(days=max_age_days),
    ).exclude(provider_id="")
