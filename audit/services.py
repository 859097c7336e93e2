"""Writing to the audit log, and anchoring its chains outside the database."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.utils import timezone

from tenancy.context import each_tenant, require_tenant
from tenancy.models import Tenant

from .actors import Actor
from .anchor import Checkpoint, checkpoint_writer
from .models import GENESIS_HASH, AuditEvent
from .selectors import audit_chain_verify

__all__ = ["GENESIS_HASH", "audit_checkpoint_write", "audit_record", "audit_recorded"]

logger = logging.getLogger("audit.checkpoints")
_LOCK_CLASS = 0x4155  # "AU": advisory-lock namespace for the per-tenant chain

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
    """Append one event to the active tenant's chain.

    ``data`` must hold no personal data: ids, counts, codes and field names only.
    """
    tenant = require_tenant()
    with transaction.atomic(savepoint=False):
        # Serialise appends per tenant so two writers never fork the chain.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, tenant.pk])
        last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        event = AuditEvent(
            tenant=tenant,
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


@dataclass
class CheckpointRun:
    written: list[Checkpoint] = field(default_factory=list)
    unchanged: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # tenant slug -> why


def audit_checkpoint_write(*, tenants: QuerySet[Tenant] | None = None) -> CheckpointRun:
    """Append each tenant's chain head to the checkpoint file (audit/anchor.py).

    Only what extends the tenant's last checkpoint intact is anchored: the events since
    that checkpoint are verified first, and a tenant whose chain is broken or shorter
    gets no new line, so the last good checkpoint stays the evidence. Tenants whose
    head has not moved get no line either. Reads committed data only, so it refuses to
    run inside a transaction (a head that is later rolled back would look deleted).
    """
    if connection.in_atomic_block:
        raise RuntimeError("audit_checkpoint_write() must run outside any transaction.")
    run = CheckpointRun()
    with checkpoint_writer() as writer:
        for tenant in each_tenant(tenants):
            previous = writer.log.latest.get(tenant.pk)
            with transaction.atomic():
                report = audit_chain_verify(checkpoint=previous, since_checkpoint=True)
            if not report.ok:
                run.refused[tenant.slug] = f"#{report.broken_at}: {report.reason}"
                logger.error(
                    "audit chain of tenant %s broken at #%s (%s): no checkpoint written",
                    tenant.slug,
                    report.broken_at,
                    report.reason,
                )
            elif report.events == 0 or (previous and previous.seq == report.events):
                run.unchanged += 1
            else:
                run.written.append(
                    writer.add(
                        tenant_id=tenant.pk,
                        seq=report.events,
                        event_id=report.head_id,
                        head_hash=report.head_hash,
                        at=timezone.now(),
                    )
                )
    return run
