"""System checks that keep tenant isolation honest.

- E001 (database): a table holding tenant rows without forced row security and exactly
  the tenant policy that ``tenancy.rls`` creates. It looks at the schema, not at the
  models: every table with a ``tenant_id`` column or a foreign key to a table with one
  (an auto-created many-to-many table, a table made by raw SQL) is covered, except the
  platform tables in ``PLATFORM_TABLES`` and the ``*_private`` tables that the runtime
  role cannot reach at all.
- E002 (database): the runtime role is a superuser, has BYPASSRLS or owns tables, or is
  a member (directly or through other roles) of a role that is, has or does.
- E003: a unique constraint on a tenant-owned model that does not include the tenant.
- E004 (database): a foreign key between two tables with ``tenant_id`` that has no
  composite twin ``(tenant_id, col) → (tenant_id, id)`` (``tenancy.rls.AddTenantForeignKey``).

Run the database checks with ``manage.py check --database default``; ``make run``
does so before it starts anything, and ``migrate`` does so too.
"""

from __future__ import annotations

from django.apps import apps
from django.core import checks
from django.db import DatabaseError, connections, transaction

from .rls import POLICY, EnableRowLevelSecurity, create_policy_sql

RUNTIME_ALIAS = "default"
OWNER_ALIAS = "owner"

# Tables with tenant rows that are deliberately outside row security, and why. Every
# other table with a tenant_id (or a foreign key to a table with one) must carry the
# tenant policy; a new entry here is a design decision, not a way to silence E001.
PLATFORM_TABLES = {
    "tenancy_membership": (
        "a user's tenants are listed before any tenant is active, like the user table"
    ),
    "notifications_providerroute": (
        "a provider's webhook knows only its message id and must find the tenant before "
        "it may read the message; ids only, read through notifications.selectors alone"
    ),
    "consent_replyroute": (
        "an inbound SMS reply must find its tenant before any tenant row may be read; "
        "keyed number hashes, codes and ids only, read through consent.replies alone"
    ),
}

# Reached only through SECURITY DEFINER functions; tenancy.db_setup revokes every
# privilege of the runtime role on them, and E001 checks that it did.
PRIVATE_SUFFIX = "_private"

_TABLES_SQL = """
WITH t AS (
    SELECT c.oid, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity,
           EXISTS (SELECT 1 FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                     AND NOT a.attisdropped) AS has_tenant
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'm')
)
SELECT t.relname, t.relkind, t.relrowsecurity, t.relforcerowsecurity, t.has_tenant,
       has_table_privilege(t.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES'),
       (SELECT min(r.relname) FROM pg_constraint k JOIN t r ON r.oid = k.confrelid
        WHERE k.conrelid = t.oid AND k.contype = 'f' AND r.has_tenant)
FROM t
"""

_POLICIES_SQL = """
SELECT tablename, policyname, permissive, roles::text[], cmd, qual, with_check
FROM pg_policies WHERE schemaname = current_schema()
"""

# A single-column foreign key between two tables with tenant_id, lacking the composite
# twin (tenant_id, col) -> (tenant_id, refcol). Partitions inherit their parent's keys.
_MISSING_TWINS_SQL = """
WITH t AS (
    SELECT c.oid, c.relname, a.attnum AS tenant_attnum
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
)
SELECT src.relname, col.attname, dst.relname, k.conname
FROM pg_constraint k
JOIN t src ON src.oid = k.conrelid
JOIN t dst ON dst.oid = k.confrelid
JOIN pg_attribute col ON col.attrelid = k.conrelid AND col.attnum = k.conkey[1]
WHERE k.contype = 'f' AND k.conparentid = 0 AND cardinality(k.conkey) = 1
  AND k.conkey[1] <> src.tenant_attnum
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint twin
      WHERE twin.contype = 'f' AND twin.conrelid = k.conrelid AND twin.confrelid = k.confrelid
        AND twin.conkey = ARRAY[src.tenant_attnum, k.conkey[1]]::int2[]
        AND twin.confkey = ARRAY[dst.tenant_attnum, k.confkey[1]]::int2[]
  )
ORDER BY 1, 2
"""

_MEMBERSHIP_SQL = """
SELECT r.rolname, r.rolsuper, r.rolbypassrls,
       (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relowner = r.oid)
FROM pg_roles r
WHERE r.rolname <> current_user AND pg_has_role(current_user, r.oid, 'MEMBER')
ORDER BY r.rolname
"""


def tenant_owned_models():
    from .models import TenantOwnedModel

    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantOwnedModel) and not model._meta.proxy
    ]


def _migration_loader():
    """The owner's migration loader, or None while migrations are pending."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[OWNER_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return None
    return executor.loader


def _database_operations(operations):
    for operation in operations:
        yield operation
        yield from _database_operations(getattr(operation, "database_operations", ()))


def declared_read_conditions(loader) -> dict[str, str | None]:
    """Table → the extra read condition its ``EnableRowLevelSecurity`` declares, in the
    order the migrations apply (a later operation on the same table wins)."""
    declared: dict[str, str | None] = {}
    seen = set()
    for leaf in sorted(loader.graph.leaf_nodes()):
        for key in loader.graph.forwards_plan(leaf):
            if key in seen:
                continue
            seen.add(key)
            migration = loader.graph.nodes[key]
            for operation in _database_operations(migration.operations):
                if not isinstance(operation, EnableRowLevelSecurity):
                    continue
                try:
                    model = apps.get_model(migration.app_label, operation.model_name)
                except LookupError:
                    continue
                declared[model._meta.db_table] = operation.extra_read_condition
    return declared


def expected_policies(tables: dict[str, str | None]) -> dict[str, tuple[str, str]]:
    """Table → (USING, WITH CHECK) as PostgreSQL shows what ``tenancy.rls`` would create.

    PostgreSQL stores a policy's expressions parsed and shows them re-printed (casts
    spelled out, parentheses added), so the expected policy is created on a temporary
    copy of the table, read back the same way, and rolled back: the comparison is
    between two of PostgreSQL's own renderings, not between two spellings.
    """
    expected: dict[str, tuple[str, str]] = {}
    owner = connections[OWNER_ALIAS]
    with transaction.atomic(using=OWNER_ALIAS), owner.cursor() as cursor:
        probes = [("kundreg_policy_probe", None, "(tenant_id bigint)")]
        probes += [
            (f"kundreg_policy_probe_{i}", table, f'(LIKE "{table}")')
            for i, (table, extra) in enumerate(sorted(tables.items()))
            if extra
        ]
        rendered = {}
        for probe, table, columns in probes:
            cursor.execute(f"CREATE TEMP TABLE {probe} {columns}")
            cursor.execute(create_policy_sql(probe, tables.get(table) if table else None))
            cursor.execute(
                "SELECT qual, with_check FROM pg_policies "
                "WHERE schemaname = pg_my_temp_schema()::regnamespace::text AND tablename = %s",
                [probe],
            )
            rendered[table] = cursor.fetchone()
        transaction.set_rollback(True, using=OWNER_ALIAS)
    for table in tables:
        expected[table] = rendered.get(table) or rendered[None]
    return expected


def _e001(table: str, problem: str, hint: str | None = None) -> checks.Error:
    return checks.Error(
        f"Table {table} holds tenant rows but {problem}.",
        hint=hint or "Add tenancy.rls.EnableRowLevelSecurity to the model's migration.",
        obj=table,
        id="tenancy.E001",
    )


def _policy_problems(table: str, policies: list[tuple], expected: tuple[str, str]) -> list[str]:
    others = sorted(p[0] for p in policies if p[0] != POLICY)
    ours = [p for p in policies if p[0] == POLICY]
    problems = []
    if not ours:
        problems.append(f"has no {POLICY} policy")
    for _name, permissive, roles, cmd, qual, with_check in ours:
        if permissive != "PERMISSIVE" or cmd != "ALL" or list(roles) != ["public"]:
            problems.append(
                f"its {POLICY} policy is {permissive} FOR {cmd} TO {', '.join(roles)} "
                "instead of PERMISSIVE FOR ALL TO PUBLIC"
            )
        if (qual, with_check) != expected:
            problems.append(
                f"its {POLICY} policy reads USING ({qual}) WITH CHECK ({with_check}) "
                f"instead of USING ({expected[0]}) WITH CHECK ({expected[1]})"
            )
    if others:
        problems.append(f"has other policies ({', '.join(others)}) that widen or change it")
    return problems


@checks.register(checks.Tags.database)
def check_row_level_security(app_configs=None, databases=None, **kwargs):
    if not databases:
        return []
    try:
        loader = _migration_loader()
        if loader is None:
            return []  # the check runs again once the schema is up to date
        with connections[RUNTIME_ALIAS].cursor() as cursor:
            cursor.execute(_TABLES_SQL)
            tables = cursor.fetchall()
            cursor.execute(_POLICIES_SQL)
            policies: dict[str, list[tuple]] = {}
            for table, *policy in cursor.fetchall():
                policies.setdefault(table, []).append(tuple(policy))
        declared = declared_read_conditions(loader)
        covered = [
            row
            for row in tables
            if (row[4] or row[6])
            and row[0] not in PLATFORM_TABLES
            and not row[0].endswith(PRIVATE_SUFFIX)
        ]
        expected = expected_policies({row[0]: declared.get(row[0]) for row in covered})
    except DatabaseError as exc:
        return [checks.Error(f"Cannot inspect row security: {exc}", id="tenancy.E000")]
    errors = []
    for table, kind, enabled, forced, has_tenant, reachable, referenced in sorted(tables):
        if not (has_tenant or referenced) or table in PLATFORM_TABLES:
            continue
        if table.endswith(PRIVATE_SUFFIX):
            if reachable:
                errors.append(
                    _e001(
                        table,
                        "the runtime role has privileges on this private table",
                        hint="tenancy.db_setup revokes *_private tables; run migrate.",
                    )
                )
            continue
        if not has_tenant:
            errors.append(
                _e001(
                    table,
                    f"has no tenant_id column (it references {referenced})",
                    hint="Give a many-to-many field a tenant-owned through model.",
                )
            )
            continue
        if kind == "m":
            errors.append(_e001(table, "is a materialized view, which row security skips"))
            continue
        problems = [] if enabled and forced else ["lacks forced row-level security"]
        problems += _policy_problems(table, policies.get(table, []), expected[table])
        if problems:
            errors.append(_e001(table, "; ".join(problems)))
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
            cursor.execute(_MEMBERSHIP_SQL)
            memberships = cursor.fetchall()
    except DatabaseError as exc:
        return [checks.Error(f"Cannot connect as the runtime role: {exc}", id="tenancy.E000")]
    problems = []
    if superuser:
        problems.append("is a superuser")
    if bypass:
        problems.append("has BYPASSRLS")
    if owned:
        problems.append(f"owns {owned} table(s)")
    # A member may SET ROLE to (or inherit the ownership of) any role it belongs to.
    for role, role_superuser, role_bypass, role_owned in memberships:
        powers = [
            text
            for present, text in (
                (role_superuser, "is a superuser"),
                (role_bypass, "has BYPASSRLS"),
                (role_owned, f"owns {role_owned} table(s)"),
            )
            if present
        ]
        if powers:
            problems.append(f"is a member of role {role}, which {' and '.join(powers)}")
    if not problems:
        return []
    return [
        checks.Error(
            f"The runtime database role {'; '.join(problems)}; row security would not apply.",
            hint="Point DATABASE_URL at a non-owner role that belongs to no privileged role; "
            "migrations use MIGRATION_DATABASE_URL.",
            id="tenancy.E002",
        )
    ]


@checks.register(checks.Tags.database)
def check_tenant_foreign_keys(app_configs=None, databases=None, **kwargs):
    if not databases:
        return []
    try:
        if _migration_loader() is None:
            return []
        with connections[RUNTIME_ALIAS].cursor() as cursor:
            cursor.execute(_MISSING_TWINS_SQL)
            missing = cursor.fetchall()
    except DatabaseError as exc:
        return [checks.Error(f"Cannot inspect foreign keys: {exc}", id="tenancy.E000")]
    return [
        checks.Error(
            f"Foreign key {table}.{column} → {target} ({name}) does not include tenant_id, "
            "so a row may point at another tenant's row.",
            hint=f"Add tenancy.rls.AddTenantForeignKey for it (and AddTenantKey on {target}).",
            obj=table,
            id="tenancy.E004",
        )
        for table, column, target, name in missing
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


# Opt-in only (manage.py check --tag citus): what Citus needs, docs/adr/0013.
from . import checks_citus  # noqa: E402, F401
