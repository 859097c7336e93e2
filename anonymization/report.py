"""The erasure report of a finished run (issue 10 item 4): what was erased, by category and
model, how many customers, which audit entries record it, and the residue scan's result.

For a data-protection officer to hand to an auditor: no personal data (ids of customers
are not in it either; the audit entries it lists hold them, and the audit log shows them
to those who may read it). JSON for machines, a PDF (reportlab) for people.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from tenancy.context import require_tenant

from .models import AnonymizationRun
from .registry import CATEGORY_LABELS
from .selectors import run_skipped_reasons


@dataclass(frozen=True)
class ReportEntry:
    seq: int
    at: str
    action: str
    hash: str


def _entries(run: AnonymizationRun) -> list[ReportEntry]:
    events = AuditEvent.objects.filter(
        object_type="anonymization.run", object_id=str(run.pk)
    ).order_by("created_at", "id")  # one order across the tenant's audit chains
    return [
        ReportEntry(e.seq, e.created_at.isoformat(), e.action, e.hash) for e in events.iterator()
    ]


def _residue(run: AnonymizationRun) -> list[list]:
    """Where free text still named someone: [model, field, row id], from the audit entries."""
    rows = AuditEvent.objects.filter(
        object_type="anonymization.run",
        object_id=str(run.pk),
        action__in=["anonymization.chunk", "anonymization.scanned"],
    ).values_list("data", flat=True)
    return [place for data in rows for place in (data or {}).get("residue", [])]


def erasure_report_data(run: AnonymizationRun) -> dict:
    tenant = require_tenant()
    chain = audit_chain_verify()
    counts = run.counts or {}
    return {
        "report": "erasure",
        "generated_at": timezone.now().isoformat(),
        "company": {"name": tenant.name, "slug": tenant.slug},
        "run": {
            "id": run.pk,
            "status": run.status,
            "source": run.source,
            "note": run.note,
            "started_by": (
                run.created_by.get_full_name() or run.created_by.get_username()
                if run.created_by
                else run.actor_type
            ),
            "created_at": run.created_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        },
        "categories": [
            {"code": code, "label": str(CATEGORY_LABELS.get(code, code))} for code in run.categories
        ],
        "customers": {"total": run.total, "anonymized": run.anonymized, "skipped": run.skipped},
        "skipped_by_reason": [
            {"reason": str(label), "customers": n} for label, n in run_skipped_reasons(run)
        ],
        "rows_by_category": counts.get("per_category", {}),
        "rows_by_model": counts.get("per_model", {}),
        "shared_rows_unlinked": counts.get("unlinked", {}),
        "free_text_redacted": counts.get("redacted", {}),
        "files_deleted": run.files_deleted,
        "residue": {"count": run.residue, "places": _residue(run)},
        "audit_entries": [e.__dict__ for e in _entries(run)],
        "audit_chain": {
            "verified": chain.ok,
            "events": chain.events,
            "head_hash": chain.head_hash,
        },
    }


def erasure_report_pdf(run: AnonymizationRun) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    data = erasure_report_data(run)
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=_("Erasure report"),
    )
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )

    def table(head: list[str], rows: list[list]) -> Table:
        t = Table([head, *rows] if rows else [head, ["—"] * len(head)], repeatRows=1)
        t.setStyle(grid)
        return t

    r = data["run"]
    story = [
        Paragraph(_("Erasure report"), styles["Title"]),
        Paragraph(f"{data['company']['name']} · {_('run')} {r['id']}", styles["Heading2"]),
        table(
            [_("Fact"), _("Value")],
            [
                [_("Started"), r["created_at"]],
                [_("Finished"), r["finished_at"] or "—"],
                [_("Started by"), r["started_by"]],
                [_("Note"), r["note"] or "—"],
                [_("Data anonymized"), ", ".join(c["label"] for c in data["categories"])],
                [_("Customers in the run"), data["customers"]["total"]],
                [_("Anonymized"), data["customers"]["anonymized"]],
                [_("Skipped"), data["customers"]["skipped"]],
                [_("Files deleted"), data["files_deleted"]],
                [_("Free text still naming someone (residue)"), data["residue"]["count"]],
            ],
        ),
        Spacer(1, 6 * mm),
        Paragraph(_("Rows erased by kind of data"), styles["Heading3"]),
        table(
            [_("Kind of data"), _("Rows")],
            [[str(CATEGORY_LABELS.get(k, k)), v] for k, v in data["rows_by_category"].items()],
        ),
        Spacer(1, 4 * mm),
        Paragraph(_("Rows erased by table"), styles["Heading3"]),
        table([_("Table"), _("Rows")], [[k, v] for k, v in data["rows_by_model"].items()]),
        Spacer(1, 4 * mm),
        Paragraph(_("Skipped customers"), styles["Heading3"]),
        table(
            [_("Reason"), _("Customers")],
            [[row["reason"], row["customers"]] for row in data["skipped_by_reason"]],
        ),
        Spacer(1, 4 * mm),
        Paragraph(_("Residue scan"), styles["Heading3"]),
        table(
            [_("Table"), _("Field"), _("Row")],
            [list(place) for place in data["residue"]["places"]],
        ),
        Spacer(1, 4 * mm),
        Paragraph(_("Audit entries that record this run"), styles["Heading3"]),
        table(
            [_("Number"), _("Time"), _("Action"), _("Hash")],
            [
                [e["seq"], e["at"][:19], e["action"], e["hash"][:16] + "…"]
                for e in data["audit_entries"]
            ],
        ),
        Spacer(1, 4 * mm),
        Paragraph(
            (
                _(
                    "The company's audit chain of %(n)d entries was verified intact when this "
                    "report was made."
                )
                if data["audit_chain"]["verified"]
                else _("The company's audit chain did NOT verify when this report was made.")
            )
            % {"n": data["audit_chain"]["events"]},
            styles["Normal"],
        ),
    ]
    doc.build(story)
    return out.getvalue()
