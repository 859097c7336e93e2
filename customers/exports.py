"""The customer list's export columns (PENGVIN "Överför resultatet till Excel").

The files themselves are written by the one export path of the app (issue 11: streamed at
once when small, a background job when big), which ``reports`` installs here
(``install_exporter``); this app only says what a customer's row holds.

Every text cell is defused against formula injection (OWASP "CSV injection"):
a value starting with = + - @ (or a tab / carriage return) gets a leading
apostrophe, so Excel and LibreOffice show it as text instead of running it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import tzinfo

from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from .models import Customer
from .phones import phone_display

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
            phone_display(c.phone),
            phone_display(c.mobile),
            address,
            office.city if office else "",
            str(c.get_status_display()),
        ]
        yield [defuse(_printable(t or "")) for t in texts] + [last]


# --- The export path (installed by reports, which this app may not import) ------------------

_exporter: Callable[..., HttpResponse] | None = None


def install_exporter(exporter: Callable[..., HttpResponse]) -> None:
    """Reports installs its export path here (``ReportsConfig.ready``), as the anonymization
    engine installs its eraser in the PII registry."""
    global _exporter
    _exporter = exporter


def export_response(request, *, source: str, fmt: str, criteria: QueryDict, key: str = ""):
    """The export of ``source`` (``customers``, ``selection``, ``consent_batch``) as a
    response: the file streamed at once when it is small, else a job's progress page.
    ``criteria``: the page's filters; ``key``: what the source names (a batch's id)."""
    if _exporter is None:
        raise RuntimeError("No export path installed (is 'reports' installed?).")
    return _exporter(request, source=source, fmt=fmt, criteria=criteria, key=key)
