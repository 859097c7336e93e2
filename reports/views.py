"""The Reports page: pick a selection and a report, see it, print it, export it (issue 11).

Thin: the form parses, ``reports.selectors`` reads, ``reports.definitions`` says what the
columns are, ``reports.exports`` streams the files (``reports.pdf`` draws the PDF list,
``reports.labels`` the label sheets). Every page works without JavaScript.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.actors import Actor
from customers.forms_lists import FILTER_KEYS
from tenancy.decorators import tenant_perm_required
from tenancy.forms import apply_service_errors
from tenancy.roles import Perm

from . import export_sources, labels, selectors
from .definitions import cell_values
from .forms import OWN_KEYS, ReportForm
from .models import LabelLayout
from .preferences import report_settings, report_settings_update
from .views_exports import export_response, my_exports

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
    form = ReportForm(
        request.GET if "report" in request.GET else None,
        user=request.user,
        has_perm=request.membership.has_perm,
        labels_per_sheet=_grid().per_sheet,
    )
    if not form.is_bound or not form.is_valid():
        return form, None, None, None
    report = form.report_definition
    has_perm = request.membership.has_perm
    customers = selectors.selection(**form.selection_kwargs(tenant=request.tenant))
    return form, report, report.columns_for(has_perm), report.queryset(customers, has_perm=has_perm)


def _grid() -> labels.Grid:
    """The tenant's label sheet."""
    return labels.grid_for(report_settings().label_layout)


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
    context = {
        "form": form,
        "report": report,
        "params": _params(request.GET),
        "my_exports": my_exports(request),
    }
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
    """The report as CSV, Excel, a PDF list or label sheets (``labels``: one label per
    contact of each customer in the report): streamed at once when small, else an export
    job (``reports.views_exports``); recorded in the audit log when it ends."""
    result = export_response(
        request, source=export_sources.REPORT, fmt=fmt, criteria=_params(request.GET)
    )
    if isinstance(result, HttpResponseBase):
        return result
    return render(request, "reports/index.html", {"form": result, "params": {}}, status=400)


class ReportSettingsForm(forms.Form):
    label_layout = forms.ChoiceField(
        label=gettext_lazy("Label sheet"),
        choices=LabelLayout.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("The A4 label sheet the Reports page prints labels on."),
    )


@tenant_perm_required(Perm.SETTINGS_EDIT)
def report_settings_page(request):
    """Settings → Reports: the tenant's label sheet."""
    current = report_settings()
    form = ReportSettingsForm(request.POST or None, initial={"label_layout": current.label_layout})
    if request.method == "POST" and form.is_valid():
        try:
            report_settings_update(
                label_layout=form.cleaned_data["label_layout"], actor=Actor.user(request.user)
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("The report settings are saved."))
            return redirect("report-settings")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "reports/settings.html", {"form": form}, status=status)
