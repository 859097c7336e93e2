"""Mass deletion in the browser (Avance's "Massradera"): filter, get the proposal (what
would go, and struck out what cannot), execute it with the phrase, follow the job."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.actors import Actor
from customers.selectors import customer_list
from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from . import deletion
from .forms_deletion import DeletionExecuteForm, DeletionFilterForm
from .models import RunStatus

PAGE_SIZE = 25
POLL_SECONDS = 2
REFRESH_SECONDS = 5


def _matching(request, form: DeletionFilterForm):
    """The customers a valid filter form selects."""
    return customer_list(**form.selector_kwargs(tenant=request.tenant)).order_by("sort_name", "pk")


def _proposal(request, form: DeletionFilterForm):
    """(deletable, undeletable) for a valid filter form."""
    return deletion.deletion_proposal(_matching(request, form))


def _section(request, queryset, param: str, params: list[tuple[str, str]]) -> dict:
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get(param))
    page.object_list = list(page.object_list)

    def link(number: int) -> str:
        return "?" + urlencode([*params, (param, str(number))])

    return {
        "page": page,
        "count": page.paginator.count,
        "prev": link(page.previous_page_number()) if page.has_previous() else "",
        "next": link(page.next_page_number()) if page.has_next() else "",
    }


def _render(request, form, execute=None, status: int = 200):
    context = {"form": form, "execute": execute, "proposal": False}
    if form.is_bound and form.is_valid():
        params = form.params()
        deletable, undeletable = _proposal(request, form)
        kept = _section(request, undeletable, "kept_page", params)
        for c in kept["page"].object_list:
            c.reasons = [deletion.reason_label(code) for code in deletion.reasons_of(c)]
        context.update(
            proposal=True,
            params=params,
            deletable=_section(request, deletable, "page", params),
            undeletable=kept,
            fingerprint=deletion.proposal_fingerprint(deletable),
        )
        if execute is None:
            execute = DeletionExecuteForm(language=get_language() or "en")
        context["execute"] = execute
    elif form.is_bound:
        status = 400
    response = render(request, "anonymization/deletion.html", context, status=status)
    patch_cache_control(response, no_store=True)
    return response


@tenant_perm_required(Perm.DELETE_CUSTOMER)
def deletion_page(request):
    """The filter; with one ("Get proposal"), what would be deleted and what cannot be."""
    return _render(request, DeletionFilterForm(request.GET or None))


@require_POST
@tenant_perm_required(Perm.DELETE_CUSTOMER)
def deletion_start(request):
    """Execute: the proposal is computed again and must be the one the page showed."""
    form = DeletionFilterForm(request.POST)
    execute = DeletionExecuteForm(request.POST, language=get_language() or "en")
    if form.is_valid() and execute.is_valid():
        deletable, _undeletable = _proposal(request, form)
        if deletion.proposal_fingerprint(deletable) != request.POST.get("fingerprint", ""):
            execute.add_error(
                None,
                _(
                    "The proposal has changed since you got it. Check the new proposal and "
                    "execute it again."
                ),
            )
        else:
            try:
                # All that match: the run counts those struck out as excluded.
                run = deletion.deletion_run_start(
                    customer_ids=_matching(request, form),
                    actor=Actor.from_request(request),
                    note=execute.cleaned_data["note"],
                    criteria=form.criteria(),
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    execute.add_error(field if field in execute.fields else None, messages)
            else:
                return redirect("deletion-run", pk=run.pk)
    return _render(request, form, execute, status=400)


@tenant_perm_required(Perm.DELETE_CUSTOMER)
def deletion_run_list(request):
    page = Paginator(deletion.deletion_runs(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "anonymization/deletion_runs.html", {"page": page})


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


@tenant_perm_required(Perm.DELETE_CUSTOMER)
def deletion_run_detail(request, pk: int):
    """The run's page; while it runs, htmx polls its progress (or the page refreshes)."""
    run = get_object_or_404(deletion.deletion_runs(), pk=pk)
    running = run.status in (RunStatus.QUEUED, RunStatus.RUNNING)
    context = {
        "run": run,
        "running": running,
        "poll_seconds": POLL_SECONDS,
        "refresh_seconds": REFRESH_SECONDS,
        "skipped": [] if running else deletion.skipped_reasons(run),
        "before": _date(run.criteria.get("last_activity_before")),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = (
        "anonymization/deletion_progress.html" if partial else "anonymization/deletion_run.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    patch_cache_control(response, no_store=True)
    return response
