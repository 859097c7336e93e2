"""The audit log as a CSV file, on the one export path (reports/jobs.py): the entries the
audit page shows for the same filters, each as its sentence, with the stored entry
alongside for auditors. Customers appear by number only (audit/describe.py), so the file
names no customer; the export itself is audited (``audit.exported``: count and the names
of the filters used, no values)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.describe import describe
from audit.forms import AuditFilterForm
from audit.selectors import audit_events
from audit.services import audit_record
from customers.exports import defuse

from . import export_sources
from .audit_text import AUDIT_EXPORTED

BATCH = 500  # entries described (names resolved) per round


def _rows(events) -> Iterator[list]:
    iterator = events.iterator(chunk_size=BATCH)
    while batch := list(islice(iterator, BATCH)):
        for entry in describe(batch, as_html=False):
            event = entry.event
            yield [
                entry.event.created_at.isoformat(timespec="seconds"),
                entry.when,
                entry.actor,
                entry.label,
                entry.sentence,
                event.action,
                event.actor_type,
                event.actor_id,
                event.object_type,
                event.object_id,
                entry.raw,
            ]


def audit_plan(*, fmt: str, criteria, tenant):
    form = AuditFilterForm(criteria, tenant=tenant)
    if not form.is_valid():
        return form, None
    events = audit_events(**form.filters())
    filters = form.in_use()
    header = [
        _("Time (UTC)"),
        _("Time"),
        _("Person"),
        _("Action"),
        _("What happened"),
        _("Action code"),
        _("Actor type"),
        _("Actor id"),
        _("Object type"),
        _("Object id"),
        _("Data"),
    ]

    def write(counter):
        return export_sources._csv(header, (_defused(row) for row in _rows(events)), counter)

    def record(*, actor: Actor, count: int, complete: bool):
        return audit_record(
            action=AUDIT_EXPORTED,
            actor=actor,
            object_type="audit",
            data={"format": fmt, "count": count, "complete": complete, "filters": filters},
        )

    plan = export_sources.ExportPlan(
        export_sources.AUDIT, "", fmt, events, write, record, "audit-log"
    )
    return form, plan


def _defused(row: list) -> list:
    """Cells a spreadsheet would run as a formula start with a quote (as customer lists)."""
    return [defuse(v) if isinstance(v, str) else v for v in row]
