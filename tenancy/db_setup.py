"""What the owner role does to the database around migrations.

Before: extensions, and the runtime role when it is derived from the owner's URL.
After: the runtime role's privileges — full DML on ordinary tables, only
SELECT and INSERT on append-only ones (the audit log), none at all on tables
named ``*_private`` (reached only through SECURITY DEFINER functions, e.g.
customers' search index), nothing on the schema.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import connections
from psycopg import sql

EXTENSIONS = ("pg_trgm", "unaccent")


def _runtime_role() -> str:
    return settings.DATABASES["owner"]["RUNTIME_ROLE"]


def prepare(using: str = "owner") -> None:
    cfg = settings.DATABASES[using]
    with connections[using].cursor() as cursor:
        for name in EXTENSIONS:
            cursor.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(name))
            )
        if cfg.get("RUNTIME_ROLE_DERIVED"):
            role = cfg["RUNTIME_ROLE"]
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                cursor.execute(
                    sql.SQL(
                        "CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE "
                        "PASSWORD {}"
                    ).format(sql.Identifier(role), sql.Literal(cfg["RUNTIME_PASSWORD"]))
                )


def grant_runtime_privileges(using: str = "owner") -> None:
    role = sql.Identifier(_runtime_role())
    with connections[using].cursor() as cursor:
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        cursor.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(role))
        cursor.execute(
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role)
        )
        introspection = connections[using].introspection
        existing = set(introspection.table_names(cursor))
        # Partitions too (table_names() leaves them out): GRANT ... ON ALL TABLES reaches
        # them, and a partition of a private table is read without its parent's privileges.
        tables = {t.name for t in introspection.get_table_list(cursor) if t.type in ("t", "p")}
        for table in sorted(t for t in tables if t.endswith("_private")):
            cursor.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(sql.Identifier(table), role))
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            if table not in existing or model._meta.proxy or not model._meta.managed:
                continue
            ident = sql.Identifier(table)
            if getattr(model, "append_only", False):
                cursor.execute(sql.SQL("GRANT INSERT ON {} TO {}").format(ident, role))
                cursor.execute(
                    sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(ident, role)
                )
            else:
                cursor.execute(
                    sql.SQL("GRANT INSERT, UPDATE, DELETE ON {} TO {}").format(ident, role)
                )
