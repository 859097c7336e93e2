"""Sales documents under row security: raw SQL as the runtime role reaches no other tenant's
documents, and the database refuses a document that points at another tenant's customer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from audit.actors import Actor
from sales.models import SalesDocument
from sales.services import sales_document_post
from tenancy.context import tenant_context
from tests.factories import make_customer

TABLE = SalesDocument._meta.db_table


@pytest.fixture
def sides(personas):
    made = {}
    for label, tenant in (("A", personas.tenant_a), ("B", personas.tenant_b)):
        with tenant_context(tenant):
            customer = make_customer(name=f"{label} Kund")
            document, _created = sales_document_post(
                customer=customer,
                kind="invoice",
                number=f"{label}-1",
                date=dt.date(2026, 1, 1),
                status="open",
                amount=Decimal("1.00"),
                balance=Decimal("1.00"),
                actor=Actor.system("test"),
            )
        made[label] = (tenant, customer, document)
    return made


def _sql(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else [(cursor.rowcount,)]


def test_raw_select_update_delete_see_only_the_own_tenant(sides):
    tenant_a, _customer_a, document_a = sides["A"]
    _tenant_b, _customer_b, document_b = sides["B"]
    with tenant_context(tenant_a):
        assert _sql(f'SELECT id FROM "{TABLE}"') == [(document_a.pk,)]  # noqa: S608
        assert _sql(f'UPDATE "{TABLE}" SET balance = 0 WHERE id = %s', [document_b.pk]) == [(0,)]  # noqa: S608
        assert _sql(f'DELETE FROM "{TABLE}" WHERE id = %s', [document_b.pk]) == [(0,)]  # noqa: S608
    with tenant_context(sides["B"][0]):
        assert SalesDocument.objects.get().balance == Decimal("1.00")


def test_no_tenant_no_rows(sides):
    assert _sql(f'SELECT count(*) FROM "{TABLE}"') == [(0,)]  # noqa: S608


def test_insert_as_another_tenant_is_refused(sides):
    tenant_a, customer_a, _document = sides["A"]
    tenant_b = sides["B"][0]
    with tenant_context(tenant_a), pytest.raises(DatabaseError), transaction.atomic():
        _sql(
            f'INSERT INTO "{TABLE}" (tenant_id, kind, number, date, status, amount, balance, '  # noqa: S608
            "currency, customer_id, customer_name, line1, line2, postcode, city, country, "
            "created_at, updated_at) VALUES (%s, 'invoice', 'X', now(), 'open', 1, 1, 'SEK', "
            "%s, '', '', '', '', '', '', now(), now())",
            [tenant_b.pk, customer_a.pk],
        )


def test_a_document_pointing_at_another_tenants_customer_is_refused(sides):
    tenant_a = sides["A"][0]
    customer_b = sides["B"][1]
    with tenant_context(tenant_a), pytest.raises(IntegrityError), transaction.atomic():
        _sql(
            f'INSERT INTO "{TABLE}" (tenant_id, kind, number, date, status, amount, balance, '  # noqa: S608
            "currency, customer_id, customer_name, line1, line2, postcode, city, country, "
            "created_at, updated_at) VALUES (%s, 'invoice', 'X', now(), 'open', 1, 1, 'SEK', "
            "%s, '', '', '', '', '', '', now(), now())",
            [tenant_a.pk, customer_b.pk],
        )
        _sql("SET CONSTRAINTS ALL IMMEDIATE")
