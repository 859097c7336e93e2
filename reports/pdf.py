"""A report as a PDF list: A4, the report's title, the selection, the tenant, "page X of Y",
the header row repeated on every page (issue 11).

Drawn on a reportlab canvas row by row from ``QuerySet.iterator`` (no platypus table, which
wants every row at once): the customers are never all held as Python objects. Reportlab
itself keeps each finished page's drawing operations until it saves the file, so memory
grows with the page count, not with the rows' objects. The total page count is not known
while drawing, so each footer shows a form XObject ("pages") that is filled in at the end
(reportlab lets a form be used before it is defined).

Fonts (Nordic letters): ``reports.pdf_common``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.translation import gettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from tenancy.context import require_tenant

from .definitions import DATE, MONEY, TEXT, Column, Report, cell_values
from .pdf_common import CHUNK_SIZE, fit, fonts, spool

MARGIN = 14 * mm
SIZE, LEADING = 8.5, 10.5  # body text
PAD = 2  # points between a cell's text and its edges
MAX_LINES = 4  # a longer cell is cut with an ellipsis: a row never outgrows a page
LANDSCAPE_FROM = 7  # columns: a list this wide is printed across the page
WEIGHT = {TEXT: 3.0, DATE: 1.6, MONEY: 1.8}
KEY_WEIGHT = {"number": 1.6, "name": 5.0}  # short numbers, long names
PAGES_FORM = "pages"


def _display(column: Column, value) -> str:
    if column.type == DATE:
        return formats.date_format(value, "SHORT_DATE_FORMAT") if isinstance(value, date) else ""
    if column.type == MONEY:
        if not isinstance(value, Decimal):
            return ""
        return formats.number_format(value, 2, use_l10n=True, force_grouping=True)
    return str(value or "")


@dataclass(frozen=True)
class Heading:
    """What every page says above the rows."""

    title: str
    summary: list[tuple[str, str]]
    tenant_name: str


class _ListCanvas:
    """One list document: pages with the heading, the header row, rows, the footer."""

    def __init__(self, file, heading: Heading, columns: list[Column]):
        self.font, self.bold = fonts()
        self.pagesize = landscape(A4) if len(columns) >= LANDSCAPE_FROM else A4
        self.canvas = Canvas(file, pagesize=self.pagesize, pageCompression=1)
        self.canvas.setTitle(heading.title)
        self.canvas.setCreator("Kundreg")
        self.heading = heading
        self.columns = columns
        usable = self.pagesize[0] - 2 * MARGIN
        weights = [KEY_WEIGHT.get(c.key, WEIGHT[c.type]) for c in columns]
        self.widths = [usable * w / (sum(weights) or 1) for w in weights]
        self.printed = formats.date_format(timezone.localtime(), "SHORT_DATETIME_FORMAT")
        self.page = 0
        self.y = 0.0

    # --- page furniture --------------------------------------------------------------

    def _start_page(self) -> None:
        c, width, height = self.canvas, *self.pagesize
        self.page += 1
        y = height - MARGIN - 12
        c.setFont(self.bold, 13)
        c.drawString(MARGIN, y, fit(self.heading.title, width - 2 * MARGIN, self.bold, 13)[0])
        y -= 13
        c.setFont(self.font, 8)
        line = f"{self.heading.tenant_name} · " + gettext("Printed %(when)s") % {
            "when": self.printed
        }
        c.drawString(MARGIN, y, line)
        summary = " · ".join(f"{label}: {value}" for label, value in self.heading.summary)
        for text in fit(summary, width - 2 * MARGIN, self.font, 8, lines=2) if summary else []:
            y -= 10
            c.drawString(MARGIN, y, text)
        self.y = y - 8
        self._header_row()
        self._footer()

    def _header_row(self) -> None:
        cells = [fit(str(c.label), w - 2 * PAD, self.bold, SIZE, 2) for c, w in self._cols()]
        height = max(len(lines) for lines in cells) * LEADING + 2 * PAD
        c = self.canvas
        c.setFillColor(colors.HexColor("#e6e6e6"))
        c.rect(MARGIN, self.y - height, sum(self.widths), height, stroke=0, fill=1)
        c.setFillColor(colors.black)
        self._cells(cells, height, self.bold)
        self.y -= height

    def _footer(self) -> None:
        """ "Page X of Y": Y is the form filled in when the document ends."""
        c = self.canvas
        c.setFont(self.font, 8)
        before, _sep, after = gettext("Page %(page)s of %(pages)s").partition("%(pages)s")
        text = before % {"page": self.page} if "%(page)s" in before else before
        x, y = MARGIN, MARGIN - 10
        c.drawString(x, y, text)
        x += pdfmetrics.stringWidth(text, self.font, 8)
        c.saveState()
        c.translate(x, y)
        c.doForm(PAGES_FORM)
        c.restoreState()
        if after:
            # The total is at most a few digits: leave room for six.
            c.drawString(x + pdfmetrics.stringWidth("000000", self.font, 8), y, after)

    # --- rows ------------------------------------------------------------------------

    def _cols(self):
        return zip(self.columns, self.widths, strict=True)

    def _cells(self, cells: list[list[str]], height: float, font: str) -> None:
        c = self.canvas
        c.setFont(font, SIZE)
        x = MARGIN
        for (column, width), lines in zip(self._cols(), cells, strict=True):
            y = self.y - PAD - SIZE
            for text in lines:
                if column.type == MONEY:
                    c.drawRightString(x + width - PAD, y, text)
                else:
                    c.drawString(x + PAD, y, text)
                y -= LEADING
            x += width

    def row(self, values: list) -> None:
        cells = [
            fit(_display(column, value), width - 2 * PAD, self.font, SIZE, MAX_LINES)
            for (column, width), value in zip(self._cols(), values, strict=True)
        ]
        height = max(len(lines) for lines in cells) * LEADING + 2 * PAD
        if self.page == 0 or self.y - height < MARGIN:
            if self.page:
                self.canvas.showPage()
            self._start_page()
        self._cells(cells, height, self.font)
        self.canvas.setStrokeColor(colors.HexColor("#cccccc"))
        self.canvas.setLineWidth(0.3)
        self.y -= height
        self.canvas.line(MARGIN, self.y, MARGIN + sum(self.widths), self.y)

    def empty(self) -> None:
        self._start_page()
        self.canvas.setFont(self.font, SIZE)
        self.canvas.drawString(
            MARGIN + PAD, self.y - PAD - SIZE, gettext("No customers match the selection.")
        )

    def save(self) -> int:
        self.canvas.showPage()
        self.canvas.beginForm(PAGES_FORM)
        self.canvas.setFont(self.font, 8)
        self.canvas.drawString(0, 0, str(self.page))
        self.canvas.endForm()
        self.canvas.save()
        return self.page


def write_list(
    report: Report,
    columns: list[Column],
    customers,
    counter: list[int],
    *,
    summary: list[tuple[str, str]],
) -> Iterator[bytes]:
    """The PDF list (a report writer, as ``exports.WRITERS``): one line per report row."""

    def fill(file) -> None:
        heading = Heading(str(report.label), summary, require_tenant().name)
        document = _ListCanvas(file, heading, columns)
        for customer in customers.iterator(chunk_size=CHUNK_SIZE):
            for values in cell_values(report, columns, customer):
                document.row(values)
                counter[0] += 1
        if document.page == 0:
            document.empty()
        document.save()

    yield from spool(fill)
