"""Entering a tenant's scope or context against a bare transaction (docs/adr/0005)."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection, transaction

from benchmarks import Comparison, Context, Side, benchmark, compare
from tenancy.context import _tenant_variable, tenant_context, tenant_scope

TEN = 10


@contextmanager
def _without_wrapper():
    """The same connection with the tenant-variable wrapper detached (the baseline side)."""
    connection.ensure_connection()
    connection.execute_wrappers.remove(_tenant_variable)
    try:
        yield
    finally:
        connection.execute_wrappers.append(_tenant_variable)


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

    def context_with_ten_queries() -> None:
        with tenant_context(tenant):
            for _ in range(TEN):
                _select_one()

    def atomic_with_ten_queries() -> None:
        with transaction.atomic():
            for _ in range(TEN):
                _select_one()

    def scope_autocommit_query() -> None:
        with tenant_scope(tenant):
            _select_one()

    def bare_autocommit_query() -> None:
        _select_one()

    return [
        compare(
            "tenant_context enter/exit, empty block",
            subject=Side("with tenant_context(t): pass", empty_context),
            baseline=Side("with transaction.atomic(): pass", empty_atomic),
            iterations=ctx.iterations,
            note="An empty atomic() sends nothing to the server (psycopg opens the transaction "
            "lazily); since the variable is set lazily too, neither does an empty context (it "
            "paid two set_config calls and BEGIN/COMMIT before docs/adr/0005: ratio 17.4).",
        ),
        compare(
            "tenant_context enter/exit around one query",
            subject=Side("with tenant_context(t): SELECT 1", context_with_query),
            baseline=Side("with transaction.atomic(): SELECT 1", atomic_with_query),
            iterations=ctx.iterations,
            note="What a request or task pays: the block runs a query either way. The "
            "variable is set once, right before the transaction's first statement.",
        ),
        compare(
            "ten queries in one tenant transaction",
            subject=Side("tenant_context: 10 x SELECT 1", context_with_ten_queries),
            baseline=Side(
                "atomic(), no wrapper: 10 x SELECT 1", atomic_with_ten_queries, _without_wrapper
            ),
            iterations=ctx.iterations,
            note="The execute wrapper's per-statement check (a context variable and "
            "psycopg's transaction status) on top of one set_config per transaction.",
        ),
        compare(
            "a statement in a tenant's scope outside any transaction",
            subject=Side("tenant_scope: SELECT 1 (autocommit)", scope_autocommit_query),
            baseline=Side(
                "no scope, no wrapper: SELECT 1 (autocommit)",
                bare_autocommit_query,
                _without_wrapper,
            ),
            iterations=ctx.iterations,
            note="A task's statement outside atomic() gets a short transaction of its own "
            "(BEGIN, set_config, the statement, COMMIT): wrap a task's many reads in atomic().",
        ),
    ]
