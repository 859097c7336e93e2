"""Row-level security on tenant-owned tables, created by migrations.

Every migration that creates a tenant-owned model adds
``EnableRowLevelSecurity("modelname")`` after the ``CreateModel``. The
``tenancy.E001`` system check fails when a tenant-owned table lacks it.
"""

from __future__ import annotations

from django.db import migrations

POLICY = "tenant_isolation"

# NULLIF: an unset or empty variable compares as NULL, so no row matches (fail closed).
TENANT_EXPR = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"


def enable_sql(table: str, extra_condition: str | None = None) -> list[str]:
    condition = f"tenant_id = {TENANT_EXPR}"
    using = f"({condition}) OR ({extra_condition})" if extra_condition else condition
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS {POLICY} ON "{table}"',
        f'CREATE POLICY {POLICY} ON "{table}" USING ({using}) WITH CHECK ({condition})',
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
