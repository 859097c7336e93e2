"""What the database sees of the active tenant, at every edge of a scope (issue 8, item 12).

Each test here fails under one deliberate breakage that once left the suite green:

- ``app.tenant_id`` set session-wide (``set_config(..., false)``) instead of
  transaction-locally: the next transaction on the same connection (another request
  behind a pool, or PgBouncer in transaction mode) would still carry the tenant;
- a nested tenant context not handing the variable back: the outer tenant's block would
  go on reading and writing as the inner tenant.

They judge by raw SQL, which only row security filters, and by
``current_setting('app.tenant_id')``: what the database sees, not how the code sets it.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from tenancy.context import tenant_context, tenant_scope
from tenancy.models import ReferenceEntry
from tests.factories import ReferenceEntryFactory


class Boom(Exception):
    pass


def _raw_codes() -> set[str]:
    """Every entry code the database lets this connection see (row security only, no ORM)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT code FROM tenancy_referenceentry")
        return {row[0] for row in cursor.fetchall()}


def _db_tenant() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        return cursor.fetchone()[0] or ""


def _backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def _assert_no_tenant_in_a_new_transaction_and_in_autocommit(pid: int) -> None:
    # The same PostgreSQL session: a session-wide value would still be there.
    assert _backend_pid() == pid
    assert connection.get_autocommit()
    with transaction.atomic():
        assert _db_tenant() == ""
        assert _raw_codes() == set()
    assert _db_tenant() == ""
    assert _raw_codes() == set()
    assert _backend_pid() == pid


@pytest.fixture
def live_entries(live_personas):
    with tenant_context(live_personas.tenant_a):
        ReferenceEntryFactory(code="A1")
    with tenant_context(live_personas.tenant_b):
        ReferenceEntryFactory(code="B1")
    return live_personas


@pytest.fixture
def entries(personas):
    with tenant_context(personas.tenant_a):
        ReferenceEntryFactory(code="A1")
    with tenant_context(personas.tenant_b):
        ReferenceEntryFactory(code="B1")
    return personas


# --- 1. The variable ends with the transaction -------------------------------------------


def test_after_a_tenant_context_the_next_transaction_sees_no_tenant(live_entries):
    with tenant_context(live_entries.tenant_a):
        assert _db_tenant() == str(live_entries.tenant_a.pk)
        assert _raw_codes() == {"A1"}
        pid = _backend_pid()
    _assert_no_tenant_in_a_new_transaction_and_in_autocommit(pid)


def test_after_a_tenant_context_that_raised_the_next_transaction_sees_no_tenant(live_entries):
    with pytest.raises(Boom), tenant_context(live_entries.tenant_a):
        assert _raw_codes() == {"A1"}
        pid = _backend_pid()
        raise Boom
    _assert_no_tenant_in_a_new_transaction_and_in_autocommit(pid)


def test_after_a_scope_of_several_transactions_the_next_one_sees_no_tenant(live_entries):
    """A task's shape: claim (commit), work with no transaction open, record (commit)."""
    tenant = live_entries.tenant_a
    with tenant_scope(tenant):
        with transaction.atomic():
            ReferenceEntryFactory(code="A2")
            pid = _backend_pid()
        assert _raw_codes() == {"A1", "A2"}  # autocommit, still in the scope
        with transaction.atomic():
            assert _db_tenant() == str(tenant.pk)
            ReferenceEntry.objects.filter(code="A2").update(name="claimed")
    _assert_no_tenant_in_a_new_transaction_and_in_autocommit(pid)


def test_a_committed_tenant_transaction_leaves_nothing_for_the_next_request(live_entries, settings):
    """A request for tenant A, then a transaction with no tenant on the reused connection."""
    settings.CONN_MAX_AGE = 60
    client = live_entries.client(live_entries.alice)
    assert client.get("/settings/registers/").status_code == 200
    pid = _backend_pid()
    _assert_no_tenant_in_a_new_transaction_and_in_autocommit(pid)


# --- 2. A nested tenant hands the variable back --------------------------------------------


def test_a_nested_context_hands_the_outer_tenant_back(entries):
    a, b = entries.tenant_a, entries.tenant_b
    with tenant_context(a):
        assert (_db_tenant(), _raw_codes()) == (str(a.pk), {"A1"})
        with tenant_context(b):
            assert (_db_tenant(), _raw_codes()) == (str(b.pk), {"B1"})
        assert (_db_tenant(), _raw_codes()) == (str(a.pk), {"A1"})
        assert set(ReferenceEntry.objects.values_list("code", flat=True)) == {"A1"}
        ReferenceEntryFactory(code="A2")  # row security lets A write its own rows again
        assert _raw_codes() == {"A1", "A2"}


def test_a_nested_context_that_raised_hands_the_outer_tenant_back(entries):
    a, b = entries.tenant_a, entries.tenant_b
    with tenant_context(a):
        assert _raw_codes() == {"A1"}
        with pytest.raises(Boom), tenant_context(b):
            assert _raw_codes() == {"B1"}
            ReferenceEntryFactory(code="B2")
            raise Boom
        assert (_db_tenant(), _raw_codes()) == (str(a.pk), {"A1"})
    with tenant_context(b):
        assert _raw_codes() == {"B1"}  # B2 went with the rollback


def test_a_nested_context_whose_sql_failed_hands_the_outer_tenant_back(entries):
    a, b = entries.tenant_a, entries.tenant_b
    with tenant_context(a):
        with pytest.raises(DatabaseError), tenant_context(b), connection.cursor() as cursor:
            # Row security refuses B a row of A's: the statement aborts B's savepoint.
            cursor.execute(
                "INSERT INTO tenancy_referenceentry "
                "(tenant_id, register, code, name, description, sort_order, is_active) "
                "VALUES (%s, 'district', 'X', 'X', '', 0, true)",
                [a.pk],
            )
        assert (_db_tenant(), _raw_codes()) == (str(a.pk), {"A1"})


def test_nested_scopes_in_one_transaction_hand_back_down_to_no_tenant(entries):
    a, b = entries.tenant_a, entries.tenant_b
    with transaction.atomic():
        assert (_db_tenant(), _raw_codes()) == ("", set())
        with tenant_scope(a):
            assert _raw_codes() == {"A1"}
            with tenant_scope(b):
                assert (_db_tenant(), _raw_codes()) == (str(b.pk), {"B1"})
            assert (_db_tenant(), _raw_codes()) == (str(a.pk), {"A1"})
        assert (_db_tenant(), _raw_codes()) == ("", set())


def test_a_savepoint_rolled_back_inside_a_nested_scope_keeps_the_inner_tenant(entries):
    """The rollback restores the variable the savepoint saw (A): B's block must still be B."""
    a, b = entries.tenant_a, entries.tenant_b
    with tenant_context(a):
        assert _raw_codes() == {"A1"}
        sid = transaction.savepoint()
        with tenant_scope(b):
            assert _raw_codes() == {"B1"}
            transaction.savepoint_rollback(sid)
            assert (_db_tenant(), _raw_codes()) == (str(b.pk), {"B1"})
        assert (_db_tenant(), _raw_codes()) == (str(a.pk), {"A1"})
