"""Every export is one path (issue 11): stream it at once, or run it as a job.

``export_inline_allowed``: up to ``REPORTS_EXPORT_INLINE_MAX_ROWS`` customers the request
streams the file (``reports.exports.stream_export``); more, and ``export_job_create``
records an ``ExportJob`` and a worker writes the file (``export_job_run``), row by row,
to the tenant's own storage prefix ``tenants/<tenant id>/exports/<random>.<ext>``. Both
paths use the same plan (``reports.export_sources``) and the same writers, so memory
stays flat either way.

**Progress without a long transaction.** The job reads with ``QuerySet.iterator`` in
autocommit mode: Django then declares the server-side cursor ``WITH HOLD``, so the
cursor's query runs in one short transaction that carries the tenant (row security),
and the rows are fetched afterwards. The job can therefore commit ``rows_written``
every ``PROGRESS_EVERY`` rows, which the progress page reads.

**Lifecycle.** queued -> running -> done (``expires_at`` = finish + ``REPORTS_EXPORT_TTL``)
or failed; done -> expired when the sweep deletes the file. A job whose worker died
(no progress for ``REPORTS_EXPORT_STALL_SECONDS``) is queued again by the sweep, from the
start, at most ``MAX_ATTEMPTS`` times in all, then marked failed. The job's criteria
(a search text may be a name) are emptied when it ends; the audit entry is written
when the file is complete (row count, no personal data).
"""

from __future__ import annotations

import secrets
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone, translation

from audit.actors import Actor
from tenancy.context import require_tenant
from tenancy.models import Membership

from . import export_sources
from .export_sources import ExportPlan
from .models import ExportJob, ExportStatus

PROGRESS_EVERY = 500  # rows between two progress commits
MAX_ATTEMPTS = 2


def inline_max_rows() -> int:
    return settings.REPORTS_EXPORT_INLINE_MAX_ROWS


def export_inline_allowed(plan: ExportPlan) -> tuple[bool, int]:
    """(stream it now?, how many customers): one count query."""
    total = plan.customers.count()
    return total <= inline_max_rows(), total


def storage_prefix(tenant_id: int) -> str:
    """Where a tenant's export files live (the prefix its attachments use, too)."""
    return f"tenants/{tenant_id}/exports/"


@transaction.atomic
def export_job_create(
    *, plan: ExportPlan, criteria: QueryDict, user, total: int, language: str
) -> ExportJob:
    """Record the job and send it to a worker (after commit)."""
    from .tasks import export_job_work

    job = ExportJob.objects.create(
        source=plan.source,
        report=plan.key,
        format=plan.fmt,
        criteria={key: criteria.getlist(key) for key in criteria},
        language=language,
        created_by=user,
        total=total,
    )
    export_job_work.enqueue(job.pk)
    return job


def _claim(job_id: int) -> ExportJob | None:
    """Mark the job running (committed at once), or None when it is not to run."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != ExportStatus.QUEUED:
            return None  # done, failed, or another delivery of the task has it
        now = timezone.now()
        job.status = ExportStatus.RUNNING
        job.attempts += 1
        job.started_at = job.worked_at = now
        job.rows_written = 0
        job.save(update_fields=["status", "attempts", "started_at", "worked_at", "rows_written"])
        return job


class _Progress(list):
    """The writers' row counter (``counter[0] += 1``) that commits progress as it goes."""

    def __init__(self, job_id: int):
        super().__init__([0])
        self.job_id = job_id
        self.reported = 0

    def __setitem__(self, index, value):
        super().__setitem__(index, value)
        if value - self.reported >= PROGRESS_EVERY:
            self.reported = value
            ExportJob.objects.filter(pk=self.job_id, status=ExportStatus.RUNNING).update(
                rows_written=value, worked_at=timezone.now()
            )


def _plan_for(job: ExportJob) -> tuple[ExportPlan | None, Membership | None]:
    membership = Membership.objects.filter(user=job.created_by_id, tenant=job.tenant_id).first()
    if membership is None or not membership.has_perm(export_sources.PERMS[job.source]):
        return None, None  # the user left the company or lost the right since
    criteria = QueryDict(mutable=True)
    for key, values in (job.criteria or {}).items():
        criteria.setlist(key, values)
    try:
        _form, plan = export_sources.plan(
            job.source,
            fmt=job.format,
            criteria=criteria,
            key=job.report,
            user=job.created_by,
            membership=membership,
            tenant=require_tenant(),
        )
    except export_sources.UnknownExport:
        return None, membership
    return plan, membership


def export_job_run(*, job_id: int) -> str:
    """Write the job's file (in the active tenant's scope, outside any transaction)."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    tenant = require_tenant()
    with translation.override(job.language), timezone.override(tenant.time_zone):
        plan, _membership = _plan_for(job)
        if plan is None:
            export_job_fail(job_id=job.pk, reason="not allowed or not valid")
            return "failed"
        counter = _Progress(job.pk)
        name = f"{storage_prefix(tenant.pk)}{secrets.token_urlsafe(24)}.{plan.extension}"
        with tempfile.TemporaryFile() as spool:
            for chunk in plan.write(counter):
                spool.write(chunk)
            spool.seek(0)
            # The storage may pick another name when this one is taken; keep what it says.
            name = default_storage.save(name, File(spool, name=name))
        today = timezone.localdate().isoformat()
        now = timezone.now()
        with transaction.atomic():
            finished = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
                status=ExportStatus.DONE,
                rows_written=counter[0],
                file=name,
                download_name=f"{plan.filename}-{today}.{plan.extension}",
                finished_at=now,
                worked_at=now,
                expires_at=now + timedelta(seconds=settings.REPORTS_EXPORT_TTL),
                criteria={},
            )
            if not finished:  # the sweep gave up on it meanwhile: the file is not wanted
                transaction.on_commit(lambda: default_storage.delete(name))
                return "abandoned"
            plan.record(actor=Actor.user(job.created_by), count=counter[0], complete=True)
    return "done"


def export_job_fail(*, job_id: int, reason: str) -> bool:
    """A job that cannot finish: failed, with a reason for the page (never personal data)."""
    return bool(
        ExportJob.objects.filter(
            pk=job_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
        ).update(
            status=ExportStatus.FAILED,
            finished_at=timezone.now(),
            error=reason[:100],
            criteria={},
        )
    )


def export_jobs_sweep(*, now=None) -> dict[str, int]:
    """The active tenant's jobs: expired files deleted, stalled jobs sent again or failed."""
    from .tasks import export_job_work

    now = now or timezone.now()
    counts = {"expired": 0, "requeued": 0, "failed": 0}
    for job in ExportJob.objects.filter(status=ExportStatus.DONE, expires_at__lte=now):
        if job.file:
            default_storage.delete(job.file)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.EXPIRED, file="")
        counts["expired"] += 1
    stalled = now - timedelta(seconds=settings.REPORTS_EXPORT_STALL_SECONDS)
    active = ExportJob.objects.filter(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING])
    for job in active.filter(Q(worked_at__lt=stalled) | Q(worked_at=None, created_at__lt=stalled)):
        if job.attempts >= MAX_ATTEMPTS:
            counts["failed"] += export_job_fail(job_id=job.pk, reason="stalled")
            continue
        with transaction.atomic():
            again = ExportJob.objects.filter(pk=job.pk, status=job.status).update(
                status=ExportStatus.QUEUED, worked_at=now, rows_written=0
            )
            if again:
                export_job_work.enqueue(job.pk)
                counts["requeued"] += 1
    return counts
