"""Row-level security and tenant-bound foreign keys on tenant-owned tables, made by migrations.

Every migration that creates a tenant-owned model adds
``EnableRowLevelSecurity("modelname")`` after the ``CreateModel``; the
``tenancy.E001`` system check fails when a table with a ``tenant_id`` (or a
foreign key to such a table) lacks it, or when its policy says anything else.

A foreign key between two tenant-owned tables also gets a composite twin that
includes the tenant, ``FOREIGN KEY (tenant_id, customer_id) REFERENCES
customers_customer (tenant_id, id)``, so the database itself refuses a row that
points at another tenant's row (Django 5.2 cannot declare composite foreign
keys). The referenced table needs ``UNIQUE (tenant_id, id)`` first:
``AddTenantKey("customer")`` in the referenced model's app, then
``AddTenantForeignKey("address", "customer")``. ``tenancy.E004`` fails when a
twin is missing.
"""

from __future__ import annotations

import hashlib

from django.db import migrations

POLICY = "tenant_isolation"

# NULLIF: an unset or empty variable compares as NULL, so no row matches (fail closed).
TENANT_EXPR = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"
TENANT_CONDITION = f"tenant_id = {TENANT_EXPR}"

# PostgreSQL truncates identifiers to 63 bytes.
_MAX_NAME = 63


def policy_expressions(extra_condition: str | None = None) -> tuple[str, str]:
    """(USING, WITH CHECK) of the tenant policy: the single source of both."""
    using = f"({TENANT_CONDITION}) OR ({extra_condition})" if extra_condition else TENANT_CONDITION
    return using, TENANT_CONDITION


def create_policy_sql(table: str, extra_condition: str | None = None) -> str:
    using, check = policy_expressions(extra_condition)
    return f'CREATE POLICY {POLICY} ON "{table}" USING ({using}) WITH CHECK ({check})'


def enable_sql(table: str, extra_condition: str | None = None) -> list[str]:
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS {POLICY} ON "{table}"',
        create_policy_sql(table, extra_condition),
    ]


def disable_sql(table: str) -> list[str]:
    return [
        f'DROP POLICY IF EXISTS {POLICY} ON "{table}"',
        f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY',
    ]


class EnableRowLevelSecurity(migrations.operations.base.Operation):
    """Enable and force RLS on a model's table with the tenant policy.

    ``extra_read_condition`` widens only what may be *read* (never written),
    e.g. an API key row readable by whoever already holds its prefix.
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, extra_read_condition: str | None = None):
        self.model_name = model_name
        self.extra_read_condition = extra_read_condition

    def state_forwards(self, app_label, state):
        pass

    def _table(self, app_label, state) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for sql in enable_sql(self._table(app_label, to_state), self.extra_read_condition):
            schema_editor.execute(sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for sql in disable_sql(self._table(app_label, from_state)):
            schema_editor.execute(sql)

    def describe(self) -> str:
        return f"Enable row-level security on {self.model_name}"

    def deconstruct(self):
        kwargs = {"model_name": self.model_name}
        if self.extra_read_condition:
            kwargs["extra_read_condition"] = self.extra_read_condition
        return self.__class__.__name__, [], kwargs


# --- Foreign keys that include the tenant -------------------------------------------


def _name(*parts: str, suffix: str) -> str:
    name = "_".join((*parts, suffix))
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_NAME - len(suffix) - 10]}_{digest}_{suffix}"


def tenant_key_name(table: str) -> str:
    return _name(table, suffix="tenant_key")


def tenant_fk_name(table: str, column: str) -> str:
    return _name(table, column, suffix="tenant_fk")


def add_tenant_key_sql(table: str, column: str = "id") -> str:
    """``UNIQUE (tenant_id, id)``: what a tenant-bound foreign key refers to."""
    return (
        f'ALTER TABLE "{table}" ADD CONSTRAINT "{tenant_key_name(table)}" '
        f'UNIQUE (tenant_id, "{column}")'
    )


def drop_tenant_key_sql(table: str) -> str:
    return f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{tenant_key_name(table)}"'


def add_tenant_fk_sql(
    table: str,
    column: str,
    ref_table: str,
    ref_column: str = "id",
    *,
    on_delete: str = "NO ACTION",
    deferred: bool = True,
) -> str:
    """The composite twin of ``table.column → ref_table.ref_column``.

    Django's own foreign keys are ``DEFERRABLE INITIALLY DEFERRED`` with the delete
    rule in Python; the twin behaves the same by default. A row whose ``column`` is
    NULL is not checked (MATCH SIMPLE), so ``on_delete=SET_NULL`` keeps working.

    PostgreSQL checks the existing rows as the owner, and under *forced* row security
    the owner sees no tenant's rows (the check would pass or fail for the wrong
    reason): forcing is lifted for the one statement, inside the migration's
    transaction, and put back.
    """
    timing = " DEFERRABLE INITIALLY DEFERRED" if deferred else ""
    add = (
        f'ALTER TABLE "{table}" ADD CONSTRAINT "{tenant_fk_name(table, column)}" '
        f'FOREIGN KEY (tenant_id, "{column}") REFERENCES "{ref_table}" (tenant_id, "{ref_column}") '
        f"ON DELETE {on_delete}{timing}"
    )
    tables = f"ARRAY['\"{table}\"'::regclass, '\"{ref_table}\"'::regclass]"
    # Identifiers from migrations, never from input.
    return f"""DO $tenant_fk$
DECLARE
    forced regclass[];
    t regclass;
BEGIN
    SELECT coalesce(array_agg(oid::regclass), '{{}}') INTO forced
        FROM pg_class WHERE oid = ANY ({tables}) AND relforcerowsecurity;
    FOREACH t IN ARRAY forced LOOP
        EXECUTE 'ALTER TABLE ' || t::text || ' NO FORCE ROW LEVEL SECURITY';
    END LOOP;
    {add};
    FOREACH t IN ARRAY forced LOOP
        EXECUTE 'ALTER TABLE ' || t::text || ' FORCE ROW LEVEL SECURITY';
    END LOOP;
END $tenant_fk$"""  # noqa: S608


def drop_tenant_fk_sql(table: str, column: str) -> str:
    return f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{tenant_fk_name(table, column)}"'


class AddTenantKey(migrations.operations.base.Operation):
    """``UNIQUE (tenant_id, id)`` on a tenant-owned model's table, so that foreign keys
    from other tenant-owned tables can include the tenant."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str):
        self.model_name = model_name

    def state_forwards(self, app_label, state):
        pass

    def _target(self, app_label, state) -> tuple[str, str]:
        model = state.apps.get_model(app_label, self.model_name)
        return model._meta.db_table, model._meta.pk.column

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(add_tenant_key_sql(*self._target(app_label, to_state)), None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(drop_tenant_key_sql(self._target(app_label, from_state)[0]), None)

    def describe(self) -> str:
        return f"Add UNIQUE (tenant_id, id) to {self.model_name}"

    def deconstruct(self):
        return self.__class__.__name__, [], {"model_name": self.model_name}


class AddTenantForeignKey(migrations.operations.base.Operation):
    """The composite twin ``(tenant_id, <field>_id) → (tenant_id, id)`` of a foreign key
    between two tenant-owned models (the target needs ``AddTenantKey`` first)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, field_name: str):
        self.model_name = model_name
        self.field_name = field_name

    def state_forwards(self, app_label, state):
        pass

    def _parts(self, app_label, state) -> tuple[str, str, str, str]:
        model = state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.field_name)
        target = field.related_model._meta
        return model._meta.db_table, field.column, target.db_table, field.target_field.column

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(add_tenant_fk_sql(*self._parts(app_label, to_state)), None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        table, column, _ref, _ref_column = self._parts(app_label, from_state)
        schema_editor.execute(drop_tenant_fk_sql(table, column), None)

    def describe(self) -> str:
        return f"Bind {self.model_name}.{self.field_name} to the same tenant"

    def deconstruct(self):
        return (
            self.__class__.__name__,
            [],
            {"model_name": self.model_name, "field_name": self.field_name},
        )
