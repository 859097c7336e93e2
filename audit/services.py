"""Writing to the audit log."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from tenancy.context import require_tenant

from .actors import Actor
from .models import AuditEvent

GENESIS_HASH = "0" * 64
_LOCK_CLASS = 0x4155  # "AU": advisory-lock namespace for the per-tenant chain


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
        event.save(force_insert=True)
    return event
