"""Row security on the new tables, with raw SQL (the ORM's scope is not what is tested)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from audit.actors import Actor
from tenancy.context import tenant_context
from tests.factories import make_customer
from webhooks.services import endpoint_create

TABLES = ("webhooks_event", "webhooks_webhookendpoint", "webhooks_webhookdelivery")


@pytest.fixture
def rows(personas):
    for tenant in (personas.tenant_a, personas.tenant_b):
        with tenant_context(tenant):
            endpoint_create(
                url="https://93.184.215.14/hook",
                event_types=["customer.created"],
                actor=Actor.system("tests"),
            )
            make_customer(name="Rad AB")
    return personas


def _tenants_seen(table: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT tenant_id FROM {table}")  # noqa: S608
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize("table", TABLES)
def test_raw_sql_sees_only_the_active_tenant(rows, table):
    with tenant_context(rows.tenant_a):
        assert _tenants_seen(table) == {rows.tenant_a.pk}
    with tenant_context(rows.tenant_b):
        assert _tenants_seen(table) == {rows.tenant_b.pk}


@pytest.mark.parametrize("table", TABLES)
def test_raw_sql_without_a_tenant_sees_nothing(rows, table):
    with transaction.atomic():
        assert _tenants_seen(table) == set()


def test_writing_into_another_tenant_is_refused(rows):
    with (
        tenant_context(rows.tenant_a),
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO webhooks_event (tenant_id, type, object_type, object_id, data, created_at)"
            " VALUES (%s, 'customer.created', 'customer', '1', '{}', now())",
            [rows.tenant_b.pk],
        )


def test_a_delivery_cannot_point_at_another_tenants_endpoint(rows):
    with tenant_context(rows.tenant_b), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM webhooks_event LIMIT 1")
        (b_event,) = cursor.fetchone()
    with tenant_context(rows.tenant_a), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM webhooks_webhookendpoint LIMIT 1")
        (a_endpoint,) = cursor.fetchone()
    with (
        tenant_context(rows.tenant_a),
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO webhooks_webhookdelivery (tenant_id, endpoint_id, event_id, status,"
            " attempts, error, created_at, updated_at)"
            " VALUES (%s, %s, %s, 'pending', 0, '', now(), now())",
            [rows.tenant_a.pk, a_endpoint, b_event],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
