"""Sending one delivery: claim and commit, call the endpoint, then record the outcome.

No network call runs inside a transaction (docs/design.md invariant 5). The claim moves
``next_attempt_at`` forward by WEBHOOKS_CLAIM_SECONDS, so a second task (a duplicate or
the sweep's) finds nothing to do, and a worker that dies mid-send is retried by the sweep.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import Actor

from . import signing
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from .targets import target_check

DUE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
SYSTEM = Actor.system("webhooks")


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    url: str
    secret: str
    msg_id: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    ok: bool
    code: int | None = None
    ms: int | None = None
    error: str = ""


def _claim(delivery_id: int) -> Claim | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, status__in=DUE_STATUSES, next_attempt_at__lte=now)
            .select_related("endpoint", "event", "event__tenant")
            .first()
        )
        if delivery is None:
            return None
        if not delivery.endpoint.is_active:
            delivery.status = DeliveryStatus.GAVE_UP
            delivery.error = "endpoint disabled"
            delivery.next_attempt_at = None
            delivery.save(update_fields=["status", "error", "next_attempt_at", "updated_at"])
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + timedelta(seconds=settings.WEBHOOKS_CLAIM_SECONDS)
        delivery.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
        event = delivery.event
        body = json.dumps(event.payload(), cls=DjangoJSONEncoder, separators=(",", ":"))
        return Claim(
            delivery_id=delivery.pk,
            url=delivery.endpoint.url,
            secret=delivery.endpoint.secret,
            msg_id=f"evt_{event.pk}",  # the same on retries and replays: receivers dedupe
            body=body.encode(),
        )


def _send(claim: Claim) -> Outcome:
    try:
        target_check(claim.url)  # again: the name may resolve somewhere else by now
    except ValidationError:
        return Outcome(ok=False, error="refused: not a public address")
    started = time.monotonic()
    try:
        response = requests.post(
            claim.url,
            data=claim.body,
            headers=signing.headers(secret=claim.secret, msg_id=claim.msg_id, body=claim.body),
            timeout=(settings.WEBHOOKS_CONNECT_TIMEOUT, settings.WEBHOOKS_READ_TIMEOUT),
            allow_redirects=False,
        )
        response.close()
    except requests.RequestException as exc:
        ms = int((time.monotonic() - started) * 1000)
        return Outcome(ok=False, ms=ms, error=type(exc).__name__)
    ms = int((time.monotonic() - started) * 1000)
    ok = 200 <= response.status_code < 300
    return Outcome(
        ok=ok, code=response.status_code, ms=ms, error="" if ok else f"HTTP {response.status_code}"
    )


def _record(claim: Claim, outcome: Outcome) -> float | None:
    """Store the outcome; returns the delay of the next retry, if there is one."""
    now = timezone.now()
    retry_in = None
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=claim.delivery_id)
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        delivery.response_code = outcome.code
        delivery.response_ms = outcome.ms
        delivery.error = outcome.error[:200]
        if outcome.ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.next_attempt_at = None
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        else:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                consecutive_failures=F("consecutive_failures") + 1
            )
            endpoint.refresh_from_db(fields=["consecutive_failures"])
            delays = settings.WEBHOOKS_RETRY_DELAYS
            disable = endpoint.is_active and (
                endpoint.consecutive_failures >= settings.WEBHOOKS_DISABLE_AFTER
            )
            if delivery.attempts > len(delays) or disable or not endpoint.is_active:
                delivery.status = DeliveryStatus.GAVE_UP
                delivery.next_attempt_at = None
            else:
                retry_in = delays[delivery.attempts - 1]
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = now + timedelta(seconds=retry_in)
            if disable:
                from .services import endpoint_set_active

                endpoint_set_active(
                    endpoint=endpoint,
                    active=False,
                    actor=SYSTEM,
                    reason=_("%(n)d failed deliveries in a row.")
                    % {"n": endpoint.consecutive_failures},
                )
        delivery.save()
    return retry_in


def delivery_attempt(*, delivery_id: int) -> Outcome | None:
    """One attempt at a due delivery of the active tenant (None: nothing was due)."""
    claim = _claim(delivery_id)
    if claim is None:
        return None
    outcome = _send(claim)
    retry_in = _record(claim, outcome)
    if retry_in is not None and retry_in <= settings.WEBHOOKS_COUNTDOWN_MAX:
        from .tasks import deliver

        deliver.apply_async(
            kwargs={"delivery_id": claim.delivery_id, "tenant_id": _tenant_id()},
            countdown=retry_in,
        )
    return outcome


def _tenant_id() -> int:
    from tenancy.context import require_tenant

    return require_tenant().pk


def deliveries_sweep(*, limit: int = 500) -> int:
    """Send a task for each of the active tenant's due deliveries (lost tasks, long waits)."""
    from .tasks import deliver

    due = list(
        WebhookDelivery.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    tenant_id = _tenant_id()
    for pk in due:
        deliver.apply_async(kwargs={"delivery_id": pk, "tenant_id": tenant_id})
    return len(due)
