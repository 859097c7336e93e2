"""The customer list as CSV and Excel (PENGVIN "Överför resultatet till Excel").

Files are built completely inside the request, in its tenant context and
transaction: a lazily streamed queryset would be read after the view has
returned, outside the tenant scope.

Every text cell is defused against formula injection (OWASP "CSV injection"):
a value starting with = + - @ (or a tab / carriage return) gets a leading
apostrophe, so Excel and LibreOffice show it as text instead of running it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, tzinfo

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from .models import Customer

# More rows than this are refused with a message (narrow the filters instead).
EXPORT_LIMIT = 50_000

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_WIDTHS = (12, 36, 16, 32, 18, 18, 40, 20, 12, 14)


def defuse(value: str) -> str:
    """A text that a spreadsheet will not evaluate as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _printable(value: str) -> str:
    # Control characters are not allowed in the XML of a worksheet (and mean nothing in a CSV).
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def headers() -> list[str]:
    return [
        _("Customer number"),
        _("Name"),
        _("Organisation number"),
        _("Email"),
        _("Phone"),
        _("Mobile"),
        _("Head office address"),
        _("City"),
        _("Status"),
        _("Last activity"),
    ]


def rows(customers: Iterable[Customer], *, tz: tzinfo) -> Iterator[list]:
    """One list per customer, in the order of :func:`headers`; texts defused, dates as dates."""
    for c in customers:
        office = c.head_office
        address = (
            ", ".join(p for p in (office.line1, office.line2, office.postcode) if p)
            if office
            else ""
        )
        last = timezone.localtime(c.last_activity_at, tz).date() if c.last_activity_at else None
        texts = [
            c.number,
            c.name,
            c.org_number,
            c.email,
            c.phone,
            c.mobile,
            address,
            office.city if office else "",
            str(c.get_status_display()),
        ]
        yield [defuse(_printable(t or "")) for t in texts] + [last]


def customers_csv(customers: Iterable[Customer], *, tz: tzinfo) -> bytes:
    """RFC 4180 CSV in UTF-8 with a byte-order mark, so Excel reads å, ä, ö and ø right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers())
    for row in rows(customers, tz=tz):
        *texts, last = row
        writer.writerow([*texts, last.isoformat() if last else ""])
    return out.getvalue().encode("utf-8-sig")


def customers_xlsx(customers: Iterable[Customer], *, tz: tzinfo, title: str = "") -> bytes:
    """An Excel workbook with one sheet: a bold, frozen header row and one row per customer."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(_printable(title) or _("Customers"))[:31])
    for index, width in enumerate(_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for text in headers():
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows(customers, tz=tz):
        *texts, last = row
        cells: list = list(texts)
        if isinstance(last, date):
            cell = WriteOnlyCell(sheet, value=last)
            cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        else:
            cells.append(None)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
