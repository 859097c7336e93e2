"""Set-based helpers: one INSERT of many rows from one JSON parameter (``insert_rows``), one
UPDATE for many rows (``UPDATE … FROM unnest(arrays)``), and ``AnyOf`` for a filter on many
ids as one array parameter.

Django's ``bulk_update`` writes a ``CASE WHEN id = … THEN …`` per field and row, which it
takes longer to build than PostgreSQL takes to run; the anonymization chunks and the
free-text scan set thousands of rows at a time. The rows stay under row security: the
statement runs as the runtime role in the tenant's scope like any other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.db import connection, models
from django.db.models import BooleanField, F, Func, TextField, Value
from django.utils import timezone


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
    values = [array_param([row[0] for row in rows])]
    for i, f in enumerate(columns):
        values.append(array_param([f.get_db_prep_value(row[i + 1], connection) for row in rows]))
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.rowcount


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_param(values: list) -> list | str:
    """``values`` as one array literal (``'{…}'``, cast in the SQL) when they are all
    strings or all integers (None is NULL); otherwise the list itself.

    Django's cursors quote parameters on the client, and psycopg quotes a list's items one
    by one in Python: for a chunk's thousands of values that took longer than the
    statement itself."""
    if all(v is None or isinstance(v, str) for v in values):
        return "{" + ",".join("NULL" if v is None else _quoted(v) for v in values) + "}"
    if all(v is None or type(v) is int for v in values):
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    return values


class AnyOf(Func):
    """``expression = ANY('{1,2,3}'::bigint[])``: the ids travel as one parameter.

    ``field__in=ids`` writes one placeholder per id, and a Python list as an array
    parameter is converted id by id twice (Django's field, then psycopg's client-side
    quoting): for a chunk's hundreds of ids either takes longer than PostgreSQL takes to
    run the statement. The ids are sent as one array literal instead. Use it as a filter:
    ``qs.filter(AnyOf("customer", ids))``, ``Q(AnyOf("pk", ids))``.
    """

    arg_joiner = " = ANY("
    template = "(%(expressions)s::bigint[]))"
    output_field = BooleanField()

    def __init__(self, expression, values: Iterable[int]):
        if isinstance(expression, str):
            expression = F(expression)
        literal = "{" + ",".join(str(int(v)) for v in values) + "}"
        super().__init__(expression, Value(literal, output_field=TextField()))


def _json_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value here")


def insert_rows(model: type[models.Model], rows: Sequence[dict]) -> list[int]:
    """INSERT ``rows`` ({field attname: value}) of ``model`` in one statement; their ids in
    order. A field a row leaves out gets its default, an ``auto_now`` one the time now.

    ``bulk_create`` prepares every field of every object in Python (about a third of a
    batch chunk's CPU); here the rows travel as one JSON parameter and PostgreSQL makes
    them the table's row type (``json_populate_recordset``). No ``pre_save``, no signals
    (``bulk_create`` sends none either); row security applies as to any INSERT.
    """
    if not rows:
        return []
    meta = model._meta
    now = timezone.now()
    given = rows[0].keys()
    defaults = {}
    for field in meta.concrete_fields:
        if field.attname in given or (field.primary_key and field.attname not in given):
            continue
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        defaults[field.attname] = now if auto else field.get_default()
    names = [*given, *defaults]
    # The JSON keys name the record's fields, the table's columns: rows come by attname,
    # which is the column for every field without a db_column of its own.
    columns = {f.attname: f.column for f in meta.concrete_fields}
    if any(columns[name] != name for name in names):
        raise ValueError(f"insert_rows: {model.__name__} has a db_column of its own")
    quote = connection.ops.quote_name
    listed = ", ".join(quote(name) for name in names)
    table = quote(meta.db_table)
    payload = json.dumps(
        [{**defaults, **row} for row in rows], default=_json_value, separators=(",", ":")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({listed}) SELECT {listed} "  # noqa: S608 - model's names
            f"FROM json_populate_recordset(NULL::{table}, %s) RETURNING {quote(meta.pk.column)}",
            [payload],
        )
        return [row[0] for row in cursor.fetchall()]
