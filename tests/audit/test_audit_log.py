"""The audit log: append-only in the database, hash-chained per tenant, verifiable."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connections, transaction

from audit.actors import Actor
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import GENESIS_HASH, audit_record
from tenancy.context import tenant_context


def _record(n: int = 3) -> list[AuditEvent]:
    return [
        audit_record(action="test.event", actor=Actor.system("test"), data={"n": i})
        for i in range(n)
    ]


def test_events_are_chained_per_tenant(personas):
    with tenant_context(personas.tenant_a):
        last = AuditEvent.objects.order_by("-seq").first()
        base = last.seq if last else 0
        events = _record(3)
    with tenant_context(personas.tenant_b):
        b_event = _record(1)[0]
    assert [e.seq for e in events] == [base + 1, base + 2, base + 3]
    assert events[1].prev_hash == events[0].hash
    assert b_event.prev_hash != events[-1].hash
    with tenant_context(personas.tenant_a):
        assert audit_chain_verify().ok
        assert AuditEvent.objects.filter(pk=b_event.pk).count() == 0


def test_first_event_links_to_genesis(personas):
    with tenant_context(personas.tenant_a):
        _record(2)
        assert AuditEvent.objects.order_by("seq").first().prev_hash == GENESIS_HASH


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_auditevent SET action = 'forged'", "DELETE FROM audit_auditevent"],
)
def test_runtime_role_cannot_change_or_delete(personas, statement):
    with tenant_context(personas.tenant_a):
        _record(1)
        with (
            pytest.raises(DatabaseError),
            transaction.atomic(),
            connections["default"].cursor() as cursor,
        ):
            cursor.execute(statement)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_auditevent SET action = 'forged'", "DELETE FROM audit_auditevent"],
)
def test_even_the_owner_cannot_change_or_delete(live_personas, statement):
    """The trigger refuses the table's owner too (row security aside: set the tenant)."""
    with tenant_context(live_personas.tenant_a):
        _record(1)
    owner = connections["owner"]
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(using="owner"),
        owner.cursor() as cursor,
    ):
        tenant_id = str(live_personas.tenant_a.pk)
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [tenant_id])
        cursor.execute(statement)


def test_chain_check_catches_a_row_edited_by_the_owner(live_personas):
    with tenant_context(live_personas.tenant_a):
        events = _record(3)
    owner = connections["owner"]
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        # Only the owner can lift the trigger, and only on purpose: this is the attack.
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(
            "SELECT set_config('app.tenant_id', %s, true)", [str(live_personas.tenant_a.pk)]
        )
        cursor.execute(
            "UPDATE audit_auditevent SET data = '{\"n\": 99}' WHERE id = %s", [events[1].pk]
        )
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
    with tenant_context(live_personas.tenant_a):
        report = audit_chain_verify()
    assert not report.ok
    assert report.broken_at == events[1].seq
    with pytest.raises(CommandError):
        call_command("verify_audit_log", "--tenant", "nordljus")
    # Tenant B's chain is untouched and still verifies.
    call_command("verify_audit_log", "--tenant", "fjordvik")


def test_verify_command_passes_on_an_intact_log(personas, capsys):
    with tenant_context(personas.tenant_a):
        _record(5)
    call_command("verify_audit_log")
    out = capsys.readouterr().out
    assert "nordljus" in out and "chain intact" in out


def test_verify_command_unknown_tenant(db):
    with pytest.raises(CommandError):
        call_command("verify_audit_log", "--tenant", "nope")


def test_api_lists_events_read_only(personas):
    with tenant_context(personas.tenant_a):
        _record(2)
    api = personas.api(personas.key_a)
    body = api.get("/api/v1/audit-events/?action=test.").json()
    assert [e["action"] for e in body["results"]] == ["test.event", "test.event"]
    assert set(body) == {"results", "next", "previous"}
    assert api.post("/api/v1/audit-events/", {}, content_type="application/json").status_code == 405


def test_api_cursor_pagination(personas):
    with tenant_context(personas.tenant_a):
        _record(7)
    api = personas.api(personas.key_a)
    page = api.get("/api/v1/audit-events/?page_size=3&action=test.").json()
    seen = [e["id"] for e in page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [e["id"] for e in page["results"]]
    assert len(seen) == 7 == len(set(seen))
    assert seen == sorted(seen, reverse=True)


def test_browse_page_filters(personas):
    with tenant_context(personas.tenant_a):
        audit_record(action="customer.merged", actor=Actor.system("t"), object_type="customer")
        _record(2)
    client = personas.client(personas.alice)
    page = client.get("/audit/?action=customer.").content.decode()
    assert "customer.merged" in page and "test.event" not in page
    partial = client.get("/audit/?action=test.", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "test.event" in partial


def test_browse_page_bad_filter_input_is_not_a_500(personas):
    response = personas.client(personas.alice).get("/audit/?since=yesterday&page=-4")
    assert response.status_code == 200
