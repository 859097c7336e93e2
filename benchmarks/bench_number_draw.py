"""Drawing the next number of a series: the service against its own SQL run directly."""

from __future__ import annotations

from django.db import connection

from benchmarks import Comparison, Context, Side, benchmark, compare
from tenancy.context import tenant_context
from tenancy.models import NumberSeries
from tenancy.services import number_draw

TABLE = NumberSeries._meta.db_table
# The statement tenancy.services.number_draw runs.
SQL = f"""
    INSERT INTO {TABLE} (tenant_id, key, next_value) VALUES (%s, %s, %s)
    ON CONFLICT (tenant_id, key) DO UPDATE SET next_value = {TABLE}.next_value + 1
    RETURNING next_value
"""  # noqa: S608 - table name from the model


@benchmark
def number_draw_call(ctx: Context) -> list[Comparison]:
    tenant = ctx.tenant

    def raw() -> int:
        with connection.cursor() as cursor:
            cursor.execute(SQL, [tenant.pk, "bench-raw", 2])
            return cursor.fetchone()[0] - 1

    def service() -> int:
        return number_draw(series="bench-service")

    def in_own_transaction(call):
        def run() -> None:
            with tenant_context(tenant):
                call()

        return run

    return [
        compare(
            "tenancy.services.number_draw, 100 calls per transaction (a bulk import)",
            subject=Side("number_draw(series=...)", service, lambda: tenant_context(tenant)),
            baseline=Side(
                "the same INSERT ... ON CONFLICT DO UPDATE ... RETURNING",
                raw,
                lambda: tenant_context(tenant),
            ),
            iterations=ctx.iterations,
            note="The service wraps its one statement in a savepoint (SAVEPOINT, statement, "
            "RELEASE: three round trips instead of one), and each savepoint's update of the "
            "same row makes the next one slower within the transaction.",
        ),
        compare(
            "tenancy.services.number_draw, one call per transaction (a request)",
            subject=Side("tenant_context + number_draw", in_own_transaction(service)),
            baseline=Side("tenant_context + the same SQL", in_own_transaction(raw)),
            iterations=ctx.iterations,
        ),
    ]
