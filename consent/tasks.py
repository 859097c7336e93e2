"""Thin Celery wrappers around consent's services (the logic is in consent/batches.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from tenancy.context import require_tenant
from tenancy.tasks import tenant_task

logger = logging.getLogger(__name__)

# Unexpected errors (a lost connection, a deadlock) are retried this often, then the
# batch is stopped so that it does not show "Sending" for ever.
MAX_ERROR_RETRIES = 3


@tenant_task(bind=True, name="consent.batch_work", max_retries=None)
def consent_batch_work(self, batch_id: int) -> str:
    """One chunk of a consent batch, then the next chunk as a new task (sent after commit)."""
    from .batches import consent_batch_chunk, consent_batch_stop

    try:
        more = consent_batch_chunk(batch_id=batch_id)  # one transaction per chunk
    except Exception as exc:
        tries = self.request.retries or 0
        if tries < MAX_ERROR_RETRIES:
            logger.warning("consent batch %s: chunk failed, retrying", batch_id, exc_info=True)
            # TenantTask strips tenant_id from the request's kwargs: pass it explicitly.
            self.retry(
                args=[batch_id],
                kwargs={"tenant_id": require_tenant().pk},
                countdown=5 * 2**tries,
                throw=False,
            )
            return "retry"
        logger.exception("consent batch %s stopped", batch_id)
        consent_batch_stop(batch_id=batch_id, reason=type(exc).__name__)
        return "stopped"
    if more:
        consent_batch_work.enqueue(batch_id)
        return "more"
    consent_batch_finish.enqueue(batch_id)
    return "asked"


# Checks a batch whose customers are all asked until its messages have settled; after
# that many checks the minute sweep (batches_sweep) takes over.
FINISH_CHECKS = 60


@tenant_task(bind=True, name="consent.batch_finish", max_retries=None)
def consent_batch_finish(self, batch_id: int, checks: int = 0) -> str:
    """Mark the batch done as soon as every message of it is settled (see batches._finish)."""
    from .batches import consent_batch_try_finish

    if consent_batch_try_finish(batch_id=batch_id):
        return "done"
    if checks + 1 < FINISH_CHECKS:
        consent_batch_finish.apply_async(
            args=[batch_id],
            kwargs={"checks": checks + 1, "tenant_id": require_tenant().pk},
            countdown=5,
        )
    return "waiting"


@shared_task(name="consent.batches_sweep")
def batches_sweep() -> dict[str, int]:
    """Beat: resume batches whose chunk task was lost; mark settled ones done."""
    from datetime import timedelta

    from django.conf import settings

    from tenancy.context import each_tenant
    from tenancy.models import Tenant

    from .batches import consent_batches_resume

    stalled_after = timedelta(seconds=settings.CONSENT_BATCH_STALL_SECONDS)
    totals = {"resumed": 0, "finished": 0}
    for _tenant in each_tenant(Tenant.objects.filter(is_active=True)):
        for key, value in consent_batches_resume(stalled_after=stalled_after).items():
            totals[key] += value
    return totals


# --- the lifecycle: expiry, one reminder, consent validity (consent/lifecycle.py) ---


@shared_task(name="consent.lifecycle_tick")
def lifecycle_tick() -> int:
    """Beat: start a lifecycle run for every active tenant that has something due."""
    from tenancy.context import each_tenant
    from tenancy.models import Tenant

    from .lifecycle import lifecycle_due

    started = 0
    for tenant in each_tenant(Tenant.objects.filter(is_active=True)):
        if lifecycle_due():
            lifecycle_run.enqueue(tenant=tenant)
            started += 1
    return started


@tenant_task(name="consent.lifecycle_run")
def lifecycle_run(step: str = "expire", after_id: int = 0) -> dict:
    """One bounded chunk of the tenant's lifecycle work, then the rest as a new task."""
    from .lifecycle import lifecycle_chunk

    done, more = lifecycle_chunk(step=step, after_id=after_id)
    if more is not None:
        lifecycle_run.enqueue(step=more[0], after_id=more[1])
    return done
