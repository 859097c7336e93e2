"""What Citus needs to distribute the tenant-owned tables by ``tenant_id`` (docs/adr/0013).

Opt-in, at deploy time: ``manage.py check --tag citus``. Not part of the default checks
(nor of ``--deploy``, which start-web.sh runs with ``--fail-level`` tests): today every
table fails it, and that is a plan, not a fault (the ADR lists what the check finds).

Citus requires, for a table distributed by ``tenant_id``: its primary key and every unique
constraint include ``tenant_id``, and every foreign key to another distributed table
includes it (a reference to a non-tenant table, e.g. ``tenancy_tenant``, needs that table
to become a reference table, which Citus allows).
"""

from __future__ import annotations

import sys

from django.core import checks
from django.db import DatabaseError, connections

TAG = "citus"

# Tables with a tenant_id column (the tenant-owned ones, whatever their model), and for
# each primary key, unique constraint or index and foreign key: does it cover tenant_id?
_SQL = """
WITH tenant_tables AS (
    SELECT c.oid, c.relname, a.attnum AS tenant_att
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
)
SELECT t.relname, 'primary key' AS kind, con.conname
FROM tenant_tables t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'p'
WHERE NOT t.tenant_att = ANY (con.conkey)
UNION ALL
SELECT t.relname, 'unique index', ic.relname
FROM tenant_tables t
JOIN pg_index i ON i.indrelid = t.oid AND i.indisunique AND NOT i.indisprimary
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE NOT t.tenant_att = ANY (i.indkey::int2[])
UNION ALL
SELECT t.relname, 'foreign key', con.conname
FROM tenant_tables t
JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'f'
JOIN tenant_tables target ON target.oid = con.confrelid
WHERE NOT (t.tenant_att = ANY (con.conkey) AND target.tenant_att = ANY (con.confkey))
ORDER BY 1, 2, 3
"""


def _asked_for() -> bool:
    """Whether this run named the tag: Django passes checks no tags, so read the caller's.

    run_checks() (django/core/checks/registry.py) calls each check from the frame that
    holds ``tags``; None there means "all default checks", which this one is not part of.
    """
    frame = sys._getframe(2)
    tags = frame.f_locals.get("tags") if frame.f_code.co_name == "run_checks" else None
    return bool(tags) and TAG in tags


def citus_problems(using: str = "default") -> list[tuple[str, str, str]]:
    """(table, 'primary key' | 'unique index' | 'foreign key', name) lacking tenant_id."""
    with connections[using].cursor() as cursor:
        cursor.execute(_SQL)
        return cursor.fetchall()


@checks.register(TAG)
def check_citus_distribution(app_configs=None, databases=None, **kwargs):
    if not _asked_for():
        return []
    try:
        problems = citus_problems()
    except DatabaseError as exc:
        return [checks.Warning(f"Cannot inspect constraints: {exc}", id="tenancy.W100")]
    return [
        checks.Warning(
            f"{table}: {kind} {name} does not include tenant_id, which Citus needs to "
            "distribute the table by tenant_id.",
            hint="See docs/adr/0013-scale-out.md (composite keys before distributing).",
            obj=table,
            id="tenancy.W101",
        )
        for table, kind, name in problems
    ]
