"""The send rate per provider account is global: two workers together never exceed it.

First the limiter itself, from two processes at once (real Redis); then two real Celery
workers with the sending queue's threads pool, each started as its own process, sending
SMS through the file backend (which timestamps each hand-over) under an account rate.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings

from notifications.models import OutboundMessage, Status
from notifications.pacing import Limit, pacing_reserve
from notifications.services import message_queue
from tenancy.context import tenant_context

from .conftest import enable_sms, wait_for

BASE_DIR = Path(__file__).resolve().parents[2]
PROBE = "tests.notifications.pacing_probe"
# How late a send thread may wake after its slot on this shared 2-core machine (seconds).
LATENESS = 0.5


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events in any half-open window ``[t, t + window)``."""
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - window:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_two_processes_share_one_account_rate():
    rate, seconds = 20, 3.0
    name = f"test-account-{uuid.uuid4().hex}"
    probes = [
        subprocess.Popen(
            [sys.executable, "-m", PROBE, name, str(rate), str(seconds)],
            cwd=BASE_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [json.loads(probe.communicate(timeout=120)[0]) for probe in probes]
    slots = sorted(s for result in results for s in result["slots"])
    # Both processes sent (neither starved), and the slots they booked together are
    # exactly 1/rate apart: no window of one second ever holds more than the rate.
    assert all(result["slots"] for result in results)
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= 1 / rate - 1e-6
    assert _max_in_window(slots) <= rate
    # Together, close to the rate (the limiter does not just starve them).
    assert len(slots) >= rate * (seconds - 1)


def test_one_slot_counts_under_every_limit():
    tenant, account = f"t-{uuid.uuid4().hex}", f"a-{uuid.uuid4().hex}"
    first = pacing_reserve([Limit(tenant, 1), Limit(account, 2)], max_wait=0)
    # The tenant (1/s) has no slot now: nothing is booked, in the account's limiter either.
    second = pacing_reserve([Limit(tenant, 1), Limit(account, 2)], max_wait=0)
    # The account's next slot is still the one right after the first send's.
    third = pacing_reserve([Limit(account, 2)], max_wait=1.0)
    assert first.booked and not second.booked
    assert 0.5 < second.wait <= 1.0
    assert third.booked and third.at - first.at == pytest.approx(0.5, abs=1e-3)


def test_no_limit_books_at_once():
    slot = pacing_reserve([Limit("anything", 0)], max_wait=0)
    assert slot.booked and slot.wait == 0


def _worker(tmp_path: Path, index: int, rate: float) -> subprocess.Popen:
    env = {
        **os.environ,
        "BENCH_DB_NAME": settings.DATABASES["default"]["NAME"],
        "BENCH_SETTINGS": json.dumps(
            {
                "SMS_BACKEND": "notifications.backends.file.FileBackend",
                "SMS_FILE_PATH": str(tmp_path),
                "NOTIFICATIONS_SMS_RATE_PER_SECOND": rate,
                "NOTIFICATIONS_PACING_MAX_WAIT": 1.0,
            }
        ),
        "CONN_MAX_AGE": "60",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.fanout_worker",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "8",
            "threads",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path.parent / f"worker-{index}.log", "w"),
    )


@pytest.mark.worker
def test_two_real_workers_together_keep_the_account_rate(live_personas, tmp_path):
    rate, count = 10, 40
    outbox = tmp_path / "sms"
    outbox.mkdir()
    tenant = live_personas.tenant_a
    enable_sms(tenant, rate=1000)
    workers = [_worker(outbox, i, rate) for i in range(2)]
    try:
        with tenant_context(tenant):
            ids = [
                message_queue(
                    channel="sms",
                    to=f"+467012{i:05d}",
                    language="sv",
                    template="plain",
                    context={"text": "Hej"},
                ).pk
                for i in range(count)
            ]

        def sent() -> int:
            with tenant_context(tenant):
                return OutboundMessage.objects.filter(pk__in=ids, status=Status.SENT).count()

        assert wait_for(lambda: sent() == count, timeout=90), f"{sent()} of {count} sent"
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
    records = [json.loads(p.read_text()) for p in outbox.glob("*.json")]
    # No message lost, none sent twice.
    assert sorted(r["to"] for r in records) == sorted(f"+467012{i:05d}" for i in range(count))
    times = sorted(datetime.fromisoformat(r["created_at"]).timestamp() for r in records)
    # The slots are exactly 1/rate apart (the first test); these are the moments the sends
    # reached the backend, each after its slot by however late its thread woke on a busy
    # machine. 40 sends at 10/s span 3.9 s; half a second of lateness is allowed for.
    span = times[-1] - times[0]
    assert span >= (count - 1) / rate - LATENESS, times
    assert _max_in_window(times) <= rate + LATENESS * rate, times
    with tenant_context(tenant):
        messages = OutboundMessage.objects.filter(pk__in=ids)
        attempts = set(messages.values_list("attempts", flat=True))
    assert attempts == {1}  # waiting for a slot was never counted as an attempt
