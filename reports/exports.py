"""A report as CSV or Excel, streamed row by row so memory stays flat.

The response is read after the view has returned, outside the request's tenant scope
and transaction: the stream enters the tenant itself (``tenant_scope`` and one read
transaction, which a server-side cursor needs) and reads the customers in chunks
(``QuerySet.iterator``). It counts the rows it sends and, when it ends, records the
export in the audit log — also when the download was cut off (then ``complete`` is
false, with the rows sent so far).

Text cells are defused against formula injection with the customer list's own helper
(``customers.exports.defuse``); dates and amounts are typed values, never text.

Excel: openpyxl's write-only workbook keeps only the current row in memory and spools
the sheet to a temporary file; the finished file is then sent in chunks.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from audit.actors import Actor
from customers.exports import defuse
from tenancy.context import tenant_scope

from .definitions import DATE, MONEY, TEXT, Column, Report, cell_values

CHUNK_SIZE = 1000
FILE_CHUNK = 64 * 1024
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def text(value) -> str:
    """A text cell: printable (no control characters) and never a formula."""
    return defuse(ILLEGAL_CHARACTERS_RE.sub("", str(value or "")))


class _Line:
    """A file-like that hands back what csv.writer writes (Django's streaming-CSV recipe)."""

    def write(self, value: str) -> str:
        return value


def _csv_value(column: Column, value) -> str:
    if column.type == DATE:
        return value.isoformat() if isinstance(value, date) else ""
    if column.type == MONEY:
        return f"{value:.2f}" if isinstance(value, Decimal) else ""
    return text(value)


def _csv(report: Report, columns: list[Column], customers, counter: list[int]) -> Iterator[bytes]:
    """RFC 4180 in UTF-8 with a byte-order mark (Excel then reads å, ä, ö and ø right)."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield ("\ufeff" + writer.writerow([text(c.label) for c in columns])).encode("utf-8")
    for customer in customers.iterator(chunk_size=CHUNK_SIZE):
        for values in cell_values(report, columns, customer):
            line = writer.writerow([_csv_value(c, v) for c, v in zip(columns, values, strict=True)])
            counter[0] += 1  # handed out: counted even if the client leaves now
            yield line.encode("utf-8")


_WIDTH = {TEXT: 24, DATE: 12, MONEY: 14}


def _xlsx_cell(sheet, column: Column, value):
    if column.type == DATE:
        if not isinstance(value, date):
            return None
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if column.type == MONEY:
        if value is None:
            return None
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "#,##0.00"
        return cell
    return text(value) or None


def _xlsx(report: Report, columns: list[Column], customers, counter: list[int]) -> Iterator[bytes]:
    """One sheet: a bold, frozen header row with an autofilter, one row per report row."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=text(report.label)[:31])
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _WIDTH[column.type]
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=text(column.label))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for customer in customers.iterator(chunk_size=CHUNK_SIZE):
        for values in cell_values(report, columns, customer):
            sheet.append([_xlsx_cell(sheet, c, v) for c, v in zip(columns, values, strict=True)])
            counter[0] += 1
    # Written after the rows, so the range can name the last one.
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{counter[0] + 1}"
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(FILE_CHUNK):
            yield chunk


WRITERS: dict[str, Callable] = {"csv": _csv, "xlsx": _xlsx}


def stream_export(
    *, tenant, actor: Actor, language: str, write: Callable, record: Callable
) -> Iterator[bytes]:
    """The bytes of ``write(counter)``, read in the tenant's scope; ``record(actor=, count=,
    complete=)`` writes the audit entry when it ends (``reports.export_sources`` plans)."""
    counter = [0]
    complete = False
    with ExitStack() as stack:
        stack.enter_context(translation.override(language))
        stack.enter_context(tenant_scope(tenant))
        stack.enter_context(timezone.override(tenant.time_zone))
        try:
            with transaction.atomic():
                yield from write(counter)
            complete = True
        finally:
            # Also when the client went away mid-download (GeneratorExit): what was sent
            # is on record. A new short transaction: the read one may have been rolled back.
            record(actor=actor, count=counter[0], complete=complete)
