"""The audit chain is anchored outside the database (docs/adr/0006-audit-chain-anchoring.md).

The attacker here is whoever holds the database's owner role: they can lift the
append-only trigger and edit the table at will, but hold neither AUDIT_CHAIN_KEY nor
write access to the checkpoint directory.
"""

from __future__ import annotations

import json
import time
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connections, transaction

from audit.actors import Actor
from audit.anchor import checkpoint_path, event_mac, read_checkpoints
from audit.models import AuditEvent
from audit.services import audit_checkpoint_write, audit_record
from tenancy.context import tenant_context
from tests.factories import TenantFactory


def _record(tenant, n: int) -> list[AuditEvent]:
    with tenant_context(tenant):
        return [
            audit_record(action="test.event", actor=Actor.system("test"), data={"n": i})
            for i in range(n)
        ]


def _events(tenant) -> list[AuditEvent]:
    with tenant_context(tenant):
        return list(AuditEvent.objects.order_by("seq"))


def _as_owner(tenant, *statements: tuple[str, list]) -> None:
    """The attack: the owner lifts the append-only trigger and edits one tenant's rows."""
    owner = connections["owner"]
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
        for statement, params in statements:
            cursor.execute(statement, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def _verify(*args: str) -> tuple[bool, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_log", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue(), err.getvalue() + str(exc)
    return True, out.getvalue(), err.getvalue()


def _checkpoint(*args: str) -> str:
    out = StringIO()
    call_command("audit_checkpoint", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _lines() -> list[str]:
    return checkpoint_path().read_text().splitlines()


# --- the three tamperings -----------------------------------------------------------------


def test_untampered_chains_verify_against_their_checkpoints(live_personas):
    _record(live_personas.tenant_a, 5)
    _record(live_personas.tenant_b, 2)
    _checkpoint()
    ok, out, err = _verify()
    assert ok, err
    assert "nordljus:" in out and "fjordvik:" in out
    assert out.count("chain intact, matches the checkpoint") == 2
    assert out.splitlines()[-1] == "2 audit chain(s) intact."


def test_deleting_the_newest_events_is_detected(live_personas):
    tenant = live_personas.tenant_a
    _record(tenant, 5)
    _record(live_personas.tenant_b, 2)
    _checkpoint()
    head = _events(tenant)[-1].seq
    _as_owner(tenant, ("DELETE FROM audit_auditevent WHERE seq > %s", [head - 2]))
    # What is left is a perfect chain: only the anchor outside the database can tell.
    assert [e.seq for e in _events(tenant)] == list(range(1, head - 1))

    ok, out, err = _verify()
    assert not ok
    assert f"nordljus: chain 0 broken at event #{head - 1} (the newest 2 event(s) missing" in err
    assert "fjordvik:" in out and "chain intact" in out


def test_deleting_all_of_a_tenants_events_is_detected(live_personas):
    tenant = live_personas.tenant_a
    _record(tenant, 3)
    _checkpoint()
    _as_owner(tenant, ("DELETE FROM audit_auditevent", []))
    assert _events(tenant) == []

    ok, _out, err = _verify("--tenant", "nordljus")
    assert not ok
    assert "nordljus: chain 0 broken at event #1 (all events missing" in err
    assert _verify("--tenant", "fjordvik")[0]


def test_a_checkpointed_tenant_deleted_with_its_events_is_detected(live_personas):
    gone = TenantFactory(slug="kortlivad")
    _record(gone, 2)
    _checkpoint()
    _as_owner(gone, ("DELETE FROM audit_auditevent", []))
    with connections["owner"].cursor() as cursor:
        cursor.execute("DELETE FROM tenancy_tenant WHERE id = %s", [gone.pk])

    ok, _out, err = _verify()
    assert not ok
    assert f"tenant #{gone.pk}: missing from the database" in err


@pytest.mark.parametrize("checkpointed", [True, False], ids=["after-checkpoint", "keyed-only"])
def test_a_rewritten_row_with_every_later_hash_recomputed_is_detected(live_personas, checkpointed):
    tenant = live_personas.tenant_a
    _record(tenant, 6)
    if checkpointed:
        _checkpoint()
    assert _verify()[0]
    events = _events(tenant)
    target = events[len(events) // 2]
    # Rewrite one row, then re-link and re-hash everything after it with the plain hash.
    updates = []
    previous = None
    for event in events:
        if event.seq == target.seq:
            event.data = {"n": 99}
        if event.seq >= target.seq:
            event.prev_hash = previous.hash
            event.hash = event.compute_hash()
            updates.append(
                (
                    "UPDATE audit_auditevent SET data = %s, prev_hash = %s, hash = %s "
                    "WHERE id = %s",
                    [json.dumps(event.data), event.prev_hash, event.hash, event.pk],
                )
            )
        previous = event
    _as_owner(tenant, *updates)
    rewritten = _events(tenant)
    assert rewritten[len(events) // 2].data == {"n": 99}
    assert all(e.compute_hash() == e.hash for e in rewritten)  # the plain chain holds

    ok, _out, err = _verify()
    assert not ok
    assert f"nordljus: chain 0 broken at event #{target.seq} (keyed hash wrong" in err


# --- TRUNCATE -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE audit_auditevent",
        "TRUNCATE audit_auditevent RESTART IDENTITY CASCADE",
        "TRUNCATE tenancy_tenant CASCADE",  # reaches the log through its foreign key
    ],
)
def test_even_the_owner_cannot_truncate(live_personas, statement):
    _record(live_personas.tenant_a, 2)
    owner = connections["owner"]
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"),
        transaction.atomic(using="owner"),
        owner.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert len(_events(live_personas.tenant_a)) >= 2


def test_the_runtime_role_cannot_truncate(personas):
    _record(personas.tenant_a, 1)
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connections["default"].cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_auditevent")
    assert _events(personas.tenant_a)


# --- the checkpoint file ------------------------------------------------------------------


def _damage_forge(lines: list[str]) -> list[str]:
    record = json.loads(lines[0])
    record["count"] = record["seq"] = 1  # an older, smaller head: keeps its old MAC
    return [json.dumps(record), *lines[1:]]


def _damage_remove(lines: list[str]) -> list[str]:
    return lines[1:]


def _damage_reorder(lines: list[str]) -> list[str]:
    return [lines[1], lines[0], *lines[2:]]


def _damage_other_key(lines: list[str]) -> list[str]:
    # A whole file written, consistently, by someone holding another key.
    from audit.anchor import _line_mac

    forged = []
    prev = "0" * 64
    for line in lines:
        record = json.loads(line)
        record["prev"] = prev
        record["count"] = record["seq"] = 1
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(settings, "AUDIT_CHAIN_KEY", "the-attackers-own-key-0123456789abcdef")
            record["mac"] = _line_mac(record)
        prev = record["mac"]
        forged.append(json.dumps(record))
    return forged


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (_damage_forge, "line 1: its keyed hash does not match"),
        (_damage_other_key, "line 1: its keyed hash does not match"),
        (_damage_remove, "line 1: numbered 2, expected 1"),
        (_damage_reorder, "line 1: numbered 2, expected 1"),
    ],
    ids=["forged", "other-key", "line-removed", "reordered"],
)
def test_a_damaged_checkpoint_file_is_reported(live_personas, damage, problem):
    _record(live_personas.tenant_a, 3)
    _record(live_personas.tenant_b, 3)
    _checkpoint()
    path = checkpoint_path()
    path.write_text("\n".join(damage(_lines())) + "\n")
    damaged = path.read_bytes()

    ok, _out, err = _verify()
    assert not ok
    assert problem in err
    assert "checkpoint file is damaged" in err
    # Nothing is appended over the evidence.
    _record(live_personas.tenant_a, 1)
    with pytest.raises(CommandError, match="damaged; nothing was written"):
        _checkpoint()
    assert path.read_bytes() == damaged


def test_a_cut_off_checkpoint_file_is_reported(live_personas):
    _record(live_personas.tenant_a, 3)
    _checkpoint()
    path = checkpoint_path()
    path.write_bytes(path.read_bytes()[:-20])
    ok, _out, err = _verify()
    assert not ok
    assert "line 1: incomplete" in err


def test_a_checkpoint_never_covers_tampering(live_personas):
    """Deleted at the head, then new events on top: the next checkpoint must not bless it."""
    tenant = live_personas.tenant_a
    _record(tenant, 4)
    _checkpoint()
    head = _events(tenant)[-1].seq
    _as_owner(tenant, ("DELETE FROM audit_auditevent WHERE seq > %s", [head - 2]))
    _record(tenant, 3)  # the application carries on: the count is back above the checkpoint
    before = checkpoint_path().read_bytes()

    with pytest.raises(CommandError, match="broken for 1 tenant"):
        _checkpoint()
    assert checkpoint_path().read_bytes() == before
    ok, _out, err = _verify()
    assert not ok
    assert f"nordljus: chain 0 broken at event #{head} (differs from the checkpoint" in err


def test_checkpoints_are_appended_only_when_a_head_moved(live_personas):
    _record(live_personas.tenant_a, 2)
    _record(live_personas.tenant_b, 2)
    path = checkpoint_path()
    assert _checkpoint() == f"2 checkpoint(s) written to {path}, 0 unchanged.\n"
    assert _checkpoint() == f"0 checkpoint(s) written to {path}, 2 unchanged.\n"
    _record(live_personas.tenant_b, 1)
    assert _checkpoint() == f"1 checkpoint(s) written to {path}, 1 unchanged.\n"
    log = read_checkpoints()
    assert log.ok and log.lines == 3
    lines = [json.loads(line) for line in _lines()]
    assert [r["n"] for r in lines] == [1, 2, 3]
    assert lines[2]["prev"] == lines[1]["mac"] and lines[2]["tenant"] == live_personas.tenant_b.pk
    head_b = _events(live_personas.tenant_b)[-1]
    assert (lines[2]["seq"], lines[2]["hash"], lines[2]["event"]) == (
        head_b.seq,
        head_b.hash,
        head_b.pk,
    )
    assert log.latest[(live_personas.tenant_b.pk, 0)].seq == head_b.seq


def test_checkpoints_read_committed_data_only(personas):
    with pytest.raises(RuntimeError, match="outside any transaction"):
        audit_checkpoint_write()


def test_beat_anchors_the_chains_through_a_real_worker(live_personas, celery_worker):
    from audit.tasks import write_checkpoints
    from config.celery import app

    assert app.conf.beat_schedule["audit-checkpoints"]["task"] == write_checkpoints.name
    _record(live_personas.tenant_a, 2)
    write_checkpoints.delay()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not checkpoint_path().exists():
        time.sleep(0.1)
    log = read_checkpoints()
    assert log.ok
    assert log.latest[(live_personas.tenant_a.pk, 0)].seq == _events(live_personas.tenant_a)[-1].seq


# --- the keyed hash -----------------------------------------------------------------------


def test_every_event_carries_a_keyed_hash_the_database_cannot_compute(personas):
    event = _record(personas.tenant_a, 1)[0]
    stored = _events(personas.tenant_a)[-1]
    assert stored.mac == event_mac(stored.hash) == event.mac
    assert len(stored.mac) == 64 and stored.mac != stored.hash
    assert settings.AUDIT_CHAIN_KEY != settings.SECRET_KEY


def test_events_from_before_the_key_get_their_keyed_hash_on_migration(live_personas):
    tenant = live_personas.tenant_a
    call_command("migrate", "audit", "0001", verbosity=0)
    try:
        chain = []
        prev = "0" * 64
        for seq in range(1, 4):
            event = AuditEvent(
                tenant=tenant,
                seq=seq,
                created_at=live_personas.tenant_a.created_at,
                actor_type="system",
                actor_id="old",
                action="old.event",
                data={"n": seq},
                prev_hash=prev,
            )
            event.hash = prev = event.compute_hash()
            chain.append(event)
        owner = connections["owner"]
        with transaction.atomic(using="owner"), owner.cursor() as cursor:
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
            for e in chain:
                cursor.execute(
                    "INSERT INTO audit_auditevent (tenant_id, seq, created_at, actor_type, "
                    "actor_id, action, object_type, object_id, data, prev_hash, hash) "
                    "VALUES (%s, %s, %s, %s, %s, %s, '', '', %s, %s, %s)",
                    [tenant.pk, e.seq, e.created_at, e.actor_type, e.actor_id, e.action,
                     json.dumps(e.data), e.prev_hash, e.hash],
                )  # fmt: skip
    finally:
        call_command("migrate", "audit", verbosity=0)
    stored = _events(tenant)
    assert [e.seq for e in stored] == [1, 2, 3]
    assert all(e.mac == event_mac(e.hash) for e in stored)
    ok, _out, err = _verify("--tenant", "nordljus")
    assert ok, err


# --- production settings ------------------------------------------------------------------

STRONG_SECRET = "s3cr3t-" + "".join(chr(ord("a") + i % 26) for i in range(60))
STRONG_AUDIT_KEY = "k3y-" + "".join(chr(ord("A") + (i * 7) % 26) for i in range(40))


def _import_prod(monkeypatch, **env: str):
    import importlib
    import sys

    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("ALLOWED_HOSTS", "kundreg.example")
    monkeypatch.setenv("SMS_BACKEND", "notifications.backends.file.FileBackend")
    monkeypatch.setenv("SITE_URL", "https://kundreg.example")
    monkeypatch.setenv("DEFAULT_FROM_EMAIL", "no-reply@kundreg.example.com")
    for name in ("SECRET_KEY_FILE", "AUDIT_CHAIN_KEY", "AUDIT_CHAIN_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "config.settings.prod", raising=False)
    try:
        return importlib.import_module("config.settings.prod")
    finally:
        sys.modules.pop("config.settings.prod", None)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"AUDIT_CHAIN_KEY": "too-short-for-an-audit-key"},
        {"AUDIT_CHAIN_KEY": "ab" * 30},  # long, but hardly random
        {"AUDIT_CHAIN_KEY": STRONG_SECRET},  # the SECRET_KEY itself
    ],
    ids=["missing", "short", "repetitive", "is-the-secret-key"],
)
def test_prod_refuses_a_missing_or_weak_audit_chain_key(monkeypatch, env):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="AUDIT_CHAIN_KEY"):
        _import_prod(monkeypatch, **env)


def test_prod_reads_the_audit_chain_key_from_env_or_file(monkeypatch, tmp_path):
    assert _import_prod(monkeypatch, AUDIT_CHAIN_KEY=STRONG_AUDIT_KEY).AUDIT_CHAIN_KEY == (
        STRONG_AUDIT_KEY
    )
    (tmp_path / "audit-key").write_text(STRONG_AUDIT_KEY + "\n")
    prod = _import_prod(monkeypatch, AUDIT_CHAIN_KEY_FILE=str(tmp_path / "audit-key"))
    assert prod.AUDIT_CHAIN_KEY == STRONG_AUDIT_KEY
