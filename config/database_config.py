"""Where the database and Redis are: environment first, the embedded servers otherwise.

Two database aliases (see docs/operations.md, "Database"):

- ``default``: the runtime role. Not superuser, not owner, not BYPASSRLS, so
  PostgreSQL's row security applies to every query the application makes.
- ``owner``: the role that owns the tables and runs migrations.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote, urlsplit, urlunsplit

from config import embedded

RUNTIME_ROLE = embedded.APP_ROLE


def derived_runtime_password(owner_url: str) -> str:
    """Password of the runtime role when it is created from the owner's URL."""
    return hashlib.sha256(f"kundreg-runtime:{owner_url}".encode()).hexdigest()[:32]


def _with_user(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(user)}:{quote(password)}@{host}"))


def database_urls(env) -> tuple[str, str, bool]:
    """(runtime URL, owner URL, whether the runtime role is derived from the owner)."""
    runtime = env.str("DATABASE_URL", default="")
    owner = env.str("MIGRATION_DATABASE_URL", default="")
    if runtime and owner:
        return runtime, owner, False
    if runtime:
        password = env.str("RUNTIME_DATABASE_PASSWORD", default=derived_runtime_password(runtime))
        return _with_user(runtime, RUNTIME_ROLE, password), runtime, True
    owner, runtime = embedded.postgres_urls()
    return runtime, owner, False


def _config(url: str, common: dict) -> dict:
    import environ

    cfg = environ.Env.db_url_config(url) | common
    cfg["ENGINE"] = "django.db.backends.postgresql"
    options = cfg.setdefault("OPTIONS", {})
    # Unix-socket URLs carry host and port as query parameters.
    if not cfg.get("HOST") and "host" in options:
        cfg["HOST"] = options.pop("host")
        cfg["PORT"] = str(options.pop("port", ""))
    return cfg


def databases(env) -> dict:
    runtime, owner, derived = database_urls(env)
    common = {"CONN_MAX_AGE": env.int("CONN_MAX_AGE", default=0), "CONN_HEALTH_CHECKS": True}
    default = _config(runtime, common)
    # Behind PgBouncer in transaction mode (docker-compose.yml, docs/adr/0013): a cursor held
    # past its transaction or a prepared statement would outlive the borrowed server connection.
    if env.bool("DATABASE_TRANSACTION_POOLING", default=False):
        default["DISABLE_SERVER_SIDE_CURSORS"] = True
        default["OPTIONS"]["prepare_threshold"] = None
    owner_cfg = _config(owner, common)
    owner_cfg["RUNTIME_ROLE_DERIVED"] = derived
    owner_cfg["RUNTIME_ROLE"] = default["USER"]
    owner_cfg["RUNTIME_PASSWORD"] = default.get("PASSWORD", "")
    return {"default": default, "owner": owner_cfg}


def redis_url(env) -> str:
    return env.str("REDIS_URL", default="") or embedded.redis_url()


def celery_redis_url(url: str) -> str:
    """Celery/kombu spell a Unix-socket Redis as redis+socket://."""
    if url.startswith("unix://"):
        path, _, query = url[len("unix://") :].partition("?")
        query = query.replace("db=", "virtual_host=")
        return f"redis+socket://{path}" + (f"?{query}" if query else "")
    return url
