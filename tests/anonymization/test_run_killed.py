"""An anonymization run survives its worker being killed: nobody is half anonymized, and the
sweep finishes the run with exact counts (issue 10, "Done means").

A real worker process (prefork, two children, as ``make run`` starts it) works through a run
of customers with addresses, contact persons and notes, in small chunks
(``ANONYMIZATION_CHUNK_SIZE`` in its environment). Once some chunks are done and a chunk
is in flight (a worker's transaction holds a transaction id), the worker and its pool are
killed with SIGKILL. Then every customer is either wholly anonymized (status, name, email,
addresses, contacts, notes) or wholly untouched, and the run's counts are its items'
outcomes. The run is made to look stalled, the sweep (beat's ``anonymization.runs_sweep``,
run here by the test) sends it again, and a new worker finishes it: every eligible customer
anonymized exactly once, one ``anonymization.chunk`` entry per chunk, no customer in two.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from anonymization.models import (
    AnonymizationRun,
    AnonymizationRunItem,
    ItemOutcome,
    RetentionPolicy,
    RunSource,
    RunStatus,
)
from anonymization.runs import anonymization_run_start
from anonymization.tasks import runs_sweep
from audit.actors import Actor
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from customers.models import Activity, Address, Contact, Customer, CustomerStatus
from customers.services.contacts import contact_create
from tenancy.context import tenant_context
from tests.anonymization.test_eligibility import customer

SIZE = 60
CHUNK = 4
OLD = dt.date(2015, 3, 1)
SYSTEM = Actor.system("test")


def _start_worker(outbox: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.subprocess_settings",
        "KUNDREG_TEST_DB": settings.DATABASES["default"]["NAME"],
        "KUNDREG_TEST_EMAIL_DIR": str(outbox),
        "KUNDREG_TEST_JOURNAL_DIR": str(outbox.parent / "journal"),
        "KUNDREG_TEST_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "KUNDREG_TEST_CACHE_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        # config/settings/base.py reads it from the environment: small chunks, many of them.
        "ANONYMIZATION_CHUNK_SIZE": str(CHUNK),
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
    worker.wait(timeout=30)


def _wait(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def _transactions_elsewhere() -> int:
    """Other sessions on the test database inside a transaction that has written or locked
    a row (a chunk in flight: it locks the run row first)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        )
        return cursor.fetchone()[0]


# --- The customers and what "erased" and "untouched" mean for each ------------------------


def _make_customers() -> dict[int, dict]:
    """SIZE customers eligible today, each with two addresses, two contacts and three notes;
    returns, per customer id, its number (names are unique and none contains another)."""
    RetentionPolicy.objects.create(customer_years=5, prospect_years=2)
    made = {}
    for n in range(SIZE):
        c = customer(f"Kund {n:03d} AB", last=OLD, email=f"kund{n:03d}@example.test")
        for kind, street in (("postal", "Storgatan"), ("visiting", "Hamngatan")):
            Address.objects.create(
                customer=c,
                kind=kind,
                is_head_office=kind == "postal",
                line1=f"{street} {n:03d}",
                postcode=f"1{n:03d}1",
                city="Stockholm",
            )
        contacts = [
            contact_create(
                customer=c,
                actor=SYSTEM,
                first_name=f"Person{n:03d}{suffix}",
                last_name="Kontakt",
                email=f"person{n:03d}{suffix}@example.test",
            ).pk
            for suffix in "ab"
        ]
        for k in range(3):
            Activity.objects.create(
                customer=c, kind="note", subject=f"Samtal {k}", body=f"Ringde kund {n:03d} om {k}"
            )
        made[c.pk] = {"n": n, "contacts": contacts}
    return made


def _states(made: dict[int, dict]) -> dict[int, str]:
    """Per customer: "erased", "untouched", or what is half done."""
    customers = {
        row["pk"]: row
        for row in Customer.objects.filter(pk__in=list(made)).values(
            "pk", "status", "name", "email"
        )
    }
    addresses: dict[int, list] = {}
    for row in Address.objects.filter(customer_id__in=list(made)).values(
        "customer_id", "line1", "postcode", "city"
    ):
        addresses.setdefault(row["customer_id"], []).append(row)
    notes: dict[int, list] = {}
    for row in Activity.objects.filter(customer_id__in=list(made)).values(
        "customer_id", "subject", "body"
    ):
        notes.setdefault(row["customer_id"], []).append(row)
    all_contacts = [pk for info in made.values() for pk in info["contacts"]]
    contacts = {
        row["pk"]: row
        for row in Contact.objects.filter(pk__in=all_contacts).values(
            "pk", "first_name", "last_name", "email", "deleted_at"
        )
    }
    states = {}
    for pk, info in made.items():
        n = f"{info['n']:03d}"
        row = customers[pk]
        erased = {
            "status": row["status"] == CustomerStatus.ANONYMIZED,
            "name": "Kund" not in row["name"],  # "Anonymized 1001" (its number)
            "email": row["email"] == "",
            "addresses": all(
                not (a["line1"] or a["postcode"] or a["city"]) for a in addresses.get(pk, [])
            ),
            "contacts": all(
                pk_ not in contacts
                or (
                    not (contacts[pk_]["first_name"] or contacts[pk_]["email"])
                    and contacts[pk_]["deleted_at"] is not None
                )
                for pk_ in info["contacts"]
            ),
            "notes": all(n not in note["body"] for note in notes.get(pk, [])),
        }
        untouched = {
            "status": row["status"] == CustomerStatus.ACTIVE,
            "name": row["name"] == f"Kund {n} AB",
            "email": row["email"] == f"kund{n}@example.test",
            "addresses": len(addresses.get(pk, [])) == 2
            and all(a["line1"].endswith(n) and a["city"] for a in addresses[pk]),
            "contacts": all(
                pk_ in contacts
                and contacts[pk_]["first_name"].startswith(f"Person{n}")
                and contacts[pk_]["email"]
                and contacts[pk_]["deleted_at"] is None
                for pk_ in info["contacts"]
            ),
            "notes": len(notes.get(pk, [])) == 3 and all(n in note["body"] for note in notes[pk]),
        }
        if all(erased.values()):
            states[pk] = "erased"
        elif all(untouched.values()):
            states[pk] = "untouched"
        else:
            states[pk] = "half: erased " + ", ".join(k for k, v in erased.items() if v)
    return states


def _chunk_entries(run_id: int) -> list[list[int]]:
    return [
        data["anonymized"]
        for data in AuditEvent.objects.filter(action="anonymization.chunk", object_id=str(run_id))
        .order_by("seq")
        .values_list("data", flat=True)
    ]


def _describe(tenant, run_id: int) -> str:
    with tenant_context(tenant):
        run = AnonymizationRun.objects.get(pk=run_id)
        items = Counter(AnonymizationRunItem.objects.values_list("outcome", flat=True))
        return (
            f"run {run.status} anonymized={run.anonymized} skipped={run.skipped} "
            f"error={run.error!r}; items {dict(items)}; chunks {len(_chunk_entries(run_id))}"
        )


def test_a_run_survives_a_killed_worker_and_anonymizes_each_customer_once(live_personas, tmp_path):
    from config.celery import app

    app.control.purge()
    tenant = live_personas.tenant_a
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    with tenant_context(tenant):
        made = _make_customers()
        assert len(_states(made)) == SIZE
        assert set(_states(made).values()) == {"untouched"}

    worker = _start_worker(outbox)
    try:
        with tenant_context(tenant):  # commits on exit: the first chunk's task is sent then
            run = anonymization_run_start(
                customer_ids=list(made), actor=SYSTEM, source=RunSource.PAGE, note="Gallring"
            )
        run_id = run.pk

        def progress() -> int:
            with tenant_context(tenant):
                return AnonymizationRun.objects.values_list("anonymized", flat=True).get(pk=run_id)

        # Mid-run: two chunks committed, and a chunk in flight when the worker dies.
        assert _wait(lambda: progress() >= 2 * CHUNK, timeout=240), _describe(tenant, run_id)
        assert _wait(lambda: _transactions_elsewhere() > 0 or progress() >= SIZE, timeout=60)
        _kill(worker)
        # Row locks of the dead worker's transaction go with its connection.
        assert _wait(lambda: _transactions_elsewhere() == 0, timeout=60)

        with tenant_context(tenant):
            run.refresh_from_db()
            assert run.status == RunStatus.RUNNING, "the run finished before the worker died"
            assert 2 * CHUNK <= run.anonymized < SIZE
            # Chunks are all or nothing: whole chunks committed, the one in flight rolled back.
            assert run.anonymized % CHUNK == 0 and run.skipped == 0
            states = _states(made)
            half = {pk: state for pk, state in states.items() if state.startswith("half")}
            assert not half, f"half-anonymized customers: {half}"
            outcomes = dict(AnonymizationRunItem.objects.values_list("customer_id", "outcome"))
            erased = {pk for pk, state in states.items() if state == "erased"}
            assert erased == {pk for pk, o in outcomes.items() if o == ItemOutcome.ANONYMIZED}
            assert Counter(outcomes.values()) == {
                ItemOutcome.ANONYMIZED: run.anonymized,
                ItemOutcome.PENDING: SIZE - run.anonymized,
            }
            chunks = _chunk_entries(run_id)
            assert sorted(pk for chunk in chunks for pk in chunk) == sorted(erased)
            killed_at = run.anonymized

        # The task died with the worker (acks_late: it waits unacknowledged in the broker
        # for the visibility timeout, an hour). The sweep takes over once the run is stalled.
        worker = _start_worker(outbox)
        with tenant_context(tenant):
            AnonymizationRun.objects.filter(pk=run_id).update(
                worked_at=timezone.now()
                - timedelta(seconds=settings.ANONYMIZATION_RUN_STALL_SECONDS + 60)
            )
        assert runs_sweep() == 1  # beat's task, for every tenant

        def done() -> bool:
            with tenant_context(tenant):
                return AnonymizationRun.objects.get(pk=run_id).status == RunStatus.DONE

        assert _wait(done, timeout=300, interval=0.5), _describe(tenant, run_id)
    finally:
        if worker.poll() is None:
            _kill(worker)
        app.control.purge()

    with tenant_context(tenant):
        run.refresh_from_db()
        assert (run.status, run.total, run.anonymized, run.skipped) == (
            RunStatus.DONE,
            SIZE,
            SIZE,
            0,
        )
        assert run.finished_at is not None and run.error == ""
        assert set(_states(made).values()) == {"erased"}
        assert set(AnonymizationRunItem.objects.values_list("outcome", flat=True)) == {
            ItemOutcome.ANONYMIZED
        }
        # Each customer anonymized once: one entry per chunk, no customer in two chunks.
        chunks = _chunk_entries(run_id)
        assert len(chunks) == math.ceil(SIZE / CHUNK)
        assert all(len(chunk) == CHUNK for chunk in chunks[:-1])
        flat = [pk for chunk in chunks for pk in chunk]
        assert len(flat) == len(set(flat)) == SIZE and set(flat) == set(made)
        assert killed_at < SIZE
        for action in ("anonymization.run_started", "anonymization.run_finished"):
            assert AuditEvent.objects.filter(action=action, object_id=str(run_id)).count() == 1
        finished = AuditEvent.objects.get(action="anonymization.run_finished")
        assert (finished.data["anonymized"], finished.data["skipped"]) == (SIZE, 0)
        # The killed chunk's entry was rolled back with it: the chain has no gap.
        assert audit_chain_verify().ok
