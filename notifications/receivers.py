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


@receiver(tracking, dispatch_uid="notifications.anymail_tracking")
def on_anymail_tracking(sender, event, esp_name, **kwargs):
    status = EVENT_MAP.get(event.event_type)
    if status is None or not event.message_id:
        return
    tenant = route_tenant(provider="anymail:*", provider_id=str(event.message_id))
    if tenant is None:
        return
    timestamp = event.timestamp.isoformat() if event.timestamp else ""
    event_id = event.event_id or f"{event.message_id}:{event.event_type}:{timestamp}"
    with tenant_context(tenant):
        message_status_update(
            provider="anymail:*",
            provider_id=str(event.message_id),
            status=status,
            event_id=str(event_id),
            payload={
                "esp": esp_name,
                "event_type": event.event_type,
                "event_id": event.event_id or "",
                "message_id": event.message_id,
                "timestamp": timestamp,
                "reject_reason": event.reject_reason or "",
            },
            error_code=event.reject_reason or "",
        )
