"""Appending to the audit log: the hash-chained service against a plain INSERT."""

from __future__ import annotations

import json
from itertools import count

from django.db import connection, connections
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import audit_record
from benchmarks import Comparison, Context, Side, benchmark, compare
from tenancy.context import tenant_context

TABLE = AuditEvent._meta.db_table
SQL = f"""
    INSERT INTO {TABLE} (tenant_id, seq, created_at, actor_type, actor_id, action,
                         object_type, object_id, data, prev_hash, hash)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)
"""  # noqa: S608 - table name from the model
ACTOR = Actor.system("benchmark")
PREFILL = 1000


@benchmark
def audit_record_append(ctx: Context) -> Comparison:
    numbers = count(1)
    # The plain INSERTs go to the other tenant so the measured chain stays intact.
    other = ctx.other_tenant
    with tenant_context(other):
        last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    raw_seq = count((last or 0) + 1)

    def append() -> None:
        n = next(numbers)
        audit_record(
            action="benchmark.event",
            actor=ACTOR,
            object_type="customer",
            object_id=n,
            data={"n": n},
        )

    def insert() -> None:
        n = next(raw_seq)
        with connection.cursor() as cursor:
            cursor.execute(
                SQL,
                [
                    other.pk,
                    n,
                    timezone.now(),
                    ACTOR.type,
                    ACTOR.id,
                    "benchmark.event",
                    "customer",
                    str(n),
                    json.dumps({"n": n}),
                    "0" * 64,
                    "f" * 64,
                ],
            )

    # An established log, with statistics: on a fresh table the planner sorts the whole
    # chain to find its last event instead of reading the (tenant, seq) index backwards.
    with tenant_context(ctx.tenant):
        for _ in range(PREFILL):
            append()
    with tenant_context(other):
        for _ in range(PREFILL):
            insert()
    with connections["owner"].cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")

    result = compare(
        "audit.services.audit_record, appends",
        subject=Side("audit_record(...)", append, lambda: tenant_context(ctx.tenant)),
        baseline=Side("plain INSERT of the same row", insert, lambda: tenant_context(other)),
        iterations=ctx.iterations,
    )
    with tenant_context(ctx.tenant):
        report = audit_chain_verify()
    assert report.ok, report
    return Comparison(
        result.title,
        result.subject,
        result.baseline,
        f"The service claims one of the tenant's chains (a non-blocking advisory lock, one "
        f"statement), reads that chain's previous event and hashes the new one; the log of "
        f"{report.events} events in {len(report.chains)} chain(s) verified intact afterwards.",
    )
