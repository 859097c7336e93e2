"""The system checks that guard isolation fail when it is broken."""

from __future__ import annotations

import pytest
from django.db import connections, models, transaction

from tenancy.checks import (
    check_row_level_security,
    check_runtime_role,
    check_unique_constraints_include_tenant,
)
from tenancy.models import TenantOwnedModel


@pytest.mark.django_db(databases=["default", "owner"])
def test_checks_pass_on_the_migrated_database():
    assert check_row_level_security(databases=["default"]) == []
    assert check_runtime_role(databases=["default"]) == []
    assert check_unique_constraints_include_tenant() == []


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
