"""The data-subject access export as a readable PDF, in the customer's language.

It renders the document ``reports.subject_access`` builds (the JSON, so both formats
hold the same data): a heading per section, each row as label/value pairs with the
model's own field labels and choice names, empty fields left out. Fonts: DejaVu Sans
where the system has it, else reportlab's bundled Vera; both cover å ä ö æ ø.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from xml.sax.saxutils import escape

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.models import ConsentDecision

from .subject_access import EXTRA_SECTIONS, SECTIONS

FONT, FONT_BOLD = "KundregSans", "KundregSans-Bold"
_FONT_FILES = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
]

SECTION_TITLES = {
    "customer": gettext_lazy("Customer"),
    "addresses": gettext_lazy("Addresses"),
    "contacts": gettext_lazy("Contact persons"),
    "contact_roles": gettext_lazy("Roles of the contact persons"),
    "contact_keys": gettext_lazy("Keys of the contact persons"),
    "consignees": gettext_lazy("Consignees"),
    "keys": gettext_lazy("Keys"),
    "id_cards": gettext_lazy("ID cards"),
    "designations": gettext_lazy("Predefined designations"),
    "activities": gettext_lazy("Activities, notes and tasks"),
    "files": gettext_lazy("Files"),
    "consent_requests": gettext_lazy("Consent requests"),
    "consent_decisions": gettext_lazy("Consent decisions and their proof"),
    "consent_receipts": gettext_lazy("Consent receipts"),
    "sms_replies": gettext_lazy("SMS replies"),
    "sms_reply_routes": gettext_lazy("SMS reply routes"),
    "messages": gettext_lazy("Messages sent"),
    "message_events": gettext_lazy("Delivery events of the messages"),
    "sales_documents": gettext_lazy("Sales documents"),
    "legal_holds": gettext_lazy("Legal holds"),
    "change_history": gettext_lazy("Change history"),
    "audit_entries": gettext_lazy("Audit log entries about the customer"),
    "other": gettext_lazy("Other data"),
    "withheld": gettext_lazy("Fields not included"),
}
REASON_LABELS = {
    "secret": gettext_lazy(
        "A secret (a hash of a PIN, a token or a phone number), not information about you."
    ),
    "derived": gettext_lazy("Derived from data in this export, for searching and sorting."),
    "finance": gettext_lazy("A finance field: not given to this caller."),
}
_MODELS = {section: label for label, section in SECTIONS.items()}


def _fonts() -> tuple[str, str]:
    from reportlab import rl_config
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT, FONT_BOLD
    files = _FONT_FILES
    if not all(path.exists() for path in files):
        bundled = Path(rl_config.__file__).parent / "fonts"
        files = [bundled / "Vera.ttf", bundled / "VeraBd.ttf"]
    pdfmetrics.registerFont(TTFont(FONT, str(files[0])))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(files[1])))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)
    return FONT, FONT_BOLD


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _label(model, name: str) -> str:
    f = _field(model, name)
    if name == "id":
        return "ID"
    if f is None or not hasattr(f, "verbose_name"):
        return capfirst(name.replace("_", " "))
    return capfirst(str(f.verbose_name))


def _text(model, name: str, value) -> str:
    """A value as a person reads it: choice names, Yes/No, local times."""
    f = _field(model, name)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if f is not None and getattr(f, "flatchoices", None) and not isinstance(value, list | dict):
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(f, models.DateTimeField) and isinstance(value, str):
        try:
            moment = timezone.localtime(dt.datetime.fromisoformat(value))
        except ValueError:
            return value
        return moment.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


class _Builder:
    def __init__(self) -> None:
        from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

        font, bold = _fonts()
        base = getSampleStyleSheet()
        self.styles = {
            "title": ParagraphStyle("t", parent=base["Title"], fontName=bold),
            "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=bold),
            "h3": ParagraphStyle("h3", parent=base["Heading4"], fontName=bold),
            "body": ParagraphStyle("b", parent=base["Normal"], fontName=font, fontSize=9),
            "cell": ParagraphStyle("c", parent=base["Normal"], fontName=font, fontSize=8),
        }
        self.story: list = []

    def para(self, text: str, style: str = "body"):
        from reportlab.platypus import Paragraph

        return Paragraph(escape(str(text)), self.styles[style])

    def heading(self, text: str, style: str = "h2") -> None:
        self.story.append(self.para(text, style))

    def table(self, rows: list[list[str]], widths: list[float], header: bool = False) -> None:
        from reportlab.lib import colors
        from reportlab.platypus import Spacer, Table, TableStyle

        cells = [[self.para(c, "cell") for c in row] for row in rows]
        t = Table(cells, colWidths=widths, repeatRows=1 if header else 0)
        style = [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")))
        else:
            style.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f5f6f8")))
        t.setStyle(TableStyle(style))
        self.story += [t, Spacer(1, 3)]

    def record(self, model, row: dict) -> None:
        from reportlab.lib.units import mm

        pairs = [
            [_label(model, name), _text(model, name, value)]
            for name, value in row.items()
            if not _empty(value)
        ]
        if pairs:
            self.table(pairs, [50 * mm, 124 * mm])

    def rows(self, model, rows: list[dict], noun: str = "") -> None:
        noun = noun or capfirst(str(model._meta.verbose_name))
        for n, row in enumerate(rows, 1):
            if len(rows) > 1 and noun:
                self.heading(f"{noun} {n}", "h3")
            self.record(model, row)


# A receipt's facts, under the labels of the decision fields they repeat.
_RECEIPT_FIELDS = {
    "receipt_id": lambda r: r["consentReceiptID"],
    "decision": lambda r: (r.get("event") or {}).get("type"),
    "decided_at": lambda r: (r.get("event") or {}).get("time"),
    "method": lambda r: r.get("collectionMethod"),
    "terms_version": lambda r: (r.get("notice") or {}).get("version"),
    "terms_language": lambda r: (r.get("notice") or {}).get("language"),
    "terms_sha256": lambda r: (r.get("notice") or {}).get("sha256"),
}


def _receipt(receipt: dict) -> dict:
    return {name: get(receipt) for name, get in _RECEIPT_FIELDS.items()}


def _withheld_label(name: str) -> str:
    """ "customers.Customer.search_text" as a person reads it: "Customer: search text"."""
    model_label, field = name.rsplit(".", 1)
    try:
        model = apps.get_model(model_label)
    except LookupError:
        return name
    return f"{capfirst(str(model._meta.verbose_name))}: {_label(model, field)}"


def _audit_rows(entries: list[dict]) -> list[list[str]]:
    return [
        [
            str(e["seq"]),
            e["created_at"][:16].replace("T", " "),
            e["action"],
            f"{e['actor_type']} {e['actor_id']}".strip(),
            f"{e['object_type']} {e['object_id']}".strip(),
        ]
        for e in entries
    ]


def subject_access_pdf(data: dict) -> bytes:
    """The document ``subject_access_data`` built, as a PDF in ``data["language"]``."""
    with translation.override(data["language"]):
        return _render(data)


def _render(data: dict) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    out = io.BytesIO()
    title = _("Personal data held about you")
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
    )
    b = _Builder()
    customer = data["customer"]
    b.heading(title, "title")
    b.story.append(
        b.para(
            _(
                "A copy of all personal data %(company)s holds about customer %(number)s, "
                "made %(date)s (GDPR article 15). The same data in a machine-readable form "
                "(JSON) is available on request."
            )
            % {
                "company": data["tenant"],
                "number": customer.get("number", ""),
                "date": data["generated_at"][:10],
            }
        )
    )
    for section in (*SECTIONS.values(), *EXTRA_SECTIONS):
        value = data.get(section)
        if _empty(value):
            continue
        b.heading(str(SECTION_TITLES.get(section, section)))
        if section == "consent_receipts":
            b.rows(ConsentDecision, [_receipt(r) for r in value], noun=_("Receipt"))
        elif section == "audit_entries":
            head = [_("Number"), _("Time"), _("Action"), _("By"), _("About")]
            widths = [18 * mm, 28 * mm, 50 * mm, 34 * mm, 44 * mm]
            b.table([head, *_audit_rows(value)], widths, header=True)
        else:
            model = apps.get_model(_MODELS[section])
            b.rows(model, [value] if isinstance(value, dict) else value)
    for label, rows in data.get("other", {}).items():
        model = apps.get_model(label)
        b.heading(capfirst(str(model._meta.verbose_name_plural)))
        b.rows(model, rows)
    if data.get("withheld"):
        b.heading(str(SECTION_TITLES["withheld"]))
        b.table(
            [
                [_withheld_label(w["field"]), str(REASON_LABELS.get(w["reason"], w["reason"]))]
                for w in data["withheld"]
            ],
            [70 * mm, 104 * mm],
        )
    doc.build(b.story)
    return out.getvalue()
