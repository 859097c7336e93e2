"""Reading the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Max, QuerySet

from .anchor import Checkpoint
from .models import GENESIS_HASH, AuditEvent


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
    broken_at: int | None  # sequence number of the first bad (or first missing) event
    reason: str = ""
    checkpoint: Checkpoint | None = None  # the checkpoint the chain was held against
    head_id: int | None = None
    head_hash: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def audit_chain_verify(
    *, checkpoint: Checkpoint | None = None, since_checkpoint: bool = False
) -> ChainReport:
    """Walk the active tenant's chain: sequence, link, hash and keyed hash of every event.

    Against ``checkpoint`` (the tenant's last head anchored outside the database) the
    chain must also reach that head, with the same hash there. ``since_checkpoint``
    walks only from the checkpointed event on (what the checkpoint writer needs).
    """
    events = AuditEvent.objects.order_by("seq")
    expected_prev: str | None = GENESIS_HASH
    count = 0
    if checkpoint is not None and since_checkpoint:
        events = events.filter(seq__gte=checkpoint.seq)
        count = checkpoint.seq - 1
        expected_prev = None  # the checkpoint vouches for the event at its position
    head = None

    def broken(seq: int, reason: str) -> ChainReport:
        return ChainReport(count, seq, reason, checkpoint)

    for event in events.iterator(chunk_size=2000):
        count += 1
        if event.seq != count:
            return broken(event.seq, "sequence gap")
        if expected_prev is not None and event.prev_hash != expected_prev:
            return broken(event.seq, "link to the previous event broken")
        if event.compute_hash() != event.hash:
            return broken(event.seq, "content does not match its hash")
        if not event.mac_is_valid():
            return broken(event.seq, "keyed hash wrong: rewritten without the key")
        at_checkpoint = checkpoint is not None and event.seq == checkpoint.seq
        if at_checkpoint and event.hash != checkpoint.head_hash:
            return broken(event.seq, f"differs from the checkpoint of {checkpoint.at}")
        expected_prev = event.hash
        head = event
    if checkpoint is not None and count < checkpoint.count:
        if since_checkpoint:  # only the tail was walked: how much is left before it?
            count = AuditEvent.objects.aggregate(last=Max("seq"))["last"] or 0
        if count == 0:
            reason = f"all events missing: the checkpoint of {checkpoint.at} counted "
        else:
            reason = (
                f"the newest {checkpoint.count - count} event(s) missing: "
                f"the checkpoint of {checkpoint.at} counted "
            )
        return broken(count + 1, reason + str(checkpoint.count))
    if head is None:
        return ChainReport(count, None, checkpoint=checkpoint)
    return ChainReport(count, None, checkpoint=checkpoint, head_id=head.pk, head_hash=head.hash)
