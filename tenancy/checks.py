"""System checks that keep tenant isolation honest.

- E001 (database): a tenant-owned table without forced row security and the policy.
- E002 (database): the runtime role is a superuser, has BYPASSRLS or owns tables.
- E003: a unique constraint on a tenant-owned model that does not include the tenant.

Run the database checks with ``manage.py check --database default``; ``make run``
does so before it starts anything, and ``migrate`` does so too.
"""

from __future__ import annotations

from django.apps import apps
from django.core import checks
from django.db import DatabaseError, connections

from .rls import POLICY

RUNTIME_ALIAS = "default"


def tenant_owned_models():
    from .models import TenantOwnedModel

    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantOwnedModel) and not model._meta.proxy
    ]


def _pending_migrations() -> bool:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections["owner"])
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@checks.register(checks.Tags.database)
def check_row_level_security(app_configs=None, databases=None, **kwargs):
    if not databases:
        return []
    try:
        if _pending_migrations():
            return []  # the check runs again once the schema is up to date
        with connections[RUNTIME_ALIAS].cursor() as cursor:
            cursor.execute(
                """
                SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                       EXISTS (SELECT 1 FROM pg_policies p
                               WHERE p.tablename = c.relname AND p.policyname = %s)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND c.relkind = 'r'
                """,
                [POLICY],
            )
            state = {row[0]: row[1:] for row in cursor.fetchall()}
    except DatabaseError as exc:
        return [checks.Error(f"Cannot inspect row security: {exc}", id="tenancy.E000")]
    errors = []
    for model in tenant_owned_models():
        table = model._meta.db_table
        enabled, forced, has_policy = state.get(table, (False, False, False))
        if not (enabled and forced and has_policy):
            errors.append(
                checks.Error(
                    f"Tenant-owned table {table} lacks forced row-level security "
                    f"with the {POLICY} policy.",
                    hint="Add tenancy.rls.EnableRowLevelSecurity to the model's migration.",
                    obj=model,
                    id="tenancy.E001",
                )
            )
    return errors


@checks.register(checks.Tags.database)
def check_runtime_role(app_configs=None, databases=None, **kwargs):
    if not databases:
        return []
    try:
        with connections[RUNTIME_ALIAS].cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
            superuser, bypass = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM pg_tables "
                "WHERE schemaname = current_schema() AND tableowner = current_user"
            )
            (owned,) = cursor.fetchone()
    except DatabaseError as exc:
        return [checks.Error(f"Cannot connect as the runtime role: {exc}", id="tenancy.E000")]
    problems = []
    if superuser:
        problems.append("is a superuser")
    if bypass:
        problems.append("has BYPASSRLS")
    if owned:
        problems.append(f"owns {owned} table(s)")
    if not problems:
        return []
    return [
        checks.Error(
            f"The runtime database role {' and '.join(problems)}; row security would not apply.",
            hint="Point DATABASE_URL at a non-owner role; migrations use MIGRATION_DATABASE_URL.",
            id="tenancy.E002",
        )
    ]


@checks.register(checks.Tags.models)
def check_unique_constraints_include_tenant(app_configs=None, **kwargs):
    errors = []
    for model in tenant_owned_models():
        allowed = set(getattr(model, "globally_unique_fields", ()))
        for field in model._meta.local_fields:
            if field.unique and not field.primary_key and field.name not in allowed:
                errors.append(
                    checks.Error(
                        f"{model.__name__}.{field.name} is unique across tenants.",
                        hint="Use a UniqueConstraint that includes 'tenant'.",
                        obj=model,
                        id="tenancy.E003",
                    )
                )
        for constraint in model._meta.constraints:
            fields = getattr(constraint, "fields", None)
            if fields and "tenant" not in fields:
                errors.append(
                    checks.Error(
                        f"Constraint {constraint.name} on {model.__name__} lacks 'tenant'.",
                        obj=model,
                        id="tenancy.E003",
                    )
                )
        for together in model._meta.unique_together:
            if "tenant" not in together:
                errors.append(
                    checks.Error(
                        f"unique_together {together} on {model.__name__} lacks 'tenant'.",
                        obj=model,
                        id="tenancy.E003",
                    )
                )
    return errors
