"""The private, trigram-indexed search copy: usable by the index, unreadable by the app."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, connections, transaction

from audit.actors import Actor
from customers.selectors import customer_list
from customers.services.customers import customer_update
from tenancy.context import set_db_tenant, tenant_context
from tests.factories import make_customer


def test_runtime_role_cannot_read_the_private_copy(personas):
    with tenant_context(personas.tenant_a):
        make_customer(name="Østergård Bygg AB")
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT search_text FROM customers_search_private")


def test_search_function_sees_only_the_active_tenant(personas):
    with tenant_context(personas.tenant_a):
        a = make_customer(name="Østergård Bygg AB")
    with tenant_context(personas.tenant_b):
        make_customer(name="Østergård Fisk AS", country="NO")
        assert [c.name for c in customer_list(search="ostergard")] == ["Østergård Fisk AS"]
    with transaction.atomic(), connection.cursor() as cursor:
        set_db_tenant(None)
        cursor.execute("SELECT * FROM kundreg_customer_search(ARRAY['ostergard'])")
        assert cursor.fetchall() == []
    with tenant_context(personas.tenant_a), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM kundreg_customer_search(ARRAY['ostergard'])")
        assert cursor.fetchall() == [(a.pk,)]


def test_copy_follows_updates(personas):
    with tenant_context(personas.tenant_a):
        c = make_customer(name="Gamla Namnet AB")
        customer_update(customer=c, actor=Actor.system(), name="Ålborg Maskin AB")
        assert customer_list(search="gamla").count() == 0
        assert list(customer_list(search="aalborg")) == [c]


@pytest.mark.parametrize("term", ["a_b", "x\\y", "'; drop table x; --"])
def test_wildcards_and_quotes_are_literal(personas, term):
    with tenant_context(personas.tenant_a):
        make_customer(name="Axb Handel AB")
        assert customer_list(search=term).count() == 0


def test_trigram_index_serves_the_search(live_personas):
    with tenant_context(live_personas.tenant_a):
        make_customer(name="Østergård Bygg AB")
    owner = connections["owner"]
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT customer_id FROM customers_search_private "
            "WHERE search_text LIKE '%ostergard%'"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customers_search_private_trgm" in plan
