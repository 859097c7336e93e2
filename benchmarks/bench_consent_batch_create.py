"""Consent batch creation, set-based (issue 13, item 1): requests created per second.

A batch to "any" channel over customers of whom 70 % have an email address and 30 % a
mobile number only (so both the email and the SMS path run: reply codes and routes, the
SMS cap), in Swedish and English. Measured in this process, no worker: the batch is
started as the customer list starts it (``consent_batch_start``), then its chunks are run
one after another (``consent_batch_chunk``, each its own transaction, as the worker runs
them) until no customer waits. Counted: requests created per second, from the first chunk
to the last commit, including the send tasks' publication to the broker after each
commit (to a queue of the benchmark's own, deleted afterwards); the sends themselves are
not measured.

- subject: the set-based chunk (consent.batch_chunk) at each size;
- baseline: the per-customer chunk (``one_by_one=True``: ``consent_request_create`` per
  customer, the path before issue 13) on a sample of the same mix in the same run;
- the share of the chunk spent in the per-request audit entries (``audit_record_many``,
  still one ``audit_record`` per request until the audit app offers a bulk append).

BENCH_CONSENT_BATCH_SIZES (default ``10000,100000``), BENCH_CONSENT_BATCH_CHUNKS (default
``500``; more sizes, e.g. ``500,200``, run at the smallest size only; a chunk holds one
advisory lock per customer until it commits, and 1,000 overran PostgreSQL's shared lock
table, ``max_locks_per_transaction``, while other databases were busy) and
BENCH_CONSENT_BATCH_SAMPLE (default 2000, the baseline's customers) change what is run;
BENCH_CONSENT_BATCH_PROFILE=1 prints a profile of each set-based run (a file name instead of
1: also saved there, for pstats).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time
import uuid

from django.conf import settings
from django.db import connections

from audit.actors import Actor
from benchmarks import Context, Figures, benchmark
from config.celery import app
from consent import batch_chunk
from consent.batches import consent_batch_chunk, consent_batch_start
from consent.models import BatchSource, ConsentBatch
from consent.services import consent_terms_publish
from customers.models import Customer
from customers.search import customer_search_text, sort_key
from notifications.models import NotificationSettings
from tenancy.context import tenant_context

SIZES = [int(n) for n in os.environ.get("BENCH_CONSENT_BATCH_SIZES", "10000,100000").split(",")]
CHUNKS = [int(n) for n in os.environ.get("BENCH_CONSENT_BATCH_CHUNKS", "500").split(",")]
SAMPLE = int(os.environ.get("BENCH_CONSENT_BATCH_SAMPLE", "2000"))
# Set to print a profile of each set-based run to stderr (where a chunk's time goes).
PROFILE = os.environ.get("BENCH_CONSENT_BATCH_PROFILE", "")
ACTOR = Actor.system("benchmark")
_next_number = [0]


def _customers(tenant, count: int) -> tuple[int, int]:
    """``count`` fresh customers (bulk, as an import would); their id range."""
    ids: list[int] = []
    for offset in range(0, count, 5000):
        batch = []
        for _ in range(offset, min(offset + 5000, count)):
            i = _next_number[0] = _next_number[0] + 1
            email = f"kund{i}@example.test" if i % 10 < 7 else ""
            customer = Customer(
                tenant=tenant,
                number=str(1_000_000 + i),
                kind="person",
                name=f"Kund {i}",
                email=email,
                mobile="" if email else f"+4670{i:07d}",
                language="en" if i % 5 == 0 else "sv",
                country="SE",
            )
            customer.search_text = customer_search_text(customer)
            customer.sort_name = sort_key(customer.name, "sv")
            batch.append(customer)
        ids += [c.pk for c in Customer.objects.bulk_create(batch)]
    return ids[0], ids[-1]


# What a chunk reads and writes. Analyzed as the owner (the runtime role may not: its
# ANALYZE skips the table with a warning) once the customers are committed, so that the
# planner knows the tables as a system that has run batches before knows them; with no
# statistics at all it chose nested loops over every open request and every message of
# the tenant, once per chunk.
TABLES = (
    "customers_customer",
    "consent_consentrequest",
    "consent_consentbatchitem",
    "consent_consentstate",
    "consent_replyroute",
    "notifications_outboundmessage",
    "audit_auditevent",
)


def _analyze() -> None:
    with connections["owner"].cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"ANALYZE {table}")


class _AuditClock:
    """Seconds spent in the chunk's audit entries (wraps batch_chunk.audit_record_many)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._original = batch_chunk.audit_record_many

    def __enter__(self):
        def timed(**kwargs):
            started = time.perf_counter()
            try:
                return self._original(**kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        batch_chunk.audit_record_many = timed
        return self

    def __exit__(self, *exc) -> None:
        batch_chunk.audit_record_many = self._original


def _run(ctx: Context, count: int, *, chunk: int, one_by_one: bool) -> dict:
    with tenant_context(ctx.tenant):
        first, last = _customers(ctx.tenant, count)
    _analyze()
    with tenant_context(ctx.tenant):
        started = time.perf_counter()
        batch = consent_batch_start(
            customer_ids=Customer.objects.filter(pk__range=(first, last)),
            channel="any",
            source=BatchSource.API,
            actor=ACTOR,
        )
        start_seconds = time.perf_counter() - started
    chunks = 0
    profile = cProfile.Profile() if PROFILE and not one_by_one else None
    with _AuditClock() as audit:
        started = time.perf_counter()
        if profile:
            profile.enable()
        # Each chunk in its own transaction, as the task runs it: its locks end with it and
        # its sends are queued on the broker after its commit (counted in the time).
        while True:
            with tenant_context(ctx.tenant):
                more = consent_batch_chunk(batch_id=batch.pk, limit=chunk, one_by_one=one_by_one)
            if not more:
                break
            chunks += 1
        if profile:
            profile.disable()
        seconds = time.perf_counter() - started
    if profile:
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(60)
        if PROFILE != "1":
            profile.dump_stats(f"{PROFILE}.{count}")
    app.control.purge()  # no worker here: the queued sends go nowhere
    with tenant_context(ctx.tenant):
        batch = ConsentBatch.objects.get(pk=batch.pk)
    return {
        "count": count,
        "requested": batch.sent,
        "skipped": batch.skipped + batch.failed,
        "start_seconds": start_seconds,
        "seconds": seconds,
        "rate": batch.sent / seconds,
        "audit_share": audit.seconds / seconds,
        "rate_without_audit": batch.sent / max(seconds - audit.seconds, 1e-9),
        "chunks": chunks + 1,
    }


def _uptime() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


@benchmark
def consent_batch_create(ctx: Context) -> list[Figures]:
    from config.celery import app

    queue = f"bench-batch-create-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue  # the send tasks go to no worker; deleted below
    with tenant_context(ctx.tenant):
        NotificationSettings.objects.update_or_create(
            tenant=ctx.tenant, defaults={"sms_enabled": True, "send_rate_per_second": 10_000}
        )
        for language, text in (("sv", "Vi sparar dina uppgifter."), ("en", "We keep your data.")):
            consent_terms_publish(language=language, text=text, actor=ACTOR)
    loads = [_uptime()]
    try:
        baseline = _run(ctx, SAMPLE, chunk=CHUNKS[0], one_by_one=True)
        loads.append(_uptime())
        runs = []
        for size in SIZES:
            for chunk in CHUNKS if size == min(SIZES) else CHUNKS[:1]:
                runs.append((size, chunk, _run(ctx, size, chunk=chunk, one_by_one=False)))
                loads.append(_uptime())
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
    rows = [
        (
            f"baseline, per customer (`consent_request_create`), {SAMPLE:,} customers, "
            f"chunks of {CHUNKS[0]}: requests created per second",
            f"{baseline['rate']:,.0f} ({baseline['requested']:,} in {baseline['seconds']:.1f} s)",
        )
    ]
    for size, chunk, run in runs:
        rows += [
            (
                f"set-based, {size:,} customers, chunks of {chunk}: requests created per second",
                f"{run['rate']:,.0f} ({run['requested']:,} in {run['seconds']:.1f} s, "
                f"{run['chunks']} chunks)",
            ),
            (
                f"set-based, {size:,} customers, chunks of {chunk}: audit entries' share "
                "(`audit_record_many`, one INSERT per chunk)",
                f"{run['audit_share']:.0%}",
            ),
            (
                f"set-based, {size:,} customers, chunks of {chunk}: requests per second "
                "without the audit entries' time",
                f"{run['rate_without_audit']:,.0f}",
            ),
            (
                f"{size:,} customers: batch started (items inserted) in",
                f"{run['start_seconds']:.2f} s",
            ),
        ]
    headline = next(run for size, chunk, run in runs if size == max(SIZES) and chunk == CHUNKS[0])
    rows.append(("load average (1, 5, 15 min) before and after each run", "; ".join(loads)))
    return [
        Figures(
            f"consent batch creation to {max(SIZES):,} customers, set-based chunk",
            rows,
            ratio=headline["rate"] / baseline["rate"],
            ratio_means="requests per second, set-based at the largest size over per customer",
            note=f"Target ≥ 2,000 requests created per second on {os.cpu_count()} cores. "
            "Channel any: 70 % email, 30 % mobile only, 20 % in English; every customer is "
            "reachable, so every customer becomes a request. In this process, no worker; "
            "each chunk commits and then publishes its send tasks to the broker (timed). "
            f"`CONSENT_BATCH_CHUNK_SIZE` is {settings.CONSENT_BATCH_CHUNK_SIZE}. Other "
            "processes share the cores: see the load average row.",
        )
    ]
