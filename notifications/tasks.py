"""Thin Celery wrappers: send one message, sweep up stranded ones, poll for late reports."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.conf import settings

from tenancy.context import each_tenant, require_tenant
from tenancy.models import Tenant
from tenancy.tasks import tenant_task

from .backends import get_sms_backend
from .pacing import pacing_acquire
from .selectors import notification_settings, pending_sms
from .sending import TransientSendError, message_retry_due, message_send
from .services import message_poll
from .sweep import message_sweep

logger = logging.getLogger(__name__)


def retry_countdown(attempts: int) -> float:
    """Exponential backoff, capped well below the broker's visibility timeout.

    A countdown longer than CELERY_VISIBILITY_TIMEOUT would get the task redelivered
    while it waits; the cap is a setting asserted below the timeout in the tests.
    """
    base = settings.NOTIFICATIONS_RETRY_BACKOFF_BASE
    delay = min(settings.NOTIFICATIONS_RETRY_BACKOFF_MAX, base * 2 ** max(attempts - 1, 0))
    return delay + random.uniform(0, base / 2)


def _retry(task, message_id: int, tenant_id: int, *, countdown: float) -> None:
    # TenantTask.__call__ strips tenant_id from the request's kwargs, so Celery's default
    # retry would re-send the task without it: pass the arguments explicitly.
    task.retry(args=[message_id], kwargs={"tenant_id": tenant_id}, countdown=countdown, throw=False)


# Priority 6 (Redis: 0 is served first, the default): a batch's next chunk, heartbeats and
# the like are not queued behind thousands of sends (docs/benchmarks.md, consent_fanout).
@tenant_task(bind=True, name="notifications.send_message", max_retries=None, priority=6)
def send_message(self, message_id: int) -> str:
    """Send a queued message. The message's ``attempts`` (not Celery's counter) limit retries."""
    tenant = require_tenant()
    rate = notification_settings().send_rate_per_second
    if not pacing_acquire(tenant_id=tenant.pk, rate_per_second=rate):
        # Over the tenant's rate: come back in a moment; this does not count as an attempt.
        _retry(self, message_id, tenant.pk, countdown=random.uniform(0.5, 2.0))
        return "paced"
    try:
        message = message_send(message_id=message_id)
    except TransientSendError as exc:
        countdown = retry_countdown(exc.attempts)
        message_retry_due(message_id=message_id, countdown=countdown)
        _retry(self, message_id, tenant.pk, countdown=countdown)
        return "retry"
    return message.status


@shared_task(name="notifications.sweep")
def sweep() -> dict[str, int]:
    """Beat: re-send messages whose task is gone, settle sends a dead worker left behind."""
    totals: dict[str, int] = {}
    for _tenant in each_tenant(Tenant.objects.filter(is_active=True)):
        for key, value in message_sweep().items():
            totals[key] = totals.get(key, 0) + value
    return totals


@shared_task(name="notifications.poll_pending_sms")
def poll_pending_sms() -> int:
    """Ask the provider about SMS whose delivery report never came (a lost callback)."""
    backend = get_sms_backend()
    moved = 0
    for _tenant in each_tenant(Tenant.objects.filter(is_active=True)):
        for message in pending_sms(older_than_minutes=settings.NOTIFICATIONS_POLL_AFTER_MINUTES):
            if message.provider != backend.provider:
                continue
            moved += message_poll(message=message, backend=backend)
    return moved
