"""Thin Celery wrappers around export jobs (the logic is in reports/jobs.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from tenancy.context import require_tenant
from tenancy.tasks import tenant_task

logger = logging.getLogger(__name__)

# Unexpected errors (a lost connection) are retried this often, then the job is failed so
# that its page does not show "Running" for ever.
MAX_ERROR_RETRIES = 2


@tenant_task(bind=True, name="reports.export_job_work", max_retries=None)
def export_job_work(self, job_id: int) -> str:
    """Write one export job's file."""
    from .jobs import export_job_fail, export_job_run
    from .models import ExportJob, ExportStatus

    try:
        return export_job_run(job_id=job_id)
    except Exception as exc:
        tries = self.request.retries or 0
        if tries < MAX_ERROR_RETRIES:
            logger.warning("export job %s failed, retrying", job_id, exc_info=True)
            # Queued again, so that the retry may claim it.
            ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
                status=ExportStatus.QUEUED
            )
            self.retry(
                args=[job_id],
                kwargs={"tenant_id": require_tenant().pk},
                countdown=5 * 2**tries,
                throw=False,
            )
            return "retry"
        logger.exception("export job %s failed", job_id)
        export_job_fail(job_id=job_id, reason=type(exc).__name__)
        return "failed"


@shared_task(name="reports.export_jobs_sweep")
def export_jobs_sweep() -> int:
    """Beat: delete expired export files; send stalled jobs again or fail them."""
    from tenancy.context import each_tenant
    from tenancy.models import Tenant

    from .jobs import export_jobs_sweep as sweep

    handled = 0
    for _tenant in each_tenant(Tenant.objects.filter(is_active=True)):
        handled += sum(sweep().values())
    return handled


@tenant_task(name="reports.dashboard_refresh")
def dashboard_refresh() -> str:
    """Count the dashboard's customer charts again (a page view found them a few minutes
    old; reports/dashboard_snapshot.py)."""
    from .dashboard_snapshot import snapshot_refresh

    return snapshot_refresh().computed_at.isoformat()


@shared_task(name="reports.dashboard_snapshots_sweep")
def dashboard_snapshots_sweep() -> int:
    """Beat: a new count for every dashboard snapshot older than a quarter of an hour."""
    from tenancy.context import each_tenant
    from tenancy.models import Tenant

    from .dashboard_snapshot import snapshot_keep_fresh

    return sum(
        snapshot_keep_fresh() for _tenant in each_tenant(Tenant.objects.filter(is_active=True))
    )
