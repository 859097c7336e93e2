"""The Reports page: pick a selection and a report, see it, print it, export it (issue 11).

Thin: the form parses, ``reports.selectors`` reads, ``reports.definitions`` says what the
columns are, ``reports.exports`` streams the files. Every page works without JavaScript.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.http import Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language

from audit.actors import Actor
from customers.forms_lists import FILTER_KEYS
from tenancy.decorators import tenant_perm_required
from tenancy.roles import Perm

from . import exports, selectors
from .definitions import cell_values
from .forms import OWN_KEYS, ReportForm

PAGE_SIZE = 50
PRINT_LIMIT = 5_000  # customers on one printed page; more: narrow the selection or export


def _params(data: QueryDict) -> QueryDict:
    """The criteria of ``data`` that have a value: what sort, page and export links carry."""
    params = QueryDict(mutable=True)
    for key in (*OWN_KEYS, *FILTER_KEYS):
        if data.get(key):
            params[key] = data[key]
    return params


def _report(request):
    """(form, report, visible columns, customers) — the last three None until it is valid."""
    form = ReportForm(request.GET if "report" in request.GET else None, user=request.user)
    if not form.is_bound or not form.is_valid():
        return form, None, None, None
    report = form.report_definition
    has_perm = request.membership.has_perm
    customers = selectors.selection(**form.selection_kwargs(tenant=request.tenant))
    return form, report, report.columns_for(has_perm), report.queryset(customers, has_perm=has_perm)


def _headers(columns, sort: str) -> list[dict]:
    """Per column: its label and, when it sorts, its aria-sort state and the key its link sets."""
    headers = []
    for column in columns:
        header = {"label": column.label, "sort": None, "state": ""}
        if column.sort is not None:
            if sort == column.sort:
                header |= {"state": "ascending", "sort": f"-{column.sort}"}
            elif sort == f"-{column.sort}":
                header |= {"state": "descending", "sort": column.sort}
            else:
                header["sort"] = column.sort
        headers.append(header)
    return headers


@tenant_perm_required(Perm.REPORTS_VIEW)
def report_page(request):
    """The form, and the report on screen (``?print=1``: every row on one page, to print)."""
    form, report, columns, customers = _report(request)
    context = {"form": form, "report": report, "params": _params(request.GET)}
    if report is not None:
        printing = bool(request.GET.get("print"))
        page = Paginator(customers, PRINT_LIMIT if printing else PAGE_SIZE).get_page(
            None if printing else request.GET.get("page")
        )
        with timezone.override(request.tenant.time_zone):
            rows = [
                [{"value": v, "type": c.type} for c, v in zip(columns, values, strict=True)]
                for customer in page
                for values in cell_values(report, columns, customer)
            ]
        context |= {
            "columns": columns,
            "headers": _headers(columns, form.cleaned_data.get("sort") or "name"),
            "page": page,
            "rows": rows,
            "summary": form.summary(),
            "printing": printing,
            "print_limit": PRINT_LIMIT,
            "printed_at": timezone.now(),
        }
    return render(request, "reports/index.html", context)


@tenant_perm_required(Perm.REPORTS_VIEW)
def report_export(request, fmt: str):
    """The report as CSV or Excel, streamed; recorded in the audit log when it ends."""
    if fmt not in exports.CONTENT_TYPES:
        raise Http404
    form, report, columns, customers = _report(request)
    if report is None:
        return render(request, "reports/index.html", {"form": form, "params": {}}, status=400)
    stream = exports.export_stream(
        fmt=fmt,
        report=report,
        columns=columns,
        customers=customers,
        tenant=request.tenant,
        actor=Actor.user(request.user),
        language=get_language(),
        filters=form.filters_in_use(),
    )
    response = StreamingHttpResponse(stream, content_type=exports.CONTENT_TYPES[fmt])
    today = timezone.localdate(timezone=ZoneInfo(request.tenant.time_zone)).isoformat()
    response["Content-Disposition"] = f'attachment; filename="{report.slug}-{today}.{fmt}"'
    patch_cache_control(response, private=True, no_store=True)
    return response
