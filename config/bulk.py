"""One UPDATE for many rows with different values: ``UPDATE … FROM unnest(arrays)``.

Django's ``bulk_update`` writes a ``CASE WHEN id = … THEN …`` per field and row, which it
takes longer to build than PostgreSQL takes to run; the anonymization chunks and the
free-text scan set thousands of rows at a time. The rows stay under row security: the
statement runs as the runtime role in the tenant's scope like any other.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]) -> int:
    """Set ``fields`` of each row: ``rows`` holds ``(pk, value, …)`` in ``fields``' order."""
    if not rows:
        return 0
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    pk_type = meta.pk.db_type(connection).replace("bigserial", "bigint").replace("serial", "int")
    arrays = ", ".join(
        ["%s::" + pk_type + "[]"] + ["%s::" + f.db_type(connection) + "[]" for f in columns]
    )
    quote = connection.ops.quote_name
    names = ", ".join(["pk", *(f"v{i}" for i in range(len(columns)))])
    sets = ", ".join(f"{quote(f.column)} = v.v{i}" for i, f in enumerate(columns))
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    sql = (
        f"UPDATE {table} t SET {sets} FROM unnest({arrays}) AS v({names}) "  # noqa: S608 - model's names
        f"WHERE t.{pk} = v.pk"
    )
    values = [[row[0] for row in rows]]
    for i, f in enumerate(columns):
        values.append([f.get_db_prep_value(row[i + 1], connection) for row in rows])
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.rowcount
