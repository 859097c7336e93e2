"""Reading the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from .models import AuditEvent
from .services import GENESIS_HASH


def audit_event_list(
    *,
    action: str = "",
    actor_type: str = "",
    object_type: str = "",
    object_id: str = "",
    since=None,
    until=None,
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all().order_by("-seq")
    if action:
        qs = qs.filter(action__startswith=action)
    if actor_type:
        qs = qs.filter(actor_type=actor_type)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs


@dataclass(frozen=True)
class ChainReport:
    events: int
    broken_at: int | None  # sequence number of the first bad event
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def audit_chain_verify() -> ChainReport:
    """Walk the active tenant's chain: sequence, link and hash of every event."""
    expected_prev = GENESIS_HASH
    count = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        count += 1
        if event.seq != count:
            return ChainReport(count, event.seq, "sequence gap")
        if event.prev_hash != expected_prev:
            return ChainReport(count, event.seq, "link to the previous event broken")
        if event.compute_hash() != event.hash:
            return ChainReport(count, event.seq, "content does not match its hash")
        expected_prev = event.hash
    return ChainReport(count, None)
