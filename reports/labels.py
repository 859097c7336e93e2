"""Address labels on A4 sheets (issue 11; Avance's "Etikett/referens").

**Which labels.** One label per contact reference (contact person) of a customer, with
"Att: <contact>"; one label for a customer that has none. Deleted (tombstoned) and
inactive contacts get no label: nobody is there to read it. The address is the postal
address when the customer has one, else the head office, else its first address — the
one a letter should go to. Anonymized customers never reach this module: the report
selection leaves them out (``reports.selectors.selection``).

**Where.** A sheet is a grid (``GRIDS``), chosen per tenant (``ReportSettings``); labels
fill it row by row, left to right, and ``start`` (1 = the top-left label) skips the
labels already peeled off a half-used sheet. Positions are measured from the sheet's
top-left corner in millimetres, as the sheet makers print them.

Drawn one label at a time from ``QuerySet.iterator``, like the PDF list, on a
``StreamingCanvas`` (``reports.pdf_stream``): each finished sheet goes to the file at once,
so a label export's memory does not grow with its sheet count (one PDF to print, however
many sheets).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from customers.models import Address, AddressKind, Contact
from tenancy.context import require_tenant

from .models import LabelLayout
from .pdf_common import CHUNK_SIZE, fit, fonts, spool
from .pdf_stream import StreamingCanvas


@dataclass(frozen=True)
class Grid:
    """A sheet of ``cols`` x ``rows`` labels (all lengths in mm)."""

    cols: int
    rows: int
    width: float
    height: float
    left: float  # the sheet's edge to the first column
    top: float  # the sheet's edge to the first row
    h_pitch: float  # one label's left edge to the next one's
    v_pitch: float

    @property
    def per_sheet(self) -> int:
        return self.cols * self.rows


GRIDS: dict[str, Grid] = {
    # 3 x 70 mm fill the 210 mm width; 8 x 36 mm leave 4.5 mm above and below.
    LabelLayout.L3X8: Grid(3, 8, 70, 36, left=0, top=4.5, h_pitch=70, v_pitch=36),
    # The common 99.1 x 38.1 mm sheet (e.g. Avery L7163): 2.5 mm between the columns.
    LabelLayout.L2X7: Grid(2, 7, 99.1, 38.1, left=4.65, top=15.15, h_pitch=101.6, v_pitch=38.1),
    LabelLayout.L3X7: Grid(3, 7, 70, 42.3, left=0, top=0.45, h_pitch=70, v_pitch=42.3),
}
PAD_X, PAD_Y = 5, 4  # mm inside a label's edges (printers do not print to a sheet's edge)
SIZE, LEADING = 9.5, 11.5


def grid_for(layout: str) -> Grid:
    return GRIDS.get(layout, GRIDS[LabelLayout.L3X8])


def position(grid: Grid, index: int, start: int = 1) -> tuple[int, int, int]:
    """(sheet, row, column), all from 0, of the ``index``-th label (from 0) when the first
    one goes to position ``start`` (from 1) of the first sheet."""
    slot = start - 1 + index
    sheet, cell = divmod(slot, grid.per_sheet)
    row, col = divmod(cell, grid.cols)
    return sheet, row, col


def origin(grid: Grid, row: int, col: int) -> tuple[float, float]:
    """The label's top-left corner in PDF points (from the page's bottom-left corner)."""
    return (grid.left + col * grid.h_pitch) * mm, A4[1] - (grid.top + row * grid.v_pitch) * mm


# --- Which labels ------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    number: str
    name: str
    attention: str  # the contact's name, or ""
    line1: str
    line2: str
    postcode: str
    city: str
    country: str  # shown only when it is not the tenant's own


def with_label_data(customers: QuerySet) -> QuerySet:
    """The customers with what their labels need: every address and the contacts."""
    if any(
        getattr(p, "to_attr", None) == "label_contacts" for p in customers._prefetch_related_lookups
    ):
        return customers
    contacts = Contact.objects.filter(deleted_at__isnull=True, is_active=True).order_by(
        "last_name", "first_name", "number"
    )
    return customers.prefetch_related(
        Prefetch(
            "addresses",
            queryset=Address.objects.order_by("-is_head_office", "pk"),
            to_attr="label_addresses",
        ),
        Prefetch("contacts", queryset=contacts, to_attr="label_contacts"),
    )


def mail_address(addresses: list[Address]) -> Address | None:
    """The postal address, else the head office, else the first address (or None)."""
    for address in addresses:
        if address.kind == AddressKind.POSTAL:
            return address
    for address in addresses:
        if address.is_head_office:
            return address
    return addresses[0] if addresses else None


def label_rows(customer) -> Iterator[Label]:
    """A customer's labels: one per contact, or one when it has none."""
    addresses = getattr(customer, "label_addresses", None)
    if addresses is None:
        addresses = list(customer.addresses.all())
    contacts = getattr(customer, "label_contacts", None)
    if contacts is None:
        contacts = list(customer.contacts.filter(deleted_at__isnull=True, is_active=True))
    address = mail_address(addresses)
    fields = {
        part: getattr(address, part) if address is not None else ""
        for part in ("line1", "line2", "postcode", "city", "country")
    }
    for attention in [c.full_name for c in contacts] or [""]:
        yield Label(number=customer.number, name=customer.name, attention=attention, **fields)


def label_lines(label: Label, home_country: str) -> list[str]:
    """What the label says, top to bottom (empty parts left out)."""
    lines = [label.name]
    if label.attention:
        lines.append(gettext("Att: %(name)s") % {"name": label.attention})
    lines += [label.line1, label.line2, " ".join(p for p in (label.postcode, label.city) if p)]
    if label.country and label.country.upper() != (home_country or "").upper():
        lines.append(label.country.upper())
    return [line for line in lines if line]


# --- The sheet ---------------------------------------------------------------------------


def _draw(canvas: Canvas, grid: Grid, row: int, col: int, lines: list[str]) -> None:
    font, bold = fonts()
    left, top = origin(grid, row, col)
    width = (grid.width - 2 * PAD_X) * mm
    room = int(((grid.height - 2 * PAD_Y) * mm) // LEADING)  # lines that fit
    name, rest = lines[0], lines[1:]
    drawn = [(bold, text) for text in fit(name, width, bold, SIZE, max(1, room - len(rest)))]
    drawn += [(font, fit(text, width, font, SIZE)[0]) for text in rest]
    y = top - PAD_Y * mm - SIZE
    for face, text in drawn[:room]:
        canvas.setFont(face, SIZE)
        canvas.drawString(left + PAD_X * mm, y, text)
        y -= LEADING


def write_labels(
    report, columns, customers, counter: list[int], *, grid: Grid, start: int = 1
) -> Iterator[bytes]:
    """The label sheets (a report writer, as ``exports.WRITERS``; ``report`` and ``columns``
    are not used: every report's selection can be printed on labels)."""

    def fill(file) -> None:
        home = require_tenant().country
        canvas = StreamingCanvas(file, pagesize=A4, pageCompression=1)
        canvas.setTitle(gettext("Labels"))
        canvas.setCreator("Kundreg")
        sheet = 0
        for customer in with_label_data(customers).iterator(chunk_size=CHUNK_SIZE):
            for label in label_rows(customer):
                at_sheet, row, col = position(grid, counter[0], start)
                if at_sheet != sheet:
                    canvas.showPage()
                    sheet = at_sheet
                _draw(canvas, grid, row, col, label_lines(label, home))
                counter[0] += 1
        canvas.showPage()  # also the one empty sheet of an empty selection
        canvas.save()

    yield from spool(fill)
