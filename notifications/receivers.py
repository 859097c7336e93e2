"""Anymail's ``tracking`` signal → message_status_update, inside the message's tenant."""

from __future__ import annotations

from anymail.signals import tracking
from django.dispatch import receiver

from tenancy.context import tenant_context

from .models import Status
from .selectors import route_tenant
from .services import message_status_update

# Anymail's normalized event types → ours. Opens and clicks prove delivery.
EVENT_MAP = {
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "opened": Status.DELIVERED,
    "clicked": Status.DELIVERED,
    "bounced": Status.UNDELIVERED,
    "rejected": Status.FAILED,
    "failed": Status.FAILED,
}


def _text(value) -> str:
    # PostgreSQL text cannot hold NUL: an ESP's odd value must not make a 500.
    return str(value or "").replace("\x00", "")


@receiver(tracking, dispatch_uid="notifications.anymail_tracking")
def on_anymail_tracking(sender, event, esp_name, **kwargs):
    # Only events through our fail-closed route (notifications/esp.py) count, and only for
    # messages sent through that same ESP.
    esp = getattr(sender, "kundreg_esp", "")
    status = EVENT_MAP.get(event.event_type)
    message_id = str(event.message_id or "")
    if not esp or status is None or not message_id or "\x00" in message_id:
        return
    provider = f"anymail:{esp}"
    tenant = route_tenant(provider=provider, provider_id=message_id)
    if tenant is None:
        return
    timestamp = event.timestamp.isoformat() if event.timestamp else ""
    event_id = _text(event.event_id) or f"{message_id}:{event.event_type}:{timestamp}"
    reject_reason = _text(event.reject_reason)
    with tenant_context(tenant):
        message_status_update(
            provider=provider,
            provider_id=message_id,
            status=status,
            event_id=event_id,
            payload={
                "esp": esp_name,
                "event_type": event.event_type,
                "event_id": _text(event.event_id),
                "message_id": message_id,
                "timestamp": timestamp,
                "reject_reason": reject_reason,
            },
            error_code=reject_reason,
        )
