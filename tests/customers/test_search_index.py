"""The private, trigram-indexed search copy: usable by the index, unreadable by the app."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, connections, transaction
from psycopg import sql

from audit.actors import Actor
from customers.models import Customer, CustomerStatus
from customers.selectors import customer_list
from customers.services.customers import customer_delete, customer_update
from tenancy.context import tenant_context
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


def _private_tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') AND relname LIKE '%%\\_private'"
        " AND relnamespace = 'public'::regnamespace ORDER BY relname"
    )
    return [name for (name,) in cursor.fetchall()]


def test_runtime_role_cannot_read_any_partition(personas):
    """The copy is partitioned by tenant; every partition is revoked like the parent."""
    with tenant_context(personas.tenant_a):
        make_customer(name="Østergård Bygg AB")
        with connection.cursor() as cursor:
            tables = _private_tables(cursor)
        assert "customers_search_private" in tables
        assert "customers_search_p00_private" in tables
        # The parent and its 32 partitions (other apps have private tables too).
        assert len([t for t in tables if t.startswith("customers_search_")]) == 33
        for table in tables:
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
                c.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))


def test_trigram_index_of_the_tenants_partition_serves_the_search(live_personas):
    tenant = live_personas.tenant_a
    with tenant_context(tenant):
        make_customer(name="Østergård Bygg AB")
        # Enough rows that reading the tenant's keys would cost more than the trigrams.
        Customer.objects.bulk_create(
            Customer(tenant=tenant, number=str(n), name=f"Kund {n}", search_text=f"kund {n}")
            for n in range(10_000, 13_000)
        )
    owner = connections["owner"]
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        cursor.execute("ANALYZE customers_search_private")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        # The query kundreg_customer_search() builds: the tenant as a constant.
        cursor.execute(
            sql.SQL(
                "EXPLAIN SELECT customer_id FROM customers_search_private WHERE tenant_id = {} "
                "AND search_text LIKE '%ostergard%' AND status = 'active' LIMIT 500"
            ).format(sql.Literal(live_personas.tenant_a.pk))
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on customers_search_p" in plan
    assert "_private_search_text_idx" in plan
    assert plan.count("Bitmap Heap Scan") == 1, plan  # one partition, not all of them


def test_search_filters_by_status_inside_the_function(personas):
    with tenant_context(personas.tenant_a):
        active = make_customer(name="Ødegaard Trä AB")
        gone = make_customer(name="Ødegaard Smide AB")
        Customer.objects.filter(pk=gone.pk).update(status=CustomerStatus.INACTIVE)
        assert list(customer_list(search="odegard")) == [active]
        assert set(customer_list(search="odegard", status=None)) == {active, gone}


def test_the_inactive_tab_searches_past_the_limit_of_active_matches(personas, monkeypatch):
    """The Inactive tab's "not active" goes into the function, so many active matches
    cannot use up the search limit before the inactive ones are reached."""
    from customers import selectors

    monkeypatch.setattr(selectors, "SEARCH_LIMIT", 3)
    with tenant_context(personas.tenant_a):
        for n in range(5):
            make_customer(name=f"Ødegaard Bygg {n} AB")
        gone = make_customer(name="Ødegaard Smide AB")
        Customer.objects.filter(pk=gone.pk).update(status=CustomerStatus.INACTIVE)
        assert list(customer_list(search="odegard", status=selectors.NOT_ACTIVE)) == [gone]


def test_changed_name_and_email_leave_no_trace_in_any_private_copy(live_personas):
    """Erasure reaches the search copies: after a change the old text is gone everywhere."""
    with tenant_context(live_personas.tenant_a):
        c = make_customer(name="Qvarnströmska Snickeri AB", email="qvarnstrom@example.se")
        assert list(customer_list(search="qvarnstrom")) == [c]
        customer_update(
            customer=c, actor=Actor.system(), name="Anonym Kund", email="anonym@example.invalid"
        )
        assert list(customer_list(search="qvarnstrom")) == []
        assert list(customer_list(search="anonym kund")) == [c]
    owner = connections["owner"]
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        tables = _private_tables(cursor)
        assert len(tables) > 1  # the parent and its partitions
        for table in tables:
            cursor.execute(
                sql.SQL("SELECT count(*) FROM {} t WHERE t::text ILIKE '%%qvarnstr%%'").format(
                    sql.Identifier(table)
                )
            )
            assert cursor.fetchone() == (0,), table


def test_deleting_a_customer_deletes_its_copy(live_personas):
    with tenant_context(live_personas.tenant_a):
        c = make_customer(name="Kortlivad Handel AB")
        customer_delete(customer=c, actor=Actor.system())
    owner = connections["owner"]
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM customers_search_private WHERE customer_id = %s", [c.pk]
        )
        assert cursor.fetchone() == (0,)
