"""How exports and report settings read in the audit log
(audit/describe.py discovers this module)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as L
from django.utils.translation import ngettext

from audit.describe import action

from .definitions import REPORTS
from .models import LabelLayout
from .preferences import SETTINGS_CHANGED
from .services import EXPORTED as REPORT_EXPORTED
from .subject_access import EXPORTED as SUBJECT_EXPORTED

AUDIT_EXPORTED = "audit.exported"
G = "exports"


def _report_exported(d):
    n = d.count(d.data.get("count"))
    slug = d.data.get("report") or d.event.object_id
    report = REPORTS.get(slug)
    values = {
        "report": str(report.label) if report else slug,
        "count": d.number(n),
        "format": str(d.data.get("format", "")).upper(),
    }
    if d.data.get("complete", True):
        template = ngettext(
            "{actor} exported the report “{report}” with {count} row as {format}.",
            "{actor} exported the report “{report}” with {count} rows as {format}.",
            n,
        )
    else:
        template = ngettext(
            "{actor} exported the report “{report}” as {format}, cut off after {count} row.",
            "{actor} exported the report “{report}” as {format}, cut off after {count} rows.",
            n,
        )
    return d.say(template, **values)


def _subject_exported(d):
    template = (
        _("{actor} exported the personal data of the customer {customer} as {format} (API).")
        if d.data.get("channel") == "api"
        else _("{actor} exported the personal data of the customer {customer} as {format}.")
    )
    return d.say(template, customer=d.customer(), format=str(d.data.get("format", "")).upper())


def _audit_exported(d):
    n = d.count(d.data.get("count"))
    return d.say(
        ngettext(
            "{actor} exported {count} audit log entry as {format}.",
            "{actor} exported {count} audit log entries as {format}.",
            n,
        ),
        count=d.number(n),
        format=str(d.data.get("format", "")).upper(),
    )


action(REPORT_EXPORTED, L("Report exported"), G, _report_exported)
action(SUBJECT_EXPORTED, L("Personal data exported"), G, _subject_exported)
action(AUDIT_EXPORTED, L("Audit log exported"), G, _audit_exported)
action(
    SETTINGS_CHANGED,
    L("Report settings changed"),
    "settings",
    lambda d: d.say(
        _("{actor} chose the label sheet {layout}."),
        layout=d.choice(LabelLayout, d.data.get("label_layout")),
    ),
)
