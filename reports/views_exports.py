"""The one export path in the browser: stream a small file at once, else start a job and
show its progress; download a finished job's file (issue 11).

``export_response`` is what every export button ends in: the Reports page
(``reports.views.report_export``), the customer list, the own selection and a consent
batch's "could not reach" list (through ``customers.exports.export_response``, which
this app installs, as the lower apps may not import it).

A job is its creator's: another user of the company, and any other company, get 404
for its page and its file; an expired file is 410 with a message.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language

from audit.actors import Actor

from . import export_sources, exports, jobs
from .models import ExportJob, ExportStatus

POLL_SECONDS = 2
REFRESH_SECONDS = 5  # without JavaScript: <meta http-equiv="refresh">
MY_EXPORTS = 10  # jobs listed on the Reports page


def export_response(request, *, source: str, fmt: str, criteria, key: str = ""):
    """The file streamed now (small), or a job started and its progress page (big).

    Returns the plan's form (invalid criteria) instead of a response when the caller
    should render its own page with the form's errors.
    """
    try:
        form, plan = export_sources.plan(
            source,
            fmt=fmt,
            criteria=criteria,
            key=key,
            user=request.user,
            membership=request.membership,
            tenant=request.tenant,
        )
    except export_sources.UnknownExport:
        raise Http404 from None
    if plan is None:
        return form
    inline, total = jobs.export_inline_allowed(plan)
    if not inline:
        job = jobs.export_job_create(
            plan=plan, criteria=criteria, user=request.user, total=total, language=get_language()
        )
        return redirect("report-export-job", pk=job.pk)
    stream = exports.stream_export(
        tenant=request.tenant,
        actor=Actor.user(request.user),
        language=get_language(),
        write=plan.write,
        record=plan.record,
    )
    response = StreamingHttpResponse(stream, content_type=plan.content_type)
    today = timezone.localdate(timezone=ZoneInfo(request.tenant.time_zone)).isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="{plan.filename}-{today}.{plan.extension}"'
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


def _own_job(request, pk: int) -> ExportJob:
    """The user's own job in the active company (404 for anyone else's), if they may
    still export from its source."""
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404
    job = get_object_or_404(ExportJob.objects.filter(created_by=request.user), pk=pk)
    if not membership.has_perm(export_sources.PERMS.get(job.source, "")):
        raise Http404
    return job


def _expired(job: ExportJob) -> bool:
    return job.status == ExportStatus.EXPIRED or (
        job.status == ExportStatus.DONE and job.expires_at and job.expires_at <= timezone.now()
    )


@login_required
def export_job_page(request, pk: int):
    """The job's progress (htmx polls the partial; without JavaScript the page refreshes)
    and, when it is done, its download link."""
    job = _own_job(request, pk)
    context = {
        "job": job,
        "expired": _expired(job),
        "poll_seconds": POLL_SECONDS,
        "refresh_seconds": REFRESH_SECONDS,
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "reports/export_progress.html" if partial else "reports/export_job.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    patch_cache_control(response, no_store=True, private=True)
    return response


@login_required
def export_job_download(request, pk: int):
    """The finished file, to its creator only, until it expires (then 410)."""
    job = _own_job(request, pk)
    if _expired(job):
        response = render(request, "reports/export_gone.html", {"job": job}, status=410)
        patch_cache_control(response, no_store=True, private=True)
        return response
    if job.status != ExportStatus.DONE or not job.file:
        return redirect("report-export-job", pk=job.pk)
    if not job.file.startswith(jobs.storage_prefix(request.tenant.pk)):
        raise Http404  # never another tenant's prefix, whatever the row says
    try:
        file = default_storage.open(job.file, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        file,
        as_attachment=True,
        filename=job.download_name,
        content_type=export_sources.CONTENT_TYPES.get(job.format),
    )
    patch_cache_control(response, no_store=True, private=True)
    return response


def my_exports(request) -> list[ExportJob]:
    """The user's recent export jobs in the active company (the Reports page lists them)."""
    return list(
        ExportJob.objects.filter(created_by=request.user).order_by("-created_at")[:MY_EXPORTS]
    )
