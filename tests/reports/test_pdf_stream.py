"""reports.pdf_stream: a label PDF written page by page is one valid file (pypdf, strict),
its cross-reference table points at every object, and the document keeps no finished page."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4

from reports import labels
from reports.pdf_stream import StreamingCanvas

SHEETS = 30


def _sheets(canvas, count: int, first: int = 0) -> None:
    grid = labels.grid_for("3x8")
    for sheet in range(first, first + count):
        for index in range(grid.per_sheet):
            _at, row, col = labels.position(grid, index)
            labels._draw(canvas, grid, row, col, [f"Åsa Øberg {sheet}-{index}", "Storgatan 1"])
        canvas.showPage()


def test_pages_go_to_the_file_as_they_are_finished():
    file = io.BytesIO()
    canvas = StreamingCanvas(file, pagesize=A4, pageCompression=1)
    canvas.setTitle("Etiketter")
    sizes = []
    for sheet in range(3):
        _sheets(canvas, 1, first=sheet)
        sizes.append(file.tell())
    # Each finished sheet (its compressed content, some 700 bytes here) is in the file.
    assert sizes[0] > 700 and sizes[1] - sizes[0] > 700 and sizes[2] - sizes[1] > 700
    _sheets(canvas, SHEETS - 3, first=3)
    # The document holds only stand-ins for its pages, not their drawing operations.
    assert all(type(p).__name__ == "_Written" for p in canvas._doc.Pages.pages)
    canvas.save()
    data = file.getvalue()
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == SHEETS
    assert reader.metadata.title == "Etiketter"
    text = reader.pages[SHEETS - 1].extract_text()
    assert f"Åsa Øberg {SHEETS - 1}-0" in text and f"Åsa Øberg {SHEETS - 1}-23" in text
    assert "Åsa Øberg 0-0" in reader.pages[0].extract_text()


def test_the_cross_reference_table_points_at_every_object():
    file = io.BytesIO()
    canvas = StreamingCanvas(file, pagesize=A4, pageCompression=1)
    _sheets(canvas, 5)
    canvas.save()
    data = file.getvalue()
    start = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))
    table = data[start : data.index(b"trailer", start)].split(b"\n")
    first, count = map(int, table[1].split())
    assert first == 0 and count > 5 * 2 + 3  # pages, their contents, fonts, tree, catalog
    for number, entry in enumerate(table[3 : 3 + count - 1], start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(f"{number} 0 obj".encode()), number
