"""Use cases of reports that write: recording an export in the audit log."""

from __future__ import annotations

from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_record

EXPORTED = "reports.exported"


def report_export_record(
    *,
    actor: Actor,
    report: str,
    fmt: str,
    count: int,
    complete: bool,
    filters: list[str],
) -> AuditEvent:
    """Who exported which report, in which format, with how many rows.

    No personal data: the report's slug, the *names* of the filters in use (a search
    text may be a name, so values never go in), the row count, and whether the
    download ran to its end.
    """
    return audit_record(
        action=EXPORTED,
        actor=actor,
        object_type="report",
        object_id=report,
        data={
            "report": report,
            "format": fmt,
            "count": count,
            "complete": complete,
            "filters": sorted(filters),
        },
    )
