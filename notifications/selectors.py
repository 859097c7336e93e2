"""Reads. ``route_tenant`` is the only cross-tenant lookup here (SMS replies: consent.replies)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

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


def sms_sender_key(sender: str | None = None) -> str:
    """Who an outbound SMS of the active tenant goes out from, as reply routing knows it.

    The tenant's own number (``NotificationSettings.sms_sender``), or ``""`` for the
    platform's shared sender (the messaging service, or ``TWILIO_FROM_NUMBER``), which
    many tenants share: a reply to it names no tenant by itself.
    """
    if sender is None:
        sender = notification_settings().sms_sender
    sender = "".join((sender or "").split())
    if not sender or sender == "".join(settings.TWILIO_FROM_NUMBER.split()):
        return ""
    return sender


def inbound_sender_key(*, to_number: str, messaging_service_sid: str = "") -> str:
    """Which of our senders an inbound SMS was written to, in ``sms_sender_key``'s terms.

    ``""`` when it reached the platform's shared sender (Twilio names the messaging
    service of the number written to); otherwise the number itself. A tenant's own
    number must therefore not also be in the platform's messaging service: a reply to
    it would read as one to the shared sender (and then need its code).
    """
    service = settings.TWILIO_MESSAGING_SERVICE_SID
    if service and messaging_service_sid == service:
        return ""
    return sms_sender_key(to_number)


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


def messages_uncertain():
    """The active tenant's messages whose send was cut off and which a person must decide."""
    return (
        OutboundMessage.objects.filter(status=Status.UNCERTAIN)
        .select_related("customer")
        .order_by("claimed_at", "pk")
    )


def sms_sent_this_month() -> int:
    """SMS the active tenant queued this calendar month (its time zone), as the cap counts."""
    import zoneinfo

    from tenancy.context import require_tenant

    row = NotificationSettings.objects.only("sms_month", "sms_month_count").first()
    tenant = require_tenant()
    month = timezone.localdate(timezone=zoneinfo.ZoneInfo(tenant.time_zone)).replace(day=1)
    return row.sms_month_count if row is not None and row.sms_month == month else 0
