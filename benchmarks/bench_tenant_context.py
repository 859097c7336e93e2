"""Entering and leaving a tenant context against a bare transaction."""

from __future__ import annotations

from django.db import connection, transaction

from benchmarks import Comparison, Context, Side, benchmark, compare
from tenancy.context import tenant_context


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@benchmark
def tenant_context_overhead(ctx: Context) -> list[Comparison]:
    tenant = ctx.tenant

    def empty_context() -> None:
        with tenant_context(tenant):
            pass

    def empty_atomic() -> None:
        with transaction.atomic():
            pass

    def context_with_query() -> None:
        with tenant_context(tenant):
            _select_one()

    def atomic_with_query() -> None:
        with transaction.atomic():
            _select_one()

    return [
        compare(
            "tenant_context enter/exit, empty block",
            subject=Side("with tenant_context(t): pass", empty_context),
            baseline=Side("with transaction.atomic(): pass", empty_atomic),
            iterations=ctx.iterations,
            note="An empty atomic() sends nothing to the server (psycopg opens the transaction "
            "lazily), so this ratio is the full cost of two set_config calls and BEGIN/COMMIT.",
        ),
        compare(
            "tenant_context enter/exit around one query",
            subject=Side("with tenant_context(t): SELECT 1", context_with_query),
            baseline=Side("with transaction.atomic(): SELECT 1", atomic_with_query),
            iterations=ctx.iterations,
            note="What a request or task pays: the block runs a query either way.",
        ),
    ]
