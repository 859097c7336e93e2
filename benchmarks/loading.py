"""Bulk loading shared by the benchmarks that fill a big tenant (customer search, eligibility,
and through the eligibility loader the dashboard and RLS benchmarks).

Loading works like a restore, as the owner: secondary indexes dropped and rebuilt afterwards,
row security's forcing lifted while COPY runs (under forced row security the owner would see,
and write, no tenant's rows), the search mirror filled in one statement at the end.
"""

from __future__ import annotations

from django.db import connections

OWNER = "owner"


def secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the indexes that back no constraint: safe to drop and rebuild."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = %s AND NOT EXISTS (
            SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [table],
    )
    return cursor.fetchall()


def drop_indexes(cursor, indexes: list[tuple[str, str]]) -> None:
    for name, _definition in indexes:  # a partitioned index takes its partitions' along
        cursor.execute(f'DROP INDEX "{name}"')


def rebuild_indexes(cursor, indexes: list[tuple[str, str]]) -> None:
    for _name, definition in indexes:
        # pg_indexes shows a partitioned index as ON ONLY the parent; without ONLY it is
        # built on every partition again.
        cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))


def fill_search_mirror() -> None:
    """Copy the loaded customers' search text into the search mirror (its trigger was off)."""
    with connections[OWNER].cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_search_private (customer_id, tenant_id, search_text, "
            "status) SELECT id, tenant_id, search_text, status "
            "FROM customers_customer ON CONFLICT DO NOTHING"
        )


def loaded_customers() -> dict[int, int]:
    """Customers per tenant already in the database (a kept one), counted as the owner.

    The search mirror has row security enabled but not forced: the owner sees every row.
    """
    with connections[OWNER].cursor() as cursor:
        cursor.execute("SELECT tenant_id, count(*) FROM customers_search_private GROUP BY 1")
        return dict(cursor.fetchall())
