"""Tenant isolation, twice: the ORM refuses to run unscoped, and row security holds for raw SQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django_scopes import ScopeError

from tenancy.context import NoTenantError, tenant_context
from tenancy.models import ReferenceEntry
from tests.factories import ReferenceEntryFactory


def _raw_entry_codes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT code FROM tenancy_referenceentry")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def entries(personas):
    with tenant_context(personas.tenant_a):
        ReferenceEntryFactory(code="A1")
    with tenant_context(personas.tenant_b):
        ReferenceEntryFactory(code="B1")
    return personas


def test_query_without_tenant_raises(entries):
    with pytest.raises(ScopeError):
        list(ReferenceEntry.objects.all())


def test_save_without_tenant_raises(db):
    with pytest.raises(NoTenantError):
        ReferenceEntry(register="district", code="X", name="X").save()


def test_orm_sees_only_the_active_tenant(entries):
    with tenant_context(entries.tenant_a):
        assert set(ReferenceEntry.objects.values_list("code", flat=True)) == {"A1"}
    with tenant_context(entries.tenant_b):
        assert set(ReferenceEntry.objects.values_list("code", flat=True)) == {"B1"}


def test_raw_sql_with_tenant_a_sees_none_of_b(entries):
    with tenant_context(entries.tenant_a):
        assert _raw_entry_codes() == {"A1"}


def test_raw_sql_without_tenant_sees_no_rows(entries):
    with transaction.atomic():
        assert _raw_entry_codes() == set()


def test_row_security_refuses_writing_into_another_tenant(entries):
    with (
        tenant_context(entries.tenant_a),
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO tenancy_referenceentry "
            "(tenant_id, register, code, name, description, sort_order, is_active) "
            "VALUES (%s, 'district', 'X', 'X', '', 0, true)",
            [entries.tenant_b.pk],
        )


def test_runtime_role_cannot_switch_row_security_off(entries):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE tenancy_referenceentry NO FORCE ROW LEVEL SECURITY")


def test_reused_connection_does_not_carry_the_tenant_over(live_personas):
    """After a tenant's block ends, the next transaction on the same connection sees nothing."""
    with tenant_context(live_personas.tenant_a):
        ReferenceEntryFactory(code="A1")
        backend_pid = connection.connection.info.backend_pid
    # Same Python connection, same PostgreSQL backend, next transaction.
    assert connection.connection.info.backend_pid == backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert cursor.fetchone()[0] in ("", None)
    assert _raw_entry_codes() == set()


def test_reused_connection_between_requests(live_personas, settings):
    """A request for tenant A, then an anonymous request on the same connection: no carry-over."""
    settings.CONN_MAX_AGE = 60
    client = live_personas.client(live_personas.alice)
    assert client.get("/settings/registers/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert cursor.fetchone()[0] in ("", None)
