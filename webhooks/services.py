"""Use cases that write: events, endpoints and their administration, replays.

Sending lives in webhooks/delivery.py (claim, call, record).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record
from tenancy.context import require_tenant

from . import signing
from .models import DeliveryStatus, Event, EventType, WebhookDelivery, WebhookEndpoint
from .targets import target_check


def _enqueue(delivery: WebhookDelivery, *, countdown: float | None = None) -> None:
    from .tasks import deliver

    deliver.apply_async(
        kwargs={"delivery_id": delivery.pk, "tenant_id": delivery.tenant_id}, countdown=countdown
    )


@transaction.atomic
def event_record(*, type: str, object_type: str, object_id: str, data: dict) -> Event:
    """Append an event to the active tenant's feed and queue it to subscribed endpoints."""
    return events_record([(type, object_type, object_id, data)])[0]


@transaction.atomic
def events_record(specs: list[tuple[str, str, str, dict]]) -> list[Event]:
    """Append events ``(type, object type, object id, data)`` in a few statements whatever
    their number (an anonymization chunk means one per customer), and queue each to the
    endpoints that subscribe to its type once the transaction commits."""
    if not specs:
        return []
    tenant = require_tenant()  # bulk_create does not call save(), which would set it
    events = Event.objects.bulk_create(
        [
            Event(
                tenant=tenant,
                type=type_,
                object_type=object_type,
                object_id=str(object_id),
                data=data,
            )
            for type_, object_type, object_id, data in specs
        ]
    )
    types = sorted({e.type for e in events})
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True, event_types__overlap=types))
    if endpoints:
        now = timezone.now()
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(tenant=tenant, endpoint=endpoint, event=event, next_attempt_at=now)
                for event in events
                for endpoint in endpoints
                if event.type in endpoint.event_types
            ]
        )
        transaction.on_commit(lambda: [_enqueue(delivery) for delivery in deliveries])
    return events


def _clean_event_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EventType.values))
    if unknown:
        raise ValidationError(
            {"event_types": _("Unknown event type: %(t)s.") % {"t": ", ".join(unknown)}}
        )
    if not event_types:
        raise ValidationError({"event_types": _("Choose at least one event.")})
    return sorted(set(event_types))


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": _("Enter the address that receives the webhooks.")})
    target_check(url)
    return url


def _clean(*, url: str, event_types: list[str]) -> tuple[str, list[str]]:
    """Both fields' errors at once. Resolves the host name: call outside a transaction."""
    errors: dict[str, list[str]] = {}
    for name, clean, value in (
        ("url", _clean_url, url),
        ("event_types", _clean_event_types, event_types),
    ):
        try:
            value = clean(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if name == "url":
            url = value
        else:
            event_types = value
    if errors:
        raise ValidationError(errors)
    return url, event_types


def endpoint_create(
    *, url: str, event_types: list[str], actor: Actor, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint; returns it and its signing secret, which is shown only now."""
    url, event_types = _clean(url=url, event_types=event_types)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url,
            event_types=event_types,
            description=description.strip()[:200],
            secret=signing.secret_generate(),
        )
        audit_record(
            action="webhook.created",
            actor=actor,
            object_type="webhook",
            object_id=endpoint.pk,
            data={"event_types": endpoint.event_types},
        )
    return endpoint, endpoint.secret


def endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, event_types: list[str], description: str, actor: Actor
) -> WebhookEndpoint:
    url, event_types = _clean(url=url, event_types=event_types)
    with transaction.atomic():
        endpoint.url = url
        endpoint.event_types = event_types
        endpoint.description = description.strip()[:200]
        endpoint.save(update_fields=["url", "event_types", "description"])
        audit_record(
            action="webhook.updated",
            actor=actor,
            object_type="webhook",
            object_id=endpoint.pk,
            data={"event_types": endpoint.event_types},
        )
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor: Actor) -> str:
    """A new secret, effective for the next attempt; returned to be shown once."""
    endpoint.secret = signing.secret_generate()
    endpoint.save(update_fields=["secret"])
    audit_record(
        action="webhook.secret_rotated", actor=actor, object_type="webhook", object_id=endpoint.pk
    )
    return endpoint.secret


@transaction.atomic
def endpoint_set_active(
    *, endpoint: WebhookEndpoint, active: bool, actor: Actor, reason: str = ""
) -> WebhookEndpoint:
    """Switch an endpoint on (its failure count starts again) or off (with the reason)."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.is_active == active:
        return endpoint
    endpoint.is_active = active
    endpoint.disabled_reason = "" if active else reason[:200]
    if active:
        endpoint.consecutive_failures = 0
    endpoint.save(update_fields=["is_active", "disabled_reason", "consecutive_failures"])
    audit_record(
        action="webhook.enabled" if active else "webhook.disabled",
        actor=actor,
        object_type="webhook",
        object_id=endpoint.pk,
        data={} if active else {"failures": endpoint.consecutive_failures},
    )
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, actor: Actor) -> None:
    pk = endpoint.pk
    endpoint.delete()  # its deliveries go with it; the events stay in the feed
    audit_record(action="webhook.deleted", actor=actor, object_type="webhook", object_id=pk)


@transaction.atomic
def delivery_replay(*, delivery: WebhookDelivery, actor: Actor) -> WebhookDelivery:
    """Send a delivery's event to its endpoint once more, as a new delivery."""
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        raise ValidationError(_("Switch the endpoint on before replaying to it."))
    replay = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=delivery.event_id,
        replay_of=delivery.pk,
        status=DeliveryStatus.PENDING,
        next_attempt_at=timezone.now(),
    )
    audit_record(
        action="webhook.replayed",
        actor=actor,
        object_type="webhook.delivery",
        object_id=replay.pk,
        data={"replay_of": delivery.pk, "event_id": delivery.event_id},
    )
    _enqueue(replay)
    return replay
