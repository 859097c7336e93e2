"""What the PDF list (``reports.pdf``) and the label sheets (``reports.labels``) share.

**Fonts.** The 14 standard PDF fonts are not embedded and cannot be relied on for å, ä,
ö, æ and ø; a TrueType font is embedded (as a subset) instead: DejaVu Sans from Debian's
``fonts-dejavu-core`` when it is installed, else Bitstream Vera, which ships inside the
reportlab wheel, so a machine without the Debian package still renders them (DejaVu is
derived from Vera; both cover Latin-1 and Latin Extended-A).
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import reportlab
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# As in reports.exports (not imported from there: definitions -> labels -> here).
CHUNK_SIZE = 1000  # customers read per round trip
FILE_CHUNK = 64 * 1024
FONT, BOLD = "ReportSans", "ReportSans-Bold"
FONT_CANDIDATES = (
    (Path("/usr/share/fonts/truetype/dejavu"), "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    (Path(reportlab.__file__).parent / "fonts", "Vera.ttf", "VeraBd.ttf"),
)


@functools.cache
def fonts() -> tuple[str, str]:
    """Register the TrueType font (regular, bold) once per process; their names."""
    for folder, regular, bold in FONT_CANDIDATES:
        if (folder / regular).is_file() and (folder / bold).is_file():
            pdfmetrics.registerFont(TTFont(FONT, str(folder / regular)))
            pdfmetrics.registerFont(TTFont(BOLD, str(folder / bold)))
            return FONT, BOLD
    raise RuntimeError("No TrueType font for PDF reports (fonts-dejavu-core or reportlab's)")


def fit(text: str, width: float, font: str, size: float, lines: int = 1) -> list[str]:
    """``text`` wrapped to ``width``, at most ``lines`` lines, the last cut with "…"."""
    wrapped = simpleSplit(text, font, size, width) or [""]
    if len(wrapped) <= lines:
        return wrapped
    last = " ".join(wrapped[lines - 1 :])
    while last and pdfmetrics.stringWidth(last + "…", font, size) > width:
        last = last[:-1]
    return [*wrapped[: lines - 1], last.rstrip() + "…"]


def spool(fill: Callable) -> Iterator[bytes]:
    """Run ``fill(file)`` on a temporary file, then hand the file out in chunks (reportlab
    writes the whole document when it saves)."""
    with tempfile.TemporaryFile() as file:
        fill(file)
        file.seek(0)
        while chunk := file.read(FILE_CHUNK):
            yield chunk
