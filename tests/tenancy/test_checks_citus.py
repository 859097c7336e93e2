"""The opt-in Citus check (manage.py check --tag citus): what stands between us and Citus."""

from __future__ import annotations

from django.core import checks
from django.core.management import call_command
from django.db import connection

from tenancy.checks_citus import citus_problems


def test_reports_every_key_without_tenant_id_when_asked(db):
    problems = citus_problems()
    found = checks.run_checks(tags=["citus"], databases=["default"])
    assert [w.id for w in found] == ["tenancy.W101"] * len(problems)
    assert all(w.level == checks.WARNING for w in found)
    # Today: every tenant-owned table's primary key is its id alone (docs/adr/0013).
    tables = {table for table, kind, _name in problems if kind == "primary key"}
    assert {"customers_customer", "consent_consentrequest"} <= tables
    assert len(problems) > 40


def test_a_key_that_includes_tenant_id_passes(db):
    """customers_customer's (tenant_id, number) unique constraint is what Citus accepts."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conname FROM pg_constraint c WHERE c.conrelid = "
            "'customers_customer'::regclass AND c.contype = 'u'"
        )
        composite = {row[0] for row in cursor.fetchall()}
    assert composite
    reported = {name for table, _kind, name in citus_problems() if table == "customers_customer"}
    assert composite.isdisjoint(reported)


def test_not_part_of_the_default_or_deploy_checks(db):
    # (No databases: the other database checks would need the owner alias; this one does not.)
    assert not [w for w in checks.run_checks() if w.id == "tenancy.W101"]
    deploy = checks.run_checks(include_deployment_checks=True)
    assert not [w for w in deploy if w.id == "tenancy.W101"]


def test_manage_py_check_tag_citus_prints_them(db, capsys):
    call_command("check", "--tag", "citus", "--database", "default")
    assert "tenancy.W101" in capsys.readouterr().err
