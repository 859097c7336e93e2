"""Tenant isolation through a real PgBouncer in transaction mode (docs/adr/0013-scale-out.md).

docker-compose.yml puts PgBouncer (transaction pooling) between the app and PostgreSQL: a
server connection serves one transaction of one client, then the next client's. That is safe
only because the tenant variable is transaction-local (tenancy/context.py). These tests start
Debian's ``pgbouncer`` on a free port in front of the embedded PostgreSQL, with one server
connection per database and role, so every client's transactions share one backend:

- raw SQL: transactions of tenant A and B interleaved on that one backend never see each
  other's rows, and a statement outside a transaction sees no tenant at all;
- the product's own code: ``tenant_context`` and ORM queries on a Django alias through it
  (server-side cursors off, no prepared statements: what DATABASE_TRANSACTION_POOLING sets);
- the isolation suite (tests/tenancy/test_isolation.py) run whole in a subprocess whose
  runtime role connects through PgBouncer.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connections

from tenancy.context import tenant_context, tenant_scope
from tenancy.models import ReferenceEntry
from tests.factories import ReferenceEntryFactory

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)
BASE_DIR = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    PGBOUNCER is None, reason="pgbouncer is not installed (apt-get install pgbouncer)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as() -> list[str]:
    """PgBouncer refuses to run as root: then run it as whoever owns the server's socket."""
    if os.geteuid() != 0:
        return []
    host = settings.DATABASES["default"].get("HOST") or ""
    owner = os.stat(host).st_uid if host.startswith("/") else pwd.getpwnam("nobody").pw_uid
    return ["-u", pwd.getpwuid(owner).pw_name]


def _start_pgbouncer(directory: Path, pool_size: int) -> tuple[subprocess.Popen, int]:
    cfg = settings.DATABASES["default"]
    port = _free_port()
    directory.chmod(0o755)
    (directory / "users.txt").write_text(f'"{cfg["USER"]}" ""\n')
    ini = directory / "pgbouncer.ini"
    # Any database name (each test run has its own) on the test's server; trust on loopback
    # only, the server side authenticates as it does for the tests themselves.
    ini.write_text(
        f"""[databases]
* = host={cfg["HOST"] or "127.0.0.1"} port={cfg["PORT"] or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 100
ignore_startup_parameters = extra_float_digits,options
"""
    )
    for path in directory.iterdir():
        path.chmod(0o644)
    log = (directory / "pgbouncer.log").open("w")
    process = subprocess.Popen(
        [PGBOUNCER, *_run_as(), str(ini)], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pgbouncer exited: {(directory / 'pgbouncer.log').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    pytest.fail("pgbouncer did not listen within 10 s")


@pytest.fixture
def pgbouncer(tmp_path, live_db):
    """Port of a PgBouncer with ONE server connection per database and role."""
    process, port = _start_pgbouncer(tmp_path, pool_size=1)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _conninfo(port: int) -> str:
    cfg = settings.DATABASES["default"]
    return psycopg.conninfo.make_conninfo(
        host="127.0.0.1", port=port, dbname=cfg["NAME"], user=cfg["USER"]
    )


@pytest.fixture
def two_tenants(live_personas):
    with tenant_context(live_personas.tenant_a):
        ReferenceEntryFactory(code="A1")
    with tenant_context(live_personas.tenant_b):
        ReferenceEntryFactory(code="B1")
    return live_personas


def _in_tenant(conn: psycopg.Connection, tenant_id: int) -> tuple[set[str], int]:
    """One transaction as the product runs it: (codes seen, the server backend's pid)."""
    with conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        codes = {r[0] for r in conn.execute("SELECT code FROM tenancy_referenceentry")}
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    return codes, pid


def test_interleaved_tenants_on_one_server_connection_never_see_each_other(pgbouncer, two_tenants):
    a, b = two_tenants.tenant_a.pk, two_tenants.tenant_b.pk
    info = _conninfo(pgbouncer)
    with (
        psycopg.connect(info, autocommit=True, prepare_threshold=None) as conn_a,
        psycopg.connect(info, autocommit=True, prepare_threshold=None) as conn_b,
    ):
        backends = set()
        for _ in range(5):
            seen_a, pid_a = _in_tenant(conn_a, a)
            seen_b, pid_b = _in_tenant(conn_b, b)
            assert seen_a == {"A1"}
            assert seen_b == {"B1"}
            backends |= {pid_a, pid_b}
            # Right after B's transaction, on the backend it just used: no tenant, no rows.
            for conn in (conn_a, conn_b):
                assert conn.execute("SELECT current_setting('app.tenant_id', true)").fetchone()[
                    0
                ] in ("", None)
                assert (
                    conn.execute("SELECT count(*) FROM tenancy_referenceentry").fetchone()[0] == 0
                )
        # pool size 1: both clients really shared one server connection all along.
        assert len(backends) == 1


@pytest.fixture
def through_pgbouncer(pgbouncer):
    """The ``default`` alias (the runtime role) pointed at PgBouncer for the test."""
    connection = connections["default"]
    connection.close()
    saved = dict(connection.settings_dict)
    saved_options = dict(saved["OPTIONS"])
    connection.settings_dict.update(
        HOST="127.0.0.1",
        PORT=str(pgbouncer),
        DISABLE_SERVER_SIDE_CURSORS=True,
        OPTIONS={**saved_options, "prepare_threshold": None},
    )
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def test_the_products_tenant_context_and_orm_work_through_pgbouncer(through_pgbouncer, two_tenants):
    for i in range(2, 5):
        with tenant_context(two_tenants.tenant_a):
            ReferenceEntryFactory(code=f"A{i}")
            assert ReferenceEntry.objects.count() == i
        with tenant_context(two_tenants.tenant_b):
            assert set(ReferenceEntry.objects.values_list("code", flat=True)) == {"B1"}
    with through_pgbouncer.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenancy_referenceentry")
        assert cursor.fetchone()[0] == 0
    # A scope with no transaction open: each statement runs in a short transaction of its
    # own (tenancy/context.py); .iterator() reads with a client-side cursor here.
    with tenant_scope(two_tenants.tenant_b):
        assert [e.code for e in ReferenceEntry.objects.iterator(chunk_size=1)] == ["B1"]
    with tenant_scope(two_tenants.tenant_a):
        assert ReferenceEntry.objects.count() == 4


def test_the_isolation_suite_passes_through_pgbouncer(tmp_path, live_db):
    """tests/tenancy/test_isolation.py, its runtime role connecting only through PgBouncer."""
    process, port = _start_pgbouncer(tmp_path, pool_size=2)
    owner = settings.DATABASES["owner"]
    runtime = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    host, owner_port = owner["HOST"], owner["PORT"] or 5432
    # A Unix socket's directory goes in the query, as the embedded server's URLs have it.
    owner_url = (
        f"postgresql://{owner['USER']}@/{owner['NAME']}?host={host}&port={owner_port}"
        if host.startswith("/")
        else f"postgresql://{owner['USER']}@{host}:{owner_port}/{owner['NAME']}"
    )
    env |= {
        "DATABASE_URL": f"postgresql://{runtime['USER']}@127.0.0.1:{port}/{runtime['NAME']}",
        "MIGRATION_DATABASE_URL": owner_url,
        "DATABASE_TRANSACTION_POOLING": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/tenancy/test_isolation.py",
                "-q",
                "-p",
                "no:cacheprovider",
                "-n",
                "0",
            ],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
    # It really went through PgBouncer: the pooler logged the suite's runtime-role logins.
    assert "login attempt" in (tmp_path / "pgbouncer.log").read_text()
