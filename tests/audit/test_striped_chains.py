"""Concurrent audited writes of one tenant: striped chains (issue 13, item 3).

A tenant's log is AUDIT_CHAIN_STRIPES hash chains side by side (audit/services.py,
docs/adr/0006-audit-chain-anchoring.md). Each writer here is a thread with its own
database connection and its own transaction, as two web or worker processes would be.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections, transaction

from audit.actors import Actor
from audit.anchor import _line_mac, checkpoint_path, read_checkpoints
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import AuditEntry, audit_record, audit_record_many, audit_recorded
from tenancy.context import tenant_context

SYSTEM = Actor.system("test")


def _record(n: int, **data) -> list[AuditEvent]:
    return [
        audit_record(action="test.event", actor=SYSTEM, data={**data, "n": i}) for i in range(n)
    ]


def _in_threads(count: int, work: Callable[[int], None], timeout: float = 60) -> float:
    """Run ``work(i)`` in ``count`` threads, each on its own connection; the wall time."""
    failures: list[BaseException] = []
    start = threading.Barrier(count + 1)

    def run(i: int) -> None:
        try:
            start.wait()
            work(i)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join(timeout)
    elapsed = time.monotonic() - began
    assert not any(t.is_alive() for t in threads), "a writer is still waiting: deadlock?"
    assert not failures, failures
    return elapsed


def _by_transaction(tenant) -> dict[int, list[AuditEvent]]:
    with tenant_context(tenant):
        events = list(AuditEvent.objects.order_by("chain", "seq"))
    grouped: dict[int, list[AuditEvent]] = {}
    for event in events:
        grouped.setdefault(event.data["writer"], []).append(event)
    return grouped


def _assert_one_chain_each(tenant) -> None:
    """Every transaction's events sit in one chain, in order, one after the other."""
    for writer, events in _by_transaction(tenant).items():
        assert len({e.chain for e in events}) == 1, (writer, [(e.chain, e.seq) for e in events])
        seqs = [e.seq for e in events]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), (writer, seqs)
        assert [e.data["n"] for e in events] == list(range(len(events)))


def _verify(*args: str) -> tuple[bool, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_log", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue(), err.getvalue() + str(exc)
    return True, out.getvalue(), err.getvalue()


def _as_owner(tenant, *statements: tuple[str, list]) -> None:
    """The attack: the owner lifts the append-only trigger and edits one tenant's rows."""
    owner = connections["owner"]
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
        for statement, params in statements:
            cursor.execute(statement, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def _held_together(tenant, writers: int, events_each: int = 2) -> None:
    """``writers`` transactions that all hold their chain at once: ``writers`` chains."""
    together = threading.Barrier(writers)

    def work(i: int) -> None:
        with tenant_context(tenant):
            _record(1, writer=i)
            together.wait(30)
            for n in range(1, events_each):
                audit_record(action="test.event", actor=SYSTEM, data={"writer": i, "n": n})

    _in_threads(writers, work)


# --- throughput: nobody waits for anybody -------------------------------------------------


def test_eight_writers_do_not_wait_for_each_other(live_personas, settings):
    settings.AUDIT_CHAIN_STRIPES = 16
    tenant = live_personas.tenant_a
    pause, events_each = 0.4, 3

    def work(i: int) -> None:
        with tenant_context(tenant):
            for n in range(events_each):
                audit_record(action="test.event", actor=SYSTEM, data={"writer": i, "n": n})
                time.sleep(pause)  # the slow rest of the transaction, lock held

    elapsed = _in_threads(8, work)
    serial = 8 * events_each * pause  # 9.6 s: what one lock until commit made of it
    assert elapsed < serial / 3, f"{elapsed:.2f} s for 8 writers; one after the other {serial} s"

    with tenant_context(tenant):
        report = audit_chain_verify()
        assert report.ok, report
        assert report.events == 24 == AuditEvent.objects.count()
        assert len(report.chains) == 8  # all eight held a chain at the same time
        for head in report.chains:  # gap-free from 1: the walk checks it; heads agree
            assert head.events == AuditEvent.objects.filter(chain=head.chain).count()
    _assert_one_chain_each(tenant)
    ok, out, err = _verify("--tenant", "nordljus")
    assert ok, err
    assert "nordljus: 24 events in 8 chain(s), chain intact" in out


def test_one_writer_at_a_time_keeps_to_chain_zero(live_personas):
    """Without concurrency the log is one chain, exactly as before chains were striped."""
    tenant = live_personas.tenant_a
    for i in range(3):
        with tenant_context(tenant):
            _record(2, writer=i)
    with tenant_context(tenant):
        events = list(AuditEvent.objects.filter(action="test.event").order_by("id"))
        assert {e.chain for e in events} == {0}
        report = audit_chain_verify()
    assert report.ok and [c.chain for c in report.chains] == [0]
    assert report.head_hash == events[-1].hash  # the erasure report's anchor, as before


def test_a_transaction_keeps_its_chain_when_a_lower_one_comes_free(live_personas):
    """Chains are tried lowest first, but a transaction's own chain comes before that:
    its events stay in one chain and in order, also across a switch to another tenant."""
    a, b = live_personas.tenant_a, live_personas.tenant_b
    holds, done = threading.Event(), threading.Event()

    def other(i: int) -> None:
        with tenant_context(a):
            _record(1, writer=1)  # chain 0
            holds.set()
            done.wait(30)

    thread = threading.Thread(target=lambda: _in_threads(1, other))
    thread.start()
    assert holds.wait(30)
    with transaction.atomic():
        with tenant_context(a):
            first = _record(1, writer=0)[0]
        done.set()
        thread.join(30)  # chain 0 is free again, and would come first for a new transaction
        with tenant_context(b):
            elsewhere = _record(1, writer=0)[0]
        with tenant_context(a):
            second = audit_record(action="test.event", actor=SYSTEM, data={"writer": 0, "n": 1})
    assert first.chain == 1 and elsewhere.chain == 0
    assert (second.chain, second.seq) == (first.chain, first.seq + 1)
    assert second.prev_hash == first.hash


# --- every chain busy: wait, but never deadlock -------------------------------------------


def test_when_every_chain_is_busy_a_writer_waits_without_deadlock(live_personas, settings):
    settings.AUDIT_CHAIN_STRIPES = 2
    tenant = live_personas.tenant_a
    holding = threading.Barrier(3)  # the two holders and the test
    release = threading.Event()
    third_done = threading.Event()
    failures: list[BaseException] = []

    def holder(i: int) -> None:
        try:
            with tenant_context(tenant):
                _record(1, writer=i)
                holding.wait(30)
                release.wait(30)
                # Both chains are taken now (the other's by the other holder): a holder
                # must get its own chain back at once, not queue for the other one.
                audit_record(action="test.event", actor=SYSTEM, data={"writer": i, "n": 1})
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    def third() -> None:
        try:
            with tenant_context(tenant):
                _record(2, writer=2)
            third_done.set()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=holder, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    holding.wait(30)
    late = threading.Thread(target=third)
    late.start()
    threads.append(late)
    assert not third_done.wait(0.8), "a third writer got a chain while both were held"
    release.set()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "deadlock"
    assert not failures, failures
    assert third_done.is_set()

    with tenant_context(tenant):
        report = audit_chain_verify()
        assert report.ok, report
        assert [c.chain for c in report.chains] == [0, 1] and report.events == 6
    _assert_one_chain_each(tenant)


def test_many_writers_on_few_chains_all_get_through(live_personas, settings):
    settings.AUDIT_CHAIN_STRIPES = 3

    def work(i: int) -> None:
        with tenant_context(live_personas.tenant_a):
            for n in range(3):
                audit_record(action="test.event", actor=SYSTEM, data={"writer": i, "n": n})
                time.sleep(0.02)

    _in_threads(10, work)
    with tenant_context(live_personas.tenant_a):
        report = audit_chain_verify()
        assert report.ok and report.events == 30, report
        assert {c.chain for c in report.chains} <= {0, 1, 2}
    _assert_one_chain_each(live_personas.tenant_a)


# --- tampering with one chain of several --------------------------------------------------


def _chain_events(tenant, chain: int) -> list[AuditEvent]:
    with tenant_context(tenant):
        return list(AuditEvent.objects.filter(chain=chain).order_by("seq"))


def test_a_middle_event_deleted_from_one_chain_is_reported_with_its_chain(live_personas):
    tenant = live_personas.tenant_a
    _held_together(tenant, 3, events_each=3)
    victim = _chain_events(tenant, 1)[1]
    _as_owner(tenant, ("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk]))

    with tenant_context(tenant):
        report = audit_chain_verify()
    assert not report.ok
    assert (report.chain, report.broken_at, report.reason) == (1, 3, "sequence gap")
    ok, _out, err = _verify("--tenant", "nordljus")
    assert not ok
    assert "nordljus: chain 1 broken at event #3 (sequence gap)" in err


def test_an_event_moved_to_another_chain_is_reported(live_personas):
    tenant = live_personas.tenant_a
    _held_together(tenant, 2, events_each=2)
    moved = _chain_events(tenant, 1)[-1]
    _as_owner(tenant, ("UPDATE audit_auditevent SET chain = 5 WHERE id = %s", [moved.pk]))
    with tenant_context(tenant):
        report = audit_chain_verify()
    assert not report.ok and report.chain == 5, report


def test_a_chain_cut_short_or_gone_after_its_checkpoint_is_reported(live_personas):
    tenant = live_personas.tenant_a
    _held_together(tenant, 3, events_each=3)
    call_command("audit_checkpoint", stdout=StringIO(), stderr=StringIO())
    log = read_checkpoints()
    assert sorted(log.heads(tenant.pk)) == [0, 1, 2]
    lines = [json.loads(line) for line in checkpoint_path().read_text().splitlines()]
    assert [(r["v"], r["chain"], r["seq"]) for r in lines] == [(2, 0, 3), (2, 1, 3), (2, 2, 3)]
    assert _verify()[0]

    newest = _chain_events(tenant, 2)[-1]
    _as_owner(tenant, ("DELETE FROM audit_auditevent WHERE id = %s", [newest.pk]))
    ok, _out, err = _verify()
    assert not ok
    assert "nordljus: chain 2 broken at event #3 (the newest 1 event(s) missing" in err

    _as_owner(tenant, ("DELETE FROM audit_auditevent WHERE chain IN (1, 2)", []))
    ok, _out, err = _verify()
    assert not ok
    assert "nordljus: chain 1 broken at event #1 (all events missing" in err
    # And no new checkpoint blesses what is left.
    before = checkpoint_path().read_bytes()
    with pytest.raises(CommandError, match="broken for 1 tenant"):
        call_command("audit_checkpoint", stdout=StringIO(), stderr=StringIO())
    assert checkpoint_path().read_bytes() == before


def test_checkpoints_move_only_the_chains_that_grew(live_personas):
    tenant = live_personas.tenant_a
    _held_together(tenant, 2)
    out = StringIO()
    call_command("audit_checkpoint", stdout=out, stderr=StringIO())
    assert out.getvalue().startswith("2 checkpoint(s) written")  # tenant B has no events
    with tenant_context(tenant):
        _record(1, writer=7)  # one writer: chain 0
    out = StringIO()
    call_command("audit_checkpoint", stdout=out, stderr=StringIO())
    assert out.getvalue().startswith("1 checkpoint(s) written")
    assert read_checkpoints().latest[(tenant.pk, 0)].seq == 3
    assert read_checkpoints().latest[(tenant.pk, 1)].seq == 2


def test_a_version_one_checkpoint_line_still_counts_as_chain_zero(live_personas):
    """Lines written before chains were striped name no chain: they are chain 0's."""
    tenant = live_personas.tenant_a
    with tenant_context(tenant):
        events = _record(3, writer=0)
    head = events[-1]
    record = {
        "v": 1,
        "n": 1,
        "prev": "0" * 64,
        "tenant": tenant.pk,
        "seq": head.seq,
        "event": head.pk,
        "hash": head.hash,
        "count": head.seq,
        "at": "2026-11-30T12:00:00+00:00",
    }
    record["mac"] = _line_mac(record)
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record) + "\n")

    log = read_checkpoints()
    assert log.ok and log.latest[(tenant.pk, 0)].seq == 3
    ok, out, err = _verify("--tenant", "nordljus")
    assert ok, err
    assert "matches the checkpoint of 2026-11-30T12:00:00+00:00" in out
    call_command("audit_checkpoint", stdout=StringIO(), stderr=StringIO())  # nothing moved
    assert len(path.read_text().splitlines()) == 1

    _as_owner(tenant, ("DELETE FROM audit_auditevent WHERE id = %s", [head.pk]))
    ok, _out, err = _verify("--tenant", "nordljus")
    assert not ok and "chain 0 broken at event #3 (the newest 1 event(s) missing" in err


# --- readers order across chains ----------------------------------------------------------


def test_the_api_and_the_page_address_entries_by_id(live_personas):
    tenant = live_personas.tenant_a
    _held_together(tenant, 3)
    with tenant_context(tenant):
        tests = AuditEvent.objects.filter(action="test.event")
        newest_first = list(tests.order_by("-id").values_list("id", flat=True))
        some = AuditEvent.objects.get(pk=newest_first[2])
    api = live_personas.api(live_personas.key_a)
    body = api.get("/api/v1/audit-events/?action=test.&page_size=4").json()
    seen = [e["id"] for e in body["results"]]
    while body["next"]:
        body = api.get(body["next"]).json()
        seen += [e["id"] for e in body["results"]]
    assert seen == newest_first
    one = api.get(f"/api/v1/audit-events/{some.pk}/").json()
    assert (one["id"], one["chain"], one["seq"], one["hash"]) == (
        some.pk,
        some.chain,
        some.seq,
        some.hash,
    )
    other = live_personas.api(live_personas.key_b)
    assert other.get(f"/api/v1/audit-events/{some.pk}/").status_code == 404


# --- many entries at once -----------------------------------------------------------------


def test_many_entries_at_once_are_chained_like_single_ones(live_personas):
    tenant = live_personas.tenant_a
    received: list[int] = []

    def receiver(sender, *, event, **kwargs):
        received.append(event.pk)

    audit_recorded.connect(receiver, dispatch_uid="test_many_entries")
    try:
        with tenant_context(tenant):
            single = _record(1, writer=0)[0]
            many = audit_record_many(
                actor=SYSTEM,
                entries=[
                    AuditEntry("test.event", "customer", i, {"writer": 0, "n": i + 1})
                    for i in range(4)
                ],
            )
            assert audit_record_many(actor=SYSTEM, entries=[]) == []
    finally:
        audit_recorded.disconnect(dispatch_uid="test_many_entries")
    assert [(e.chain, e.seq) for e in many] == [
        (single.chain, single.seq + i) for i in (1, 2, 3, 4)
    ]
    assert many[0].prev_hash == single.hash and received == [single.pk, *(e.pk for e in many)]
    with tenant_context(tenant):
        assert audit_chain_verify().ok
        stored = AuditEvent.objects.get(pk=many[2].pk)
    assert (stored.object_id, stored.hash, stored.mac) == ("2", many[2].hash, many[2].mac)
