"""Consent fan-out (issue 4): one batch of SMS consent requests to 100,000 customers.

Real parts throughout: ``consent_batch_start`` as the customer list calls it, real Celery
worker processes (``benchmarks.fanout_worker``, prefork) working the batch's chunks and
sending every message through the real ``twilio`` library, whose HTTP calls go to a local
server answering like Twilio after about 50 ms (``benchmarks.fake_twilio``). Measured:

- time to create and enqueue: from the start of the batch until every customer has a
  request and a queued message (the batch is done);
- send throughput per worker process, against a no-op task's throughput per worker
  process on the same worker set-up in the same run (the ratio);
- peak memory at 10,000 and at 100,000 customers (each on a fresh worker): the largest
  worker process and the starting process (tracemalloc). Target: within 1.2x.

BENCH_FANOUT_SCALE (default 1.0; 0.1 = 1,000 and 10,000 customers) and
BENCH_FANOUT_PROCESSES (worker processes, default 8) change the size.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import tracemalloc
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
from django.conf import settings
from django.db import connection

from audit.actors import Actor
from benchmarks import Context, Figures, benchmark
from benchmarks.fake_twilio import FakeTwilioServer
from consent.batches import consent_batch_start
from consent.models import BatchSource, BatchStatus, ConsentBatch
from consent.services import consent_terms_publish
from customers.models import Customer
from customers.search import customer_search_text, sort_key
from notifications.models import NotificationSettings
from notifications.pacing import _redis
from tenancy.context import tenant_context

SCALE = float(os.environ.get("BENCH_FANOUT_SCALE", "1.0"))
PROCESSES = int(os.environ.get("BENCH_FANOUT_PROCESSES", "8"))
LATENCY = 0.05
NOOP_TASKS = 20_000
BASE_DIR = Path(__file__).resolve().parent.parent
ACTOR = Actor.system("benchmark")


def _customers(tenant, count: int, start: int) -> list[int]:
    """``count`` Swedish customers with a mobile number (bulk, as an import would)."""
    ids: list[int] = []
    for offset in range(0, count, 5000):
        batch = []
        for i in range(start + offset, start + min(offset + 5000, count)):
            customer = Customer(
                tenant=tenant,
                number=str(100000 + i),
                kind="person",
                name=f"Kund {i}",
                mobile=f"+4670{i:07d}",
                language="sv",
                country="SE",
            )
            customer.search_text = customer_search_text(customer)
            customer.sort_name = sort_key(customer.name, "sv")
            batch.append(customer)
        ids += [c.pk for c in Customer.objects.bulk_create(batch)]
    return ids


@contextmanager
def _worker(queue: str, fake: FakeTwilioServer, counter: str):
    env = {
        **os.environ,
        "BENCH_DB_NAME": settings.DATABASES["default"]["NAME"],
        "BENCH_TWILIO_URL": fake.url,
        "BENCH_REDIS_COUNTER": counter,
        "SMS_BACKEND": "notifications.backends.twilio.TwilioBackend",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "benchmark",
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
    }
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "benchmarks.fanout_worker", queue, str(PROCESSES)],
        cwd=BASE_DIR,
        env=env,
    )
    sampler = _MemorySampler(process.pid)
    sampler.start()
    try:
        yield sampler
    finally:
        sampler.stop()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


class _MemorySampler(threading.Thread):
    """The largest resident set of any worker child process, sampled twice a second."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_child = 0
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(0.5):
            try:
                children = psutil.Process(self.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                return
            for child in children:
                with suppress(psutil.NoSuchProcess):
                    self.peak_child = max(self.peak_child, child.memory_info().rss)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=2)


def _wait(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"fan-out benchmark: gave up waiting for {what}")
        time.sleep(0.05)


def _noop_rate(queue: str, fake: FakeTwilioServer) -> float:
    """No-op tasks per second through the same worker set-up (the baseline)."""
    from config.celery import app

    counter = f"bench:noop:{uuid.uuid4().hex}"
    with _worker(queue, fake, counter):
        for _ in range(NOOP_TASKS):
            app.send_task("benchmarks.noop", queue=queue)

        def done() -> int:
            return int(_redis().get(counter) or 0)

        _wait(lambda: done() >= NOOP_TASKS // 100, timeout=120, what="the first no-op tasks")
        started, begun = time.perf_counter(), done()
        _wait(lambda: done() >= NOOP_TASKS, timeout=600, what="the no-op tasks")
        rate = (NOOP_TASKS - begun) / (time.perf_counter() - started)
    _redis().delete(counter)
    return rate


def _fan_out(ctx: Context, queue: str, fake: FakeTwilioServer, ids: list[int]) -> dict:
    fake.reset()
    with _worker(queue, fake, "bench:unused") as sampler:
        tracemalloc.start()
        started = time.perf_counter()
        with tenant_context(ctx.tenant):
            batch = consent_batch_start(
                customer_ids=Customer.objects.filter(pk__range=(ids[0], ids[-1])),
                channel="sms",
                source=BatchSource.API,
                actor=ACTOR,
            )
        start_seconds = time.perf_counter() - started
        _size, start_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        def status() -> str:
            with tenant_context(ctx.tenant):
                return ConsentBatch.objects.get(pk=batch.pk).status

        _wait(
            lambda: status() != BatchStatus.RUNNING and status() != BatchStatus.PENDING,
            timeout=7200,
            what="the batch's requests",
        )
        created_seconds = time.perf_counter() - started
        _wait(lambda: fake.received >= len(ids), timeout=7200, what="every SMS")
        sent_seconds = time.perf_counter() - started
        window = (fake.last_at or 0) - (fake.first_at or 0)
        with tenant_context(ctx.tenant):
            batch.refresh_from_db()
    return {
        "count": len(ids),
        "status": batch.status,
        "requested": batch.sent,
        "start_seconds": start_seconds,
        "created_seconds": created_seconds,
        "sent_seconds": sent_seconds,
        "send_rate": (len(ids) - 1) / window if window else 0.0,
        "start_peak": start_peak,
        "worker_peak": sampler.peak_child,
    }


def _mib(value: int) -> str:
    return f"{value / 2**20:,.1f} MiB"


@benchmark
def consent_fanout(ctx: Context) -> list[Figures]:
    small, big = int(10_000 * SCALE), int(100_000 * SCALE)
    with tenant_context(ctx.tenant):
        NotificationSettings.objects.update_or_create(
            tenant=ctx.tenant, defaults={"sms_enabled": True, "send_rate_per_second": 10_000}
        )
        consent_terms_publish(
            language="sv", text="Vi sparar dina uppgifter för service.", actor=ACTOR
        )
        small_ids = _customers(ctx.tenant, small, start=0)
        big_ids = _customers(ctx.tenant, big, start=small)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    queue = f"bench-fanout-{uuid.uuid4().hex[:8]}"
    from config.celery import app

    app.conf.task_default_queue = queue  # the batch's tasks go to the benchmark's workers
    with FakeTwilioServer(latency=LATENCY) as fake:
        noop = _noop_rate(queue, fake)
        runs = [_fan_out(ctx, queue, fake, small_ids), _fan_out(ctx, queue, fake, big_ids)]
    ten, hundred = runs
    per_process = hundred["send_rate"] / PROCESSES
    noop_per_process = noop / PROCESSES
    rows = []
    for run in runs:
        n = f"{run['count']:,}"
        rows += [
            (f"{n}: batch started (items inserted) in", f"{run['start_seconds']:.2f} s"),
            (
                f"{n}: every request created and its SMS queued after",
                f"{run['created_seconds']:.1f} s",
            ),
            (f"{n}: requests created per second", f"{run['count'] / run['created_seconds']:,.0f}"),
            (f"{n}: every SMS sent after", f"{run['sent_seconds']:.1f} s"),
            (
                f"{n}: SMS sent per second ({PROCESSES} worker processes)",
                f"{run['send_rate']:,.0f}",
            ),
            (f"{n}: peak RSS of the largest worker process", _mib(run["worker_peak"])),
            (f"{n}: peak Python memory of the starting call", _mib(run["start_peak"])),
        ]
    rows += [
        ("SMS per second per worker process (100k run)", f"{per_process:,.1f}"),
        ("no-op tasks per second per worker process", f"{noop_per_process:,.1f}"),
        (
            "worker peak memory, 100k over 10k",
            f"{hundred['worker_peak'] / max(ten['worker_peak'], 1):.2f}x (target ≤ 1.2x)",
        ),
        (
            "starting call peak memory, 100k over 10k",
            f"{hundred['start_peak'] / max(ten['start_peak'], 1):.2f}x",
        ),
    ]
    return [
        Figures(
            f"consent batch by SMS to {big:,} customers, Twilio faked at HTTP (~50 ms)",
            rows,
            ratio=per_process / noop_per_process,
            ratio_means="SMS per worker process over no-op tasks per worker process",
            note=f"{PROCESSES} prefork worker processes (`benchmarks.fanout_worker`: the "
            "product's worker with the database and Twilio's address pointed at the "
            "benchmark's), send rate limit 10,000/s; each size on a fresh worker. Every "
            f"request writes its audit record. On {os.cpu_count()} cores the chunk work, the sends "
            "and PostgreSQL share the CPU: the SMS rate is bound by CPU (about 15-20 ms per "
            "send: ORM, twilio and requests, the status signal), not by the 50 ms round trip. "
            f"Batch status at the end: {ten['status']}, "
            f"{hundred['status']}; requests {ten['requested']:,} and {hundred['requested']:,}.",
        )
    ]
