"""Thin Celery wrappers: send one message or a group, sweep up stranded ones, poll for late
reports."""

from __future__ import annotations

import logging
import random
import time

from celery import shared_task
from django.conf import settings
from django.db.models.signals import post_save

from tenancy.context import each_tenant, require_tenant, tenant_scope
from tenancy.models import Tenant
from tenancy.tasks import TenantTask, tenant_task

from .backends import get_sms_backend
from .selectors import pending_sms
from .sending import Paced, TransientSendError, message_retry_due, message_send
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


def _retry(task, message_id, tenant_id: int, *, countdown: float) -> None:
    # TenantTask.__call__ strips tenant_id from the request's kwargs, so Celery's default
    # retry would re-send the task without it: pass the arguments explicitly.
    task.retry(args=[message_id], kwargs={"tenant_id": tenant_id}, countdown=countdown, throw=False)


def _paced_countdown(exc: Paced) -> float:
    return exc.wait + random.uniform(0.0, 0.5)


class SendTask(TenantTask):
    """A tenant task whose tenant is looked up once per process and tenant for a few seconds
    rather than once per message (the send path's reads are the claim and the result only).
    A tenant deactivated elsewhere stops sending within ``TENANT_TTL_SECONDS``."""

    abstract = True
    TENANT_TTL_SECONDS = 10.0
    _tenants: dict[int, tuple[float, Tenant]] = {}

    def __call__(self, *args, tenant_id: int, **kwargs):
        now = time.monotonic()
        cached = self._tenants.get(tenant_id)
        if cached is None or cached[0] <= now:
            tenant = Tenant.objects.get(pk=tenant_id, is_active=True)
            cached = self._tenants[tenant_id] = (now + self.TENANT_TTL_SECONDS, tenant)
        with tenant_scope(cached[1]):
            return self.run(*args, **kwargs)


def _forget_tenant(sender, instance, **kwargs) -> None:
    SendTask._tenants.pop(instance.pk, None)


post_save.connect(_forget_tenant, sender=Tenant, dispatch_uid="notifications.send_task_tenant")


# Priority 6 (Redis: 0 is served first, the default): a batch's next chunk, heartbeats and
# the like are not queued behind thousands of sends (docs/benchmarks.md, consent_fanout).
@tenant_task(
    bind=True, base=SendTask, name="notifications.send_message", max_retries=None, priority=6
)
def send_message(self, message_id: int) -> str:
    """Send a queued message. The message's ``attempts`` (not Celery's counter) limit retries.

    Paced globally (notifications/pacing.py): the send waits in this thread for its slot
    under the tenant's and the provider account's rates, or, with none soon, comes back
    later; neither counts as an attempt, and nothing is dropped.
    """
    tenant = require_tenant()
    try:
        message = message_send(message_id=message_id, paced=True)
    except Paced as exc:
        _retry(self, message_id, tenant.pk, countdown=_paced_countdown(exc))
        return "paced"
    except TransientSendError as exc:
        countdown = retry_countdown(exc.attempts)
        message_retry_due(message_id=message_id, countdown=countdown)
        _retry(self, message_id, tenant.pk, countdown=countdown)
        return "retry"
    return message.status


@tenant_task(
    bind=True, base=SendTask, name="notifications.send_messages", max_retries=None, priority=6
)
def send_messages(self, message_ids: list[int]) -> str:
    """Send a group of queued messages (a batch chunk's, notifications/queue_many.py) one
    after another, each exactly as ``send_message`` sends it: its own claim, slot and result.

    One broker message for the group instead of one per message: the publishing side and
    the worker's per-task cost (receive, acknowledge, connection check) are paid once.
    A transient failure of one message retries that message alone, as ``send_message`` with
    its countdown; with no send slot soon (paced) the rest of the group comes back later.
    A message whose send failed otherwise (an error of ours, the database gone) is left to
    the sweep, like ``send_message``'s, and the rest of the group is sent again at once.
    """
    tenant = require_tenant()
    done = 0
    for index, message_id in enumerate(message_ids):
        try:
            message_send(message_id=message_id, paced=True)
        except Paced as exc:
            _retry(self, message_ids[index:], tenant.pk, countdown=_paced_countdown(exc))
            return f"{done} done, paced"
        except TransientSendError as exc:
            countdown = retry_countdown(exc.attempts)
            message_retry_due(message_id=message_id, countdown=countdown)
            send_message.apply_async(
                args=[message_id], kwargs={"tenant_id": tenant.pk}, countdown=countdown
            )
        except BaseException:
            if message_ids[index + 1 :]:
                send_messages.apply_async(
                    args=[message_ids[index + 1 :]], kwargs={"tenant_id": tenant.pk}
                )
            raise
        else:
            done += 1
    return f"{done} done"


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
