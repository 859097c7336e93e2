"""A consent batch survives its worker being killed: every message goes out exactly once.

Real worker processes (prefork, two children) run a batch of 300 emails; the worker and
its pool are killed with SIGKILL mid-batch and a new worker is started, as ``make run``
would after a crash. The sweeps (beat's job, run here by the test) re-send messages whose
task was lost, settle the sends cut off mid-call, and resume the batch. Afterwards every
message has gone out exactly once (counted by its Message-ID in the delivered files), or
waits for a person with its reason; none is left queued, and the batch says done.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from django.conf import settings

from audit.actors import Actor
from consent.batches import consent_batch_start, consent_batches_resume
from consent.models import BatchStatus, ConsentBatch
from consent.services import consent_terms_publish
from customers.models import Customer
from notifications.models import OutboundMessage, Status
from notifications.services import notification_settings_update
from notifications.sweep import message_sweep
from tenancy.context import tenant_context, tenant_scope
from tests.factories import make_customer

from .conftest import SV_TEXT

SIZE = 300
MESSAGE_ID = re.compile(r"^Message-ID: <(kundreg-\d+-\d+)@", re.MULTILINE)
SYSTEM = Actor.system("test")


def _start_worker(email_dir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.subprocess_settings",
        "KUNDREG_TEST_DB": settings.DATABASES["default"]["NAME"],
        "KUNDREG_TEST_EMAIL_DIR": str(email_dir),
        "KUNDREG_TEST_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "KUNDREG_TEST_CACHE_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        "2",
        "--loglevel",
        os.environ.get("KILL_TEST_LOGLEVEL", "WARNING"),
        "-Q",
        settings.CELERY_TASK_DEFAULT_QUEUE,
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]
    # Its own process group: one SIGKILL reaches the worker and every pool child.
    return subprocess.Popen(command, env=env, start_new_session=True)


def _kill(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def _delivered(email_dir: Path) -> Counter:
    ids: Counter = Counter()
    for path in email_dir.glob("*.log"):
        ids.update(MESSAGE_ID.findall(path.read_text(encoding="utf-8", errors="replace")))
    return ids


def _state(tenant, batch, email_dir) -> str:
    from consent.models import ConsentBatchItem

    with tenant_context(tenant):
        batch.refresh_from_db()
        statuses = Counter(OutboundMessage.objects.values_list("status", flat=True))
        items = Counter(ConsentBatchItem.objects.values_list("outcome", flat=True))
    delivered = _delivered(email_dir)
    return (
        f"batch {batch.status} sent={batch.sent}; items {dict(items)}; "
        f"messages {dict(statuses)}; delivered {sum(delivered.values())} "
        f"(twice: {[k for k, v in delivered.items() if v > 1]})"
    )


def _wait(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def test_a_batch_survives_a_killed_worker_and_sends_each_message_once(
    live_personas, tmp_path, settings
):
    from config.celery import app

    app.control.purge()
    tenant = live_personas.tenant_a
    email_dir = tmp_path / "outbox"
    email_dir.mkdir()
    # The sweeps run here in the test, as the workers see things (tests/subprocess_settings).
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(email_dir)
    settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS = 0
    settings.NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS = 2
    with tenant_context(tenant):
        notification_settings_update(rate=200)
        consent_terms_publish(language="sv", text=SV_TEXT, actor=SYSTEM)
        for n in range(SIZE):
            make_customer(name=f"Kund {n}", email=f"k{n}@example.test", language="sv")
    worker = _start_worker(email_dir)
    try:
        with tenant_context(tenant):  # commits on exit: the first chunk's task is sent then
            batch = consent_batch_start(
                customer_ids=Customer.objects.all(), channel="email", source="search", actor=SYSTEM
            )
        # Mid-batch: some emails out, most not yet.
        assert _wait(lambda: sum(_delivered(email_dir).values()) >= 40, timeout=90)
        _kill(worker)
        killed_at = sum(_delivered(email_dir).values())
        assert killed_at < SIZE, "the batch finished before the worker was killed"

        worker = _start_worker(email_dir)

        def settled() -> bool:
            with tenant_scope(tenant):
                message_sweep()
                consent_batches_resume(stalled_after=timedelta(seconds=2))
                return ConsentBatch.objects.get(pk=batch.pk).status == BatchStatus.DONE

        assert _wait(settled, timeout=180, interval=1.0), _state(tenant, batch, email_dir)
    finally:
        if worker.poll() is None:
            _kill(worker)
        app.control.purge()

    with tenant_context(tenant):
        messages = list(OutboundMessage.objects.all())
        batch.refresh_from_db()
    delivered = _delivered(email_dir)
    by_status = Counter(m.status for m in messages)
    assert len(messages) == SIZE and batch.sent == SIZE
    assert by_status[Status.QUEUED] == 0 and by_status[Status.SENDING] == 0
    assert all(count == 1 for count in delivered.values()), "a message went out twice"
    for message in messages:
        key = f"kundreg-{tenant.pk}-{message.pk}"
        if message.status == Status.SENT:
            assert delivered[key] == 1, f"{key} recorded sent, delivered {delivered[key]} times"
        else:  # failed or waiting for a person, always with the reason
            assert message.status in (Status.FAILED, Status.UNCERTAIN) and message.last_error
            assert delivered[key] == 0 or message.status == Status.UNCERTAIN
