"""Thin Celery wrappers around anonymization runs (the logic is in anonymization/runs.py)."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings

from tenancy.context import require_tenant
from tenancy.tasks import tenant_task

logger = logging.getLogger(__name__)

# Unexpected errors (a lost connection, a deadlock) are retried this often, then the
# run is stopped so that it does not show "Running" for ever.
MAX_ERROR_RETRIES = 3


@tenant_task(bind=True, name="anonymization.run_work", max_retries=None)
def anonymization_run_work(self, run_id: int) -> str:
    """Chunks of a run for up to ANONYMIZATION_TASK_SECONDS, then the rest as a new task.

    Each chunk is its own transaction; working several per task saves a trip through the
    broker per chunk, and a new task now and then lets other tenants' work in between.
    """
    from .runs import anonymization_run_chunk, anonymization_run_stop

    deadline = time.monotonic() + settings.ANONYMIZATION_TASK_SECONDS
    try:
        more = anonymization_run_chunk(run_id=run_id)  # one transaction per chunk
        while more and time.monotonic() < deadline:
            more = anonymization_run_chunk(run_id=run_id)
    except Exception as exc:
        tries = self.request.retries or 0
        if tries < MAX_ERROR_RETRIES:
            logger.warning("anonymization run %s: chunk failed, retrying", run_id, exc_info=True)
            # TenantTask strips tenant_id from the request's kwargs: pass it explicitly.
            self.retry(
                args=[run_id],
                kwargs={"tenant_id": require_tenant().pk},
                countdown=5 * 2**tries,
                throw=False,
            )
            return "retry"
        logger.exception("anonymization run %s stopped", run_id)
        anonymization_run_stop(run_id=run_id, reason=type(exc).__name__)
        return "stopped"
    if more:
        anonymization_run_work.enqueue(run_id)
        return "more"
    return "done"


@tenant_task(bind=True, name="anonymization.deletion_work", max_retries=None)
def deletion_run_work(self, run_id: int) -> str:
    """One chunk of a mass deletion, then the next as a new task (anonymization/deletion.py)."""
    from .deletion import deletion_run_chunk, deletion_run_stop

    try:
        more = deletion_run_chunk(run_id=run_id)  # one transaction per chunk
    except Exception as exc:
        tries = self.request.retries or 0
        if tries < MAX_ERROR_RETRIES:
            logger.warning("deletion run %s: chunk failed, retrying", run_id, exc_info=True)
            self.retry(
                args=[run_id],
                kwargs={"tenant_id": require_tenant().pk},
                countdown=5 * 2**tries,
                throw=False,
            )
            return "retry"
        logger.exception("deletion run %s stopped", run_id)
        deletion_run_stop(run_id=run_id, reason=type(exc).__name__)
        return "stopped"
    if more:
        deletion_run_work.enqueue(run_id)
        return "more"
    return "done"


@shared_task(name="anonymization.runs_sweep")
def runs_sweep() -> int:
    """Beat: resume runs whose chunk task was lost (a worker killed, a broker restarted)."""
    from datetime import timedelta

    from django.conf import settings

    from tenancy.context import each_tenant
    from tenancy.models import Tenant

    from .runs import anonymization_runs_resume

    stalled_after = timedelta(seconds=settings.ANONYMIZATION_RUN_STALL_SECONDS)
    resumed = 0
    from .deletion import deletion_runs_resume

    for _tenant in each_tenant(Tenant.objects.filter(is_active=True)):
        resumed += anonymization_runs_resume(stalled_after=stalled_after)
        resumed += deletion_runs_resume(stalled_after=stalled_after)
    return resumed


@shared_task(name="anonymization.auto_prospects")
def auto_prospects() -> int:
    """Beat (daily): each tenant that turned it on gets a run of its eligible prospects."""
    from tenancy.context import each_tenant
    from tenancy.models import Tenant

    from .auto import anonymization_auto_prospects_start

    started = 0
    for tenant in each_tenant(Tenant.objects.filter(is_active=True)):
        try:
            started += anonymization_auto_prospects_start() is not None
        except Exception:  # one company's failure must not keep the others' runs
            logger.exception("automatic anonymization of prospects failed for tenant %s", tenant.pk)
    return started
