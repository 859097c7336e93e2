"""What can be exported, rebuilt from its criteria: the same in the request and in a worker.

A *source* turns (criteria, user, tenant) into an ``ExportPlan``: the customers it counts
(for the inline-or-job rule), a writer that yields the file's bytes row by row while it
counts rows in ``counter[0]``, the file's name and the audit entry to write when it ends.
The request and the export job (``reports.jobs``) call the same ``plan``, so a job
exports exactly what the page would have streamed, with the same columns and the
permissions its user has when it runs.

Sources: a report of the Reports page, the customer list (its filters), the user's own
selection, and the customers a consent batch could not reach. Each keeps the audit
action it had before it moved onto this path (``reports.exported``,
``customers.exported``, ``consent.batch_unreachable_exported``).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from zoneinfo import ZoneInfo

from django.db.models import F, Prefetch, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from audit.actors import Actor
from audit.services import audit_record
from consent import batches as consent_batches
from consent import selectors as consent_selectors
from customers import exports as customer_exports
from customers.forms_lists import CustomerFilterForm
from customers.models import Address
from customers.selectors import customer_list, selection_of
from tenancy.roles import Perm

from . import exports, labels, pdf, selectors
from .forms import ReportForm
from .preferences import report_settings
from .services import report_export_record

REPORT, CUSTOMERS, SELECTION, CONSENT_BATCH = "report", "customers", "selection", "consent_batch"
AUDIT = "audit"  # the audit log's entries, as the audit page filters them
PDF = "application/pdf"
CONTENT_TYPES = {**exports.CONTENT_TYPES, "pdf": PDF, "labels": PDF}
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "pdf": "pdf", "labels": "pdf"}
# Who may export from a source (and, later, see its job and download its file).
PERMS = {
    REPORT: Perm.REPORTS_VIEW,
    CUSTOMERS: Perm.REGISTRY_VIEW,
    SELECTION: Perm.REGISTRY_VIEW,
    CONSENT_BATCH: Perm.CONSENT_REQUEST,
    AUDIT: Perm.AUDIT_VIEW,
}
FORMATS = {
    REPORT: ("csv", "xlsx", "pdf", "labels"),
    CUSTOMERS: ("csv", "xlsx"),
    SELECTION: ("csv", "xlsx"),
    CONSENT_BATCH: ("csv",),
    AUDIT: ("csv",),
}
_CUSTOMER_WIDTHS = (12, 36, 16, 32, 18, 18, 40, 20, 12, 14)


class UnknownExport(LookupError):
    """No such source, format or batch (the views answer 404)."""


@dataclass
class ExportPlan:
    source: str
    key: str  # the report's slug, or the batch's id
    fmt: str
    customers: QuerySet  # what the inline-or-job rule counts
    write: Callable[[list[int]], Iterator[bytes]]  # counter -> the file's bytes
    record: Callable[..., object]  # (actor, count, complete) -> the audit entry
    filename: str  # without the date and extension

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.fmt]

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.fmt]


def plan(
    source: str, *, fmt: str, criteria: QueryDict, key: str, user, membership, tenant
) -> tuple[object | None, ExportPlan | None]:
    """(form, plan); the plan is None when the criteria are not valid (the form says why).

    Call inside ``tenant``'s scope. Raises ``UnknownExport`` for a source, format or
    batch that does not exist (for this tenant).
    """
    if fmt not in FORMATS.get(source, ()):
        raise UnknownExport(source, fmt)
    if source == REPORT:
        return _report_plan(fmt=fmt, criteria=criteria, user=user, membership=membership)
    if source == CUSTOMERS:
        return _list_plan(fmt=fmt, criteria=criteria, tenant=tenant)
    if source == SELECTION:
        customers = selection_of(user).prefetch_related(_head_office())
        return None, _customers_plan(SELECTION, fmt, customers, tenant, "customers-selection")
    if source == AUDIT:
        from .audit_export import audit_plan

        return audit_plan(fmt=fmt, criteria=criteria, tenant=tenant)
    return _batch_plan(fmt=fmt, key=key, tenant=tenant)


# --- Reports page ------------------------------------------------------------------------


def _report_plan(*, fmt, criteria, user, membership):
    grid = labels.grid_for(report_settings().label_layout)
    form = ReportForm(
        criteria, user=user, has_perm=membership.has_perm, labels_per_sheet=grid.per_sheet
    )
    if not form.is_valid():
        return form, None
    report = form.report_definition
    columns = report.columns_for(membership.has_perm)
    customers = report.queryset(
        selectors.selection(**form.selection_kwargs(tenant=membership.tenant)),
        has_perm=membership.has_perm,
    )
    if fmt == "pdf":
        writer = partial(pdf.write_list, summary=form.summary())
    elif fmt == "labels":
        writer = partial(labels.write_labels, grid=grid, start=form.cleaned_data["start_at"])
    else:
        writer = exports.WRITERS[fmt]
    filters = form.filters_in_use()

    def record(*, actor: Actor, count: int, complete: bool):
        return report_export_record(
            actor=actor,
            report=report.slug,
            fmt=fmt,
            count=count,
            complete=complete,
            filters=filters,
        )

    return form, ExportPlan(
        source=REPORT,
        key=report.slug,
        fmt=fmt,
        customers=customers,
        write=lambda counter: writer(report, columns, customers, counter),
        record=record,
        filename=f"labels-{report.slug}" if fmt == "labels" else report.slug,
    )


# --- The customer list and the own selection -----------------------------------------------


def _head_office() -> Prefetch:
    return Prefetch("addresses", queryset=Address.objects.filter(is_head_office=True))


def _list_plan(*, fmt, criteria, tenant):
    form = CustomerFilterForm(criteria)
    if not form.is_valid():
        return form, None
    kwargs = form.selector_kwargs(tenant=tenant)
    customers = customer_list(**kwargs)
    ordering = kwargs["ordering"]
    if ordering in ("last_activity", "-last_activity"):
        # As the list page sorts: never active counts as oldest.
        field = F("last_activity_at")
        key = field.desc(nulls_last=True) if ordering[0] == "-" else field.asc(nulls_first=True)
        customers = customers.order_by(key, "pk")
    return form, _customers_plan(CUSTOMERS, fmt, customers, tenant, "customers-list")


def _customers_plan(source, fmt, customers, tenant, filename) -> ExportPlan:
    tz = ZoneInfo(tenant.time_zone)
    audit_source = "list" if source == CUSTOMERS else "selection"

    def write(counter):
        rows = customer_exports.rows(customers.iterator(chunk_size=exports.CHUNK_SIZE), tz=tz)
        if fmt == "csv":
            return _csv(customer_exports.headers(), rows, counter)
        return _xlsx(customer_exports.headers(), rows, counter, title=_("Customers"))

    def record(*, actor: Actor, count: int, complete: bool):
        return audit_record(
            action="customers.exported",
            actor=actor,
            object_type="customer",
            data={"format": fmt, "source": audit_source, "count": count},
        )

    return ExportPlan(source, "", fmt, customers, write, record, filename)


# --- The customers a consent batch could not reach --------------------------------------------


def _batch_plan(*, fmt, key, tenant):
    batch = consent_selectors.batch_list().filter(pk=int(key) if str(key).isdigit() else 0).first()
    if batch is None:
        raise UnknownExport(CONSENT_BATCH, key)
    items = consent_selectors.batch_unreachable(batch)
    tz = ZoneInfo(tenant.time_zone)

    def rows():
        for item in items.iterator(chunk_size=exports.CHUNK_SIZE):
            reason = customer_exports.defuse(consent_batches.error_label(item.error))
            for row in customer_exports.rows([item.customer], tz=tz):
                yield [*row, reason]

    def write(counter):
        return _csv([*customer_exports.headers(), _("Reason")], rows(), counter)

    def record(*, actor: Actor, count: int, complete: bool):
        return audit_record(
            action="consent.batch_unreachable_exported",
            actor=actor,
            object_type="consent.batch",
            object_id=batch.pk,
            data={"format": fmt, "count": count},
        )

    # What the rule counts: the batch's items (one row each).
    return None, ExportPlan(
        CONSENT_BATCH,
        str(batch.pk),
        fmt,
        items,
        write,
        record,
        f"consent-batch-{batch.pk}-not-reached",
    )


# --- Writers of plain rows (texts already defused by customers.exports.rows) ---------------


def _csv_cell(value) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _csv(header: list, rows, counter: list[int]) -> Iterator[bytes]:
    """RFC 4180 in UTF-8 with a byte-order mark, one line at a time."""
    writer = csv.writer(exports._Line(), lineterminator="\r\n")
    yield ("\ufeff" + writer.writerow(header)).encode("utf-8")
    for row in rows:
        line = writer.writerow([_csv_cell(v) for v in row])
        counter[0] += 1
        yield line.encode("utf-8")


def _xlsx(header: list, rows, counter: list[int], *, title: str) -> Iterator[bytes]:
    """A write-only workbook (one row in memory), spooled to a temporary file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=exports.text(title)[:31])
    for index, width in enumerate(_CUSTOMER_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    cells = []
    for label in header:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        out = []
        for value in row:
            if isinstance(value, date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd"
                out.append(cell)
            else:
                out.append(value if value not in (None, "") else None)
        sheet.append(out)
        counter[0] += 1
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(exports.FILE_CHUNK):
            yield chunk
