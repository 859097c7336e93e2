"""Anonymization runs in the browser: start one from the page, follow it, read the log."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from audit.actors import Actor
from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from . import eligibility, report, runs, selectors
from .forms import AnonymizationRunForm
from .models import RunSource, RunStatus
from .registry import CATEGORY_LABELS
from .views_page import render_page

POLL_SECONDS = 2
REFRESH_SECONDS = 5
PAGE_SIZE = 25


@require_POST
@tenant_perm_required(Perm.ANONYMIZE)
def run_start(request):
    form = AnonymizationRunForm(request.POST, language=get_language() or "en")
    if form.is_valid():
        data = form.cleaned_data
        if data["all_matching"]:
            customers = eligibility.eligible_customers(prospects=form.prospects())
        else:
            customers = data["customer"]
        try:
            run = runs.anonymization_run_start(
                customer_ids=customers,
                actor=Actor.from_request(request),
                source=RunSource.PAGE,
                categories=data["categories"],
                note=data["note"],
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return redirect("anonymization-run", pk=run.pk)
    return render_page(request, run_form=form, status=400)


@tenant_perm_required(Perm.ANONYMIZE)
def run_list(request):
    page = Paginator(selectors.run_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "anonymization/run_list.html", {"page": page})


@tenant_perm_required(Perm.ANONYMIZE)
def run_detail(request, pk: int):
    """The run's page; while it runs, htmx polls its progress (or the page refreshes)."""
    run = get_object_or_404(selectors.run_list(), pk=pk)
    running = run.status in (RunStatus.QUEUED, RunStatus.RUNNING)
    context = {
        "run": run,
        "running": running,
        "poll_seconds": POLL_SECONDS,
        "refresh_seconds": REFRESH_SECONDS,
        "categories": [CATEGORY_LABELS[c] for c in run.categories if c in CATEGORY_LABELS],
        "skipped": [] if running else selectors.run_skipped_reasons(run),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "anonymization/run_progress.html" if partial else "anonymization/run_detail.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    patch_cache_control(response, no_store=True)
    return response


@tenant_perm_required(Perm.ANONYMIZE)
def run_report(request, pk: int, fmt: str):
    """The erasure report of a finished run, as JSON or PDF (a download)."""
    run = get_object_or_404(selectors.run_list().filter(status=RunStatus.DONE), pk=pk)
    if fmt == "json":
        response = JsonResponse(
            report.erasure_report_data(run), json_dumps_params={"indent": 2, "ensure_ascii": False}
        )
    else:
        response = HttpResponse(report.erasure_report_pdf(run), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="erasure-report-{run.pk}.{fmt}"'
    patch_cache_control(response, no_store=True, private=True)
    return response
