"""Sending (issue 13 item 2): SMS and email per second through a real worker, and CPU per send.

Real parts throughout: queued messages sent by ``notifications.send_message`` on a real
Celery worker started as a separate process (``benchmarks.fanout_worker``), through the
real ``twilio`` library to a local server answering like Twilio after 50 ms
(``benchmarks.fake_twilio``) and through Django's SMTP backend to a real SMTP server
(aiosmtpd) answering each message after 50 ms. Measured, for each channel:

- the sending queue's worker as deployed now (threads pool, BENCH_SENDING_THREADS threads,
  connections kept: CONN_MAX_AGE; the messages published as a batch chunk publishes them,
  ten to a ``send_messages`` task) against the layout before (prefork, 8 processes, a
  database connection and a ``send_message`` task per message): sends per second from
  the first to the last message the provider received, and the worker's CPU seconds
  (every process of it) per send;
- with a provider account rate set (BENCH_SENDING_RATE, 50/s): the rate achieved over the
  run and the most sends any one-second window held.

Targets: ≥ 200 SMS/s and ≥ 200 emails/s, ≤ 3 ms CPU per send, the rate exactly.
BENCH_SENDING_COUNT (default 3,000 messages per run of the threads pool) changes the size;
BENCH_SENDING_PROFILE=prefix profiles every thread of the threads-pool worker by CPU time
and prints each channel's profile (saved as prefix.<channel>.prof).
"""

from __future__ import annotations

import asyncio
import json
import os
import pstats
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from benchmarks import Context, Figures, benchmark
from benchmarks.fake_twilio import FakeTwilioServer
from notifications.models import Channel, NotificationSettings, OutboundMessage, Status
from notifications.queue_many import messages_enqueue
from notifications.tasks import send_message, send_messages
from tenancy.context import tenant_context

LATENCY = 0.05
COUNT = int(os.environ.get("BENCH_SENDING_COUNT", "3000"))
BASELINE_COUNT = max(200, COUNT // 4)
THREADS = int(os.environ.get("BENCH_SENDING_THREADS", "64"))
PREFORK = 8
RATE = float(os.environ.get("BENCH_SENDING_RATE", "50"))
RATE_COUNT = int(RATE * 10)
BASE_DIR = Path(__file__).resolve().parent.parent
# A file name prefix: the threads-pool worker profiles every thread (cProfile) and each
# channel's profile is printed to stderr after its run (where a send's CPU goes).
PROFILE = os.environ.get("BENCH_SENDING_PROFILE", "")


class _SlowSmtp:
    """Accepts every message after ``latency`` (asyncio: many sessions wait at once)."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.times: list[float] = []

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.latency)
        self.times.append(time.perf_counter())
        return "250 Message accepted"


class _Clock:
    """When each message reached its provider (both fakes live in this process)."""

    def __init__(self, fake: FakeTwilioServer, smtp: _SlowSmtp) -> None:
        self.fake, self.smtp = fake, smtp
        self.sms: list[float] = []
        original = fake.count

        def count() -> None:
            original()
            self.sms.append(time.perf_counter())

        fake.count = count

    def times(self, channel: str) -> list[float]:
        return self.sms if channel == Channel.SMS else self.smtp.times

    def reset(self) -> None:
        self.sms.clear()
        self.smtp.times.clear()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of the worker: its main process and every live child."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        with suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


@contextmanager
def _worker(queue: str, pool: str, concurrency: int, env: dict):
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "benchmarks.fanout_worker", queue, str(concurrency), pool],
        cwd=BASE_DIR,
        env={**os.environ, **env},
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"sending benchmark: gave up waiting for {what}")
        time.sleep(0.05)


def _messages(tenant, channel: str, count: int) -> list[int]:
    """``count`` queued messages, as message_queue leaves them (no task sent yet)."""
    rows = [
        OutboundMessage(
            tenant=tenant,
            channel=channel,
            destination=f"+4670{i:07d}" if channel == Channel.SMS else f"kund{i}@example.test",
            language="sv",
            template="plain",
            subject="" if channel == Channel.SMS else "Hej",
            body=f"Hej! Meddelande {i} från benchmark.",
            status=Status.QUEUED,
        )
        for i in range(count)
    ]
    with tenant_context(tenant):
        return [m.pk for m in OutboundMessage.objects.bulk_create(rows, batch_size=2000)]


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - window:
            start += 1
        most = max(most, end - start + 1)
    return most


def _publish(ids: list[int], tenant_id: int, *, grouped: bool) -> None:
    if grouped:  # as a consent batch chunk queues them: a task per group of messages
        messages_enqueue(ids, tenant_id=tenant_id)
        return
    for pk in ids:  # a task per message, as before
        send_message.apply_async(args=[pk], kwargs={"tenant_id": tenant_id})


def _run(ctx: Context, clock: _Clock, queue: str, channel: str, pool: str, count: int, env: dict):
    """Send ``count`` messages of ``channel`` through a fresh worker; rate and CPU per send.

    The threads pool (now) gets the messages as a batch chunk publishes them, in groups
    (``send_messages``); prefork (before) a task per message (``send_message``)."""
    grouped = pool == "threads"
    ids = _messages(ctx.tenant, channel, count)
    clock.reset()
    concurrency = THREADS if pool == "threads" else PREFORK
    profile = f"{PROFILE}.{channel}.prof" if PROFILE and pool == "threads" else ""
    if profile:
        env = {**env, "BENCH_PROFILE": profile}
    with _worker(queue, pool, concurrency, env) as process:
        # Warm-up: the worker is up, its processes or threads have imported and connected.
        warm = _messages(ctx.tenant, channel, concurrency)
        for pk in warm:  # one task each: every thread or process takes one
            task = send_messages if grouped else send_message
            task.apply_async(args=[[pk] if grouped else pk], kwargs={"tenant_id": ctx.tenant.pk})
        _wait(lambda: len(clock.times(channel)) >= len(warm), timeout=300, what="the warm-up")
        clock.reset()
        cpu_before = _cpu_seconds(process.pid)
        _publish(ids, ctx.tenant.pk, grouped=grouped)
        _wait(lambda: len(clock.times(channel)) >= count, timeout=1800, what=f"every {channel}")

        def settled() -> bool:
            with tenant_context(ctx.tenant):
                return not OutboundMessage.objects.filter(
                    pk__in=ids, status__in=[Status.QUEUED, Status.SENDING]
                ).exists()

        _wait(settled, timeout=120, what="the results recorded")
        cpu = _cpu_seconds(process.pid) - cpu_before
    if profile:
        stats = pstats.Stats(profile, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(70)
        stats.sort_stats("tottime").print_stats(40)
    times = sorted(clock.times(channel))
    window = times[-1] - times[0]
    with tenant_context(ctx.tenant):
        sent = OutboundMessage.objects.filter(pk__in=ids, status=Status.SENT).count()
    return {
        "count": count,
        "sent": sent,
        "rate": (count - 1) / window if window else 0.0,
        "cpu_ms": cpu / count * 1000,
        "max_window": _max_in_window(times),
    }


def _env(fake: FakeTwilioServer, smtp_port: int, *, pool: str, sms_rate: float = 0.0) -> dict:
    return {
        "BENCH_DB_NAME": settings.DATABASES["default"]["NAME"],
        "BENCH_TWILIO_URL": fake.url,
        "SMS_BACKEND": "notifications.backends.twilio.TwilioBackend",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "benchmark",
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
        # The layout before kept no connection between tasks (CONN_MAX_AGE 0, the default).
        "CONN_MAX_AGE": "60" if pool == "threads" else "0",
        "NOTIFICATIONS_SMS_RATE_PER_SECOND": str(sms_rate),
        "BENCH_SETTINGS": json.dumps(
            {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": smtp_port,
                "EMAIL_USE_TLS": False,
                "EMAIL_USE_SSL": False,
                "EMAIL_HOST_USER": "",
                "EMAIL_HOST_PASSWORD": "",
            }
        ),
    }


def _load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f}"


@benchmark
def sending(ctx: Context) -> list[Figures]:
    with tenant_context(ctx.tenant):
        NotificationSettings.objects.update_or_create(
            tenant=ctx.tenant, defaults={"sms_enabled": True, "send_rate_per_second": 10_000}
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    queue = f"bench-sending-{uuid.uuid4().hex[:8]}"
    from config.celery import app

    app.conf.task_default_queue = queue  # the sends go to the benchmark's worker only
    smtp = _SlowSmtp(LATENCY)
    smtp_port = _free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    results: dict[tuple[str, str], dict] = {}
    load_at_start = _load()
    try:
        with FakeTwilioServer(latency=LATENCY) as fake:
            clock = _Clock(fake, smtp)
            for channel in (Channel.SMS, Channel.EMAIL):
                for pool, count in (("prefork", BASELINE_COUNT), ("threads", COUNT)):
                    env = _env(fake, smtp_port, pool=pool)
                    results[channel, pool] = _run(ctx, clock, queue, channel, pool, count, env)
            env = _env(fake, smtp_port, pool="threads", sms_rate=RATE)
            paced = _run(ctx, clock, queue, Channel.SMS, "threads", RATE_COUNT, env)
    finally:
        controller.stop()
    load_at_end = _load()
    figures = []
    for channel, noun in ((Channel.SMS, "SMS"), (Channel.EMAIL, "emails")):
        new, old = results[channel, "threads"], results[channel, "prefork"]
        figures.append(
            Figures(
                f"sending {noun}: threads pool against prefork, provider faked at 50 ms",
                [
                    (
                        f"{noun} per second, threads pool ({THREADS} threads, 1 process)",
                        f"{new['rate']:,.0f} (target ≥ 200)",
                    ),
                    (
                        f"{noun} per second, prefork ({PREFORK} processes, before)",
                        f"{old['rate']:,.0f}",
                    ),
                    (
                        "worker CPU per send, threads pool",
                        f"{new['cpu_ms']:.2f} ms (target ≤ 3 ms)",
                    ),
                    ("worker CPU per send, prefork (before)", f"{old['cpu_ms']:.2f} ms"),
                    (
                        "messages sent / recorded sent (threads; prefork)",
                        f"{new['count']:,} / {new['sent']:,}; {old['count']:,} / {old['sent']:,}",
                    ),
                ],
                ratio=new["rate"] / old["rate"] if old["rate"] else 0.0,
                ratio_means=f"{noun} per second, threads pool over prefork (before)",
                note=f"One real worker process (`benchmarks.fanout_worker`), the product's "
                "send path: claim, send, record (the consent receiver and metrics on the "
                f"status signal included). Load average (1 / 5 min) {load_at_start} at the "
                f"start, {load_at_end} at the end, on {os.cpu_count()} cores shared with "
                "PostgreSQL, the fake providers and other work.",
            )
        )
    figures.append(
        Figures(
            f"sending under a provider account rate of {RATE:g}/s (pacing in Redis)",
            [
                ("SMS sent", f"{paced['count']:,} (recorded sent {paced['sent']:,})"),
                ("achieved rate, first to last", f"{paced['rate']:.2f}/s"),
                ("most SMS in any one-second window", f"{paced['max_window']}"),
            ],
            ratio=paced["rate"] / RATE,
            ratio_means="achieved rate over the configured account rate (target 1.00, never above)",
            note=f"{THREADS} threads, NOTIFICATIONS_SMS_RATE_PER_SECOND={RATE:g}: every "
            "thread books its slot in one GCRA limiter shared by all workers; the slots are "
            "exactly 1/rate apart (tests/notifications/test_pacing_global.py). Counted as the "
            "fake Twilio receives them: a thread woken late from its slot's sleep on a busy "
            "machine arrives close to the next one, so a window may hold a few more than the "
            "rate while the average stays at or under it.",
        )
    )
    return figures
