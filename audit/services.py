"""Writing to the audit log, and anchoring its chains outside the database."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.utils import timezone

from config.bulk import insert_rows
from tenancy.context import each_tenant, require_tenant
from tenancy.models import Tenant

from .actors import Actor
from .anchor import Checkpoint, checkpoint_writer
from .models import GENESIS_HASH, AuditEvent
from .selectors import audit_chain_verify

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "audit_checkpoint_write",
    "audit_record",
    "audit_record_many",
    "audit_recorded",
]

logger = logging.getLogger("audit.checkpoints")
_LOCK_CLASS = 0x4155  # "AU": advisory-lock namespace of the tenant's chains (_chain_claim)

# Sent with ``event=`` inside audit_record's transaction, after the entry is written, so
# what a receiver writes commits or rolls back with it (webhooks/events.py).
audit_recorded = Signal()


def audit_record(
    *,
    action: str,
    actor: Actor,
    object_type: str = "",
    object_id: object = "",
    data: dict | None = None,
) -> AuditEvent:
    """Append one event to one of the active tenant's chains.

    ``data`` must hold no personal data: ids, counts, codes and field names only.
    """
    tenant = require_tenant()
    with transaction.atomic(savepoint=False):
        chain = _chain_claim(tenant.pk)
        last = AuditEvent.objects.filter(chain=chain).order_by("-seq").only("seq", "hash").first()
        event = AuditEvent(
            tenant=tenant,
            chain=chain,
            seq=(last.seq + 1) if last else 1,
            created_at=timezone.now(),
            actor_type=actor.type,
            actor_id=str(actor.id),
            action=action,
            object_type=object_type,
            object_id=str(object_id) if object_id is not None else "",
            data=data or {},
            prev_hash=last.hash if last else GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.mac = event.compute_mac()
        event.save(force_insert=True)
        audit_recorded.send(sender=AuditEvent, event=event)
    return event


@dataclass(frozen=True)
class AuditEntry:
    """One entry for :func:`audit_record_many` (the arguments of :func:`audit_record`)."""

    action: str
    object_type: str = ""
    object_id: object = ""
    data: dict = field(default_factory=dict)


def audit_record_many(*, actor: Actor, entries: Iterable[AuditEntry]) -> list[AuditEvent]:
    """Append ``entries``, in their order, to one of the active tenant's chains.

    The same entries, hashes and ``audit_recorded`` signals as one :func:`audit_record`
    per entry, in one chain claim, one read of the head and one INSERT (a batch chunk's
    evidence: consent/batch_chunk.py).
    """
    tenant = require_tenant()
    entries = list(entries)
    if not entries:
        return []
    with transaction.atomic(savepoint=False):
        chain = _chain_claim(tenant.pk)
        last = AuditEvent.objects.filter(chain=chain).order_by("-seq").only("seq", "hash").first()
        seq, prev = (last.seq, last.hash) if last else (0, GENESIS_HASH)
        now = timezone.now()
        events = []
        for entry in entries:
            seq += 1
            event = AuditEvent(
                tenant=tenant,
                chain=chain,
                seq=seq,
                created_at=now,
                actor_type=actor.type,
                actor_id=str(actor.id),
                action=entry.action,
                object_type=entry.object_type,
                object_id=str(entry.object_id) if entry.object_id is not None else "",
                data=entry.data or {},
                prev_hash=prev,
            )
            event.hash = prev = event.compute_hash()
            event.mac = event.compute_mac()
            events.append(event)
        # One JSON parameter for the chunk (config/bulk.insert_rows): bulk_create's per-field
        # preparation and array parameters took 70% of this function's CPU.
        ids = insert_rows(AuditEvent, [_row(event) for event in events])
        for event, pk in zip(events, ids, strict=True):
            event.pk = pk
        for event in events:
            audit_recorded.send(sender=AuditEvent, event=event)
    return events


def _row(event: AuditEvent) -> dict:
    return {
        f.attname: getattr(event, f.attname)
        for f in AuditEvent._meta.concrete_fields
        if not f.primary_key
    }


# Chain s of a tenant is guarded by the transaction-level advisory lock
# (_LOCK_CLASS + (s << 16), tenant): chain 0's is the lock the single chain used to take.
# The statement tries, without waiting, first the chain this transaction already holds
# (recognised by its transaction id, so the events of one transaction stay in one chain
# and in order), else chain 0, 1, 2, …: one writer at a time keeps writing chain 0, and
# concurrent writers spill into the next free chains. The first lock granted ends the
# scan (LIMIT 1 over a function scan, no sort), so no other chain is taken.
_CLAIM_SQL = """
SELECT c.chain, pg_current_xact_id()::text
FROM unnest(CASE WHEN pg_current_xact_id()::text = %s THEN %s::int[] ELSE %s::int[] END)
     AS c(chain)
WHERE pg_try_advisory_xact_lock(%s + (c.chain << 16), %s::int)
LIMIT 1
"""
_WAIT_SQL = (
    "SELECT pg_advisory_xact_lock(%s + (%s::int << 16), %s::int), pg_current_xact_id()::text"
)


def _chain_claim(tenant_id: int) -> int:
    """Lock one of the tenant's chains until the transaction ends; return its number.

    Waits only when every chain is taken by another transaction, and then only if this
    transaction holds none of the tenant's chains: a holder of chain A always gets A back
    at once, so it never waits for chain B while someone waits for its A (no deadlock).
    """
    stripes = settings.AUDIT_CHAIN_STRIPES
    wrapper = connections[DEFAULT_DB_ALIAS]
    xid, held = getattr(wrapper, "_audit_chains", ("", {}))
    mine = held.get(tenant_id)
    order = list(range(stripes))
    preferred = [mine, *(s for s in order if s != mine)] if mine is not None else order
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [xid, preferred, order, _LOCK_CLASS, tenant_id])
        row = cursor.fetchone()
        if row is None:  # every chain busy: queue on one at random, holding none of them
            chain = random.randrange(stripes)  # spreads the waiters; no secret
            cursor.execute(_WAIT_SQL, [_LOCK_CLASS, chain, tenant_id])
            current = cursor.fetchone()[1]
        else:
            chain, current = row
    if current != xid:
        held = {}
    held[tenant_id] = chain
    wrapper._audit_chains = (current, held)
    return chain


@dataclass
class CheckpointRun:
    written: list[Checkpoint] = field(default_factory=list)
    unchanged: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # tenant slug -> why


def audit_checkpoint_write(*, tenants: QuerySet[Tenant] | None = None) -> CheckpointRun:
    """Append the head of each of each tenant's chains to the checkpoint file (audit/anchor.py).

    Only what extends the tenant's last checkpoints intact is anchored: the events since
    those checkpoints are verified first (every chain of the tenant), and a tenant with a
    broken, shorter or vanished chain gets no new line at all, so the last good
    checkpoints stay the evidence. A chain whose head has not moved gets no line either.
    Reads committed data only, so it refuses to run inside a transaction (a head that is
    later rolled back would look deleted).
    """
    if connection.in_atomic_block:
        raise RuntimeError("audit_checkpoint_write() must run outside any transaction.")
    run = CheckpointRun()
    with checkpoint_writer() as writer:
        for tenant in each_tenant(tenants):
            previous = writer.log.heads(tenant.pk)
            with transaction.atomic():
                report = audit_chain_verify(checkpoints=previous, since_checkpoint=True)
            if not report.ok:
                run.refused[tenant.slug] = (
                    f"chain {report.chain} broken at event #{report.broken_at} ({report.reason})"
                )
                logger.error(
                    "audit chain %s of tenant %s broken at #%s (%s): no checkpoint written",
                    report.chain,
                    tenant.slug,
                    report.broken_at,
                    report.reason,
                )
                continue
            if report.events == 0:
                run.unchanged += 1
            at = timezone.now()
            for head in report.chains:
                before = previous.get(head.chain)
                if head.head_id is None or (before and before.seq == head.events):
                    run.unchanged += 1
                    continue
                run.written.append(
                    writer.add(
                        tenant_id=tenant.pk,
                        chain=head.chain,
                        seq=head.events,
                        event_id=head.head_id,
                        head_hash=head.head_hash,
                        at=at,
                    )
                )
    return run
