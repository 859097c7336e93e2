"""deploy/backup.sh and deploy/restore.sh against the test server (issue 15 item 3).

The backup role comes from deploy/postgres-init.sh (KUNDREG_BACKUP_ROLE, names unique to
the test: roles are cluster-wide and the server may be shared). It dumps the test database
with committed tenant data; the dump is restored as the owner role into a new database, which
must then hold the same rows, row-security flags, policies, triggers and grants, and pass
`verify_audit_log` (a subprocess whose DATABASE_URL / MIGRATION_DATABASE_URL name it) against
the checkpoint taken before the backup.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from psycopg import sql

from audit.actors import Actor
from customers.services.contacts import contact_create
from tenancy.context import tenant_context
from tests.anonymization.test_eligibility import customer
from tests.db import superuser
from tests.deploy.dockerfile import BASE_DIR
from tests.deploy.test_init_script import Names, _psql_dir, _server

BACKUP = BASE_DIR / "deploy" / "backup.sh"
RESTORE = BASE_DIR / "deploy" / "restore.sh"
SYSTEM = Actor.system("tests")
BACKUP_PASSWORD = "backup-pw"


@pytest.fixture
def backup_role():
    """An installation of the init script's with a backup role; its name, dropped after."""
    with superuser() as conn:  # skips on an external server: no superuser to clean up with
        tag = uuid.uuid4().hex[:8]
        names = Names(f"kr-{tag}-db", f"Kr-{tag}-owner", f"Kr-{tag}-app", f"kr-{tag}-admin")
        backup = f"Kr-{tag}-backup"
        try:
            yield names, backup
        finally:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(names.db))
            )
            test_db = settings.DATABASES["default"]["NAME"]
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [backup]).fetchone():
                conn.execute(
                    sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(
                        sql.Identifier(test_db), sql.Identifier(backup)
                    )
                )
            for role in (backup, names.app, names.owner):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _init_with_backup(names: Names, backup: str, *, as_user="postgres", password=BACKUP_PASSWORD):
    extra = {"KUNDREG_BACKUP_ROLE": backup, "KUNDREG_BACKUP_PASSWORD": password}
    return _init_env(names, as_user=as_user, extra=extra)


def _init_env(names: Names, *, as_user: str, extra: dict):
    env = {
        "PATH": f"{_psql_dir()}:/usr/bin:/bin",
        **_server(),
        "PGUSER": as_user,
        "KUNDREG_DB_NAME": names.db,
        "KUNDREG_OWNER_ROLE": names.owner,
        "KUNDREG_APP_ROLE": names.app,
        "KUNDREG_OWNER_PASSWORD": "owner-pw",
        "KUNDREG_APP_PASSWORD": "app-pw",
        **extra,
    }
    script = BASE_DIR / "deploy" / "postgres-init.sh"
    return subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=60)


def _role(conn, name: str) -> dict:
    row = conn.execute(
        "SELECT rolsuper, rolbypassrls, rolcanlogin, rolcreatedb, rolcreaterole, rolreplication,"
        "       pg_has_role(oid, 'pg_read_all_data', 'MEMBER'),"
        "       pg_has_role(oid, 'pg_write_all_data', 'MEMBER'),"
        "       (SELECT setconfig FROM pg_db_role_setting"
        "         WHERE setrole = r.oid AND setdatabase = 0)"
        "  FROM pg_roles r WHERE rolname = %s",
        [name],
    ).fetchone()
    assert row, f"no role {name}"
    keys = ("super", "bypassrls", "login", "createdb", "createrole", "replication", "read", "write")
    return {**dict(zip(keys, row[:-1], strict=True)), "settings": row[-1]}


def _scripts_env(user: str, password: str | None, dbname: str) -> dict:
    env = {
        "PATH": f"{_psql_dir()}:/usr/bin:/bin",
        **_server(),
        "PGUSER": user,
        "PGDATABASE": dbname,
    }
    if password:
        env["PGPASSWORD"] = password
    return env


def _run(script: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(script), *args], env=env, capture_output=True, text=True, timeout=120
    )


# --- The backup role -------------------------------------------------------------------


def test_the_init_script_makes_a_read_only_backup_role_and_can_run_again(backup_role):
    names, backup = backup_role
    for _time in range(2):
        result = _init_with_backup(names, backup)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
    with superuser() as conn:
        role = _role(conn, backup)
        assert role["login"] and role["bypassrls"] and role["read"]
        assert not (role["super"] or role["createdb"] or role["createrole"])
        assert not (role["replication"] or role["write"])
        assert role["settings"] == ["default_transaction_read_only=on"]
        assert conn.execute(
            "SELECT has_database_privilege(%s, %s, 'CONNECT'),"
            "       has_database_privilege(%s, %s, 'CREATE'),"
            "       pg_has_role(%s, %s, 'MEMBER'), pg_has_role(%s, %s, 'MEMBER')",
            [backup, names.db, backup, names.db, backup, names.owner, backup, names.app],
        ).fetchone() == (True, False, False, False)


def test_without_a_backup_password_there_is_no_backup_role(backup_role):
    names, backup = backup_role
    result = _init_env(names, as_user="postgres", extra={"KUNDREG_BACKUP_ROLE": backup})
    assert result.returncode == 0, result.stderr
    with superuser() as conn:
        assert not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [backup]).fetchone()


def test_the_backup_role_cannot_be_the_owner(backup_role):
    names, _backup = backup_role
    result = _init_with_backup(names, names.owner)
    assert result.returncode != 0
    assert "must not be the owner or the runtime role" in result.stderr


# --- Backup and restore ------------------------------------------------------------------


def _tables(conn) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
        )
    ]


def _snapshot(dbname: str) -> dict:
    """What a restore must bring back, read as the superuser (row security does not apply)."""
    with superuser(dbname) as conn:
        tables = _tables(conn)
        counts = {
            t: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))
            ).fetchone()[0]
            for t in tables
        }
        return {
            "counts": counts,
            "row_security": conn.execute(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity"
                "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
            ).fetchall(),
            "policies": conn.execute(
                "SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check"
                "  FROM pg_policies WHERE schemaname = 'public' ORDER BY 1, 2"
            ).fetchall(),
            "triggers": conn.execute(
                "SELECT c.relname, t.tgname, t.tgenabled, pg_get_triggerdef(t.oid)"
                "  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                "  JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1, 2"
            ).fetchall(),
            "grants": conn.execute(
                # No ACL means the owner's default privileges: the same as those spelled out.
                "SELECT c.relname, pg_get_userbyid(c.relowner),"
                "       coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's'"
                "                                     ELSE 'r' END::\"char\", c.relowner))::text"
                "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v') ORDER BY 1"
            ).fetchall(),
            "functions": conn.execute(
                "SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner),"
                "       coalesce(p.proacl, acldefault('f'::\"char\", p.proowner))::text,"
                "       p.prosecdef"
                "  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname = 'public'"
                "   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid"
                "                   AND d.deptype = 'e')"
                " ORDER BY 1"
            ).fetchall(),
            "extensions": conn.execute("SELECT extname FROM pg_extension ORDER BY 1").fetchall(),
        }


def _url(dbname: str, alias: str) -> str:
    cfg = settings.DATABASES[alias]
    auth = quote(cfg["USER"], safe="")
    if cfg.get("PASSWORD"):
        auth += ":" + quote(cfg["PASSWORD"], safe="")
    query = []
    if cfg.get("HOST"):
        query.append(f"host={quote(str(cfg['HOST']), safe='/')}")
    if cfg.get("PORT"):
        query.append(f"port={cfg['PORT']}")
    return f"postgresql://{auth}@/{dbname}" + (f"?{'&'.join(query)}" if query else "")


@pytest.fixture
def restore_target():
    """A new, empty database owned by the test's owner role, as the init script leaves it."""
    name = f"{settings.DATABASES['default']['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    owner = settings.DATABASES["owner"]["USER"]
    app = settings.DATABASES["default"]["USER"]
    with superuser() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(name), sql.Identifier(owner)
            )
        )
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(name), sql.Identifier(app)
            )
        )
    try:
        yield name
    finally:
        with superuser() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def checkpoint_run():
    """A run id whose test settings' AUDIT_CHECKPOINT_DIR is the test's own, for the
    subprocess too (config/settings/test.py derives it from the xdist variables)."""
    run = uuid.uuid4().hex[:8]
    worker = "backup"
    path = Path(tempfile.gettempdir()) / f"kundreg-test-audit-{run}-{worker}"
    yield run, worker, path
    shutil.rmtree(path, ignore_errors=True)


def _tenant_data(p) -> None:
    for tenant, names in ((p.tenant_a, ("Agneta AB", "Bertil AB")), (p.tenant_b, ("Bjørn AS",))):
        with tenant_context(tenant):
            for name in names:
                c = customer(name, email=f"{uuid.uuid4().hex[:6]}@example.test")
                contact_create(customer=c, actor=SYSTEM, first_name="Kim", last_name="Lind")


def test_backup_and_restore_into_a_new_database(
    live_personas, backup_role, restore_target, checkpoint_run, settings, tmp_path
):
    names, backup = backup_role
    made = _init_with_backup(names, backup)
    assert made.returncode == 0, made.stderr
    test_db = settings.DATABASES["default"]["NAME"]
    with superuser() as conn:  # the test database is not the init script's: let it in
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(test_db), sql.Identifier(backup)
            )
        )
    _tenant_data(live_personas)
    run, worker, checkpoints = checkpoint_run
    settings.AUDIT_CHECKPOINT_DIR = checkpoints
    call_command("audit_checkpoint", stdout=StringIO())

    # The owner role cannot take the backup: row security is forced on it too.
    owner = settings.DATABASES["owner"]
    refused = _run(
        BACKUP,
        _scripts_env(owner["USER"], owner.get("PASSWORD"), test_db),
        str(tmp_path / "owner.dump"),
    )
    assert refused.returncode == 1
    assert "cannot bypass row security" in refused.stderr
    assert not (tmp_path / "owner.dump").exists()

    dump = tmp_path / "kundreg.dump"
    taken = _run(BACKUP, _scripts_env(backup, BACKUP_PASSWORD, test_db), str(dump))
    assert taken.returncode == 0, taken.stderr
    assert dump.read_bytes()[:5] == b"PGDMP"  # custom format
    assert not Path(f"{dump}.partial").exists()

    restore_env = _scripts_env(owner["USER"], owner.get("PASSWORD"), restore_target)
    restored = _run(RESTORE, restore_env, str(dump))
    assert restored.returncode == 0, restored.stderr
    assert "replay_erasures" in restored.stderr

    before, after = _snapshot(test_db), _snapshot(restore_target)
    assert before["counts"]["audit_auditevent"] > 0
    assert before["counts"]["customers_customer"] == 3
    assert after["counts"] == before["counts"]
    assert any(force for _t, _on, force in before["row_security"])
    assert before["policies"] and before["triggers"]
    for key in ("row_security", "policies", "triggers", "grants", "functions", "extensions"):
        assert after[key] == before[key], key
    app = settings.DATABASES["default"]["USER"]
    assert any(app in (acl or "") for _t, _o, acl in after["grants"])

    # The restored audit log is intact, up to the checkpoint taken before the backup.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _url(restore_target, "default"),
        "MIGRATION_DATABASE_URL": _url(restore_target, "owner"),
        "PYTEST_XDIST_TESTRUNUID": run,
        "PYTEST_XDIST_WORKER": worker,
    }
    verified = subprocess.run(
        [sys.executable, "manage.py", "verify_audit_log"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "chain intact" in verified.stdout
    assert "checkpoint of" in verified.stdout
    assert "No checkpoint file" not in verified.stderr

    # A second restore into the now full database is refused before touching it.
    again = _run(RESTORE, restore_env, str(dump))
    assert again.returncode == 1 and "is not empty" in again.stderr
    assert _snapshot(restore_target)["counts"] == before["counts"]
