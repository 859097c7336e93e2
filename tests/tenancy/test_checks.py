"""The system checks that guard isolation fail when it is broken."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connections, models, transaction
from psycopg import sql

from tenancy.checks import (
    PLATFORM_TABLES,
    check_row_level_security,
    check_runtime_role,
    check_tenant_foreign_keys,
    check_unique_constraints_include_tenant,
)
from tenancy.models import TenantOwnedModel
from tenancy.rls import add_tenant_fk_sql, enable_sql
from tests.db import superuser


@pytest.mark.django_db(databases=["default", "owner"])
def test_checks_pass_on_the_migrated_database():
    assert check_row_level_security(databases=["default"]) == []
    assert check_runtime_role(databases=["default"]) == []
    assert check_tenant_foreign_keys(databases=["default"]) == []
    assert check_unique_constraints_include_tenant() == []


def test_every_platform_table_exists_and_says_why(live_db):
    owner = connections["owner"]
    with owner.cursor() as cursor:
        tables = set(owner.introspection.table_names(cursor))
    for table, reason in PLATFORM_TABLES.items():
        assert table in tables, f"{table} is allow-listed but does not exist"
        assert len(reason) > 30


def test_table_without_forced_rls_fails_the_check(live_db):
    owner = connections["owner"]
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        cursor.execute("ALTER TABLE tenancy_numberseries NO FORCE ROW LEVEL SECURITY")
    try:
        errors = check_row_level_security(databases=["default"])
    finally:
        with transaction.atomic(using="owner"), owner.cursor() as cursor:
            cursor.execute("ALTER TABLE tenancy_numberseries FORCE ROW LEVEL SECURITY")
    assert [e.id for e in errors] == ["tenancy.E001"]
    assert "tenancy_numberseries" in errors[0].msg


@pytest.mark.django_db(databases=["default", "owner"])
def test_owner_as_runtime_role_fails_the_check():
    # Point the check at the owner's connection: it owns the tables.
    from tenancy import checks

    original = checks.RUNTIME_ALIAS
    checks.RUNTIME_ALIAS = "owner"
    try:
        errors = check_runtime_role(databases=["owner"])
    finally:
        checks.RUNTIME_ALIAS = original
    assert [e.id for e in errors] == ["tenancy.E002"]
    assert "owns" in errors[0].msg


def test_unique_constraint_without_tenant_fails_the_check(db):
    class Leaky(TenantOwnedModel):
        code = models.CharField(max_length=10, unique=True)

        class Meta:
            app_label = "tenancy"

    from django.apps import apps

    try:
        errors = check_unique_constraints_include_tenant()
    finally:
        del apps.all_models["tenancy"]["leaky"]
        apps.clear_cache()
    assert any(e.id == "tenancy.E003" and "Leaky.code" in e.msg for e in errors)


# --- Tables made by hand: the checks look at the schema, not at the models ----------


@contextmanager
def _owner_table(name: str, columns: str, *statements: str):
    """A table created (and committed) by the owner, dropped afterwards."""
    owner = connections["owner"]
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {name} ({columns})")
        for statement in statements:
            cursor.execute(statement)
    try:
        yield name
    finally:
        with transaction.atomic(using="owner"), owner.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


def _owner_execute(statement: str) -> None:
    with transaction.atomic(using="owner"), connections["owner"].cursor() as cursor:
        cursor.execute(statement)


def _e001_for(table: str) -> list[str]:
    errors = check_row_level_security(databases=["default"])
    return [e.msg for e in errors if e.id == "tenancy.E001" and e.obj == table]


def test_a_table_made_by_raw_sql_with_tenant_id_and_no_policy_fails_e001(live_db):
    with _owner_table("probe_raw", "id bigserial PRIMARY KEY, tenant_id bigint NOT NULL"):
        (msg,) = _e001_for("probe_raw")
    assert "lacks forced row-level security" in msg and "no tenant_isolation policy" in msg


def test_a_table_linking_to_tenant_rows_without_tenant_id_fails_e001(live_db):
    # What Django auto-creates for a many-to-many field without a through model.
    columns = "id bigserial PRIMARY KEY, customer_id bigint REFERENCES customers_customer (id)"
    with _owner_table("probe_links", columns):
        (msg,) = _e001_for("probe_links")
    assert "no tenant_id column" in msg and "customers_customer" in msg


def test_a_policy_with_the_right_name_and_a_wrong_definition_fails_e001(live_db):
    columns = "id bigserial PRIMARY KEY, tenant_id bigint NOT NULL"
    with _owner_table("probe_policy", columns, *enable_sql("probe_policy")):
        assert _e001_for("probe_policy") == []  # exactly what tenancy.rls creates
        _owner_execute("ALTER POLICY tenant_isolation ON probe_policy USING (true)")
        (msg,) = _e001_for("probe_policy")
        assert "USING (true)" in msg
        _owner_execute(
            "ALTER POLICY tenant_isolation ON probe_policy USING "
            "(tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint) "
            "WITH CHECK (tenant_id IS NOT NULL)"
        )
        (msg,) = _e001_for("probe_policy")
        assert "WITH CHECK ((tenant_id IS NOT NULL))" in msg


def test_a_second_policy_that_widens_the_first_fails_e001(live_db):
    columns = "id bigserial PRIMARY KEY, tenant_id bigint NOT NULL"
    with _owner_table(
        "probe_widened",
        columns,
        *enable_sql("probe_widened"),
        "CREATE POLICY everyone ON probe_widened USING (true)",
    ):
        (msg,) = _e001_for("probe_widened")
    assert "other policies (everyone)" in msg


def test_a_private_table_the_runtime_role_can_read_fails_e001(live_db):
    columns = "id bigserial PRIMARY KEY, tenant_id bigint NOT NULL"
    role = settings.DATABASES["owner"]["RUNTIME_ROLE"]
    with _owner_table("probe_private", columns):
        assert _e001_for("probe_private") == []  # no privileges: out of reach
        _owner_execute(f'GRANT SELECT ON probe_private TO "{role}"')
        (msg,) = _e001_for("probe_private")
    assert "privileges on this private table" in msg


def test_a_foreign_key_between_tenant_tables_without_its_twin_fails_e004(live_db):
    columns = (
        "id bigserial PRIMARY KEY, tenant_id bigint NOT NULL, "
        "customer_id bigint REFERENCES customers_customer (id)"
    )
    with _owner_table("probe_fk", columns, *enable_sql("probe_fk")):
        errors = check_tenant_foreign_keys(databases=["default"])
        assert [(e.id, e.obj) for e in errors] == [("tenancy.E004", "probe_fk")]
        assert "probe_fk.customer_id → customers_customer" in errors[0].msg
        _owner_execute(add_tenant_fk_sql("probe_fk", "customer_id", "customers_customer"))
        assert check_tenant_foreign_keys(databases=["default"]) == []
        assert _e001_for("probe_fk") == []


# --- E002: membership of privileged roles ---------------------------------------------


@contextmanager
def _runtime_alias_as(role: str):
    """The checks' runtime connection, logged in as ``role`` to the test database."""
    from tenancy import checks

    alias = f"as_{role}"
    connections.settings[alias] = {
        **connections["default"].settings_dict,
        "USER": role,
        "PASSWORD": "",
    }
    original = checks.RUNTIME_ALIAS
    checks.RUNTIME_ALIAS = alias
    try:
        yield alias
    finally:
        checks.RUNTIME_ALIAS = original
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@pytest.mark.parametrize(
    "power, expected",
    [
        ("BYPASSRLS", "has BYPASSRLS"),
        ("SUPERUSER", "is a superuser"),
        ("OWNER", "owns"),
    ],
)
def test_a_runtime_role_in_a_privileged_role_fails_e002(live_db, power, expected):
    suffix = uuid.uuid4().hex[:8]
    app, middle, powerful = (f"kundreg_t_{suffix}_{n}" for n in ("app", "mid", "pow"))
    owner_role = settings.DATABASES["owner"]["USER"]
    ident = sql.Identifier
    with superuser() as su:
        if power == "OWNER":
            powerful = owner_role
        else:
            su.execute(sql.SQL(f"CREATE ROLE {{}} NOLOGIN {power}").format(ident(powerful)))
        # Transitively: app -> middle -> the powerful role.
        su.execute(
            sql.SQL("CREATE ROLE {} NOLOGIN IN ROLE {}").format(ident(middle), ident(powerful))
        )
        su.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE {}").format(
                ident(app), ident(middle)
            )
        )
        try:
            with _runtime_alias_as(app):
                errors = check_runtime_role(databases=["default"])
        finally:
            for role in (app, middle, powerful):
                if role != owner_role:
                    su.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(ident(role)))
    assert [e.id for e in errors] == ["tenancy.E002"]
    assert f"is a member of role {powerful}, which {expected}" in errors[0].msg


def test_a_runtime_role_in_a_harmless_role_passes_e002(live_db):
    suffix = uuid.uuid4().hex[:8]
    app, plain = f"kundreg_t_{suffix}_app", f"kundreg_t_{suffix}_plain"
    ident = sql.Identifier
    with superuser() as su:
        su.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(ident(plain)))
        su.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(ident(app), ident(plain)))
        try:
            with _runtime_alias_as(app):
                errors = check_runtime_role(databases=["default"])
        finally:
            for role in (app, plain):
                su.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(ident(role)))
    assert errors == []
