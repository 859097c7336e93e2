"""docker-compose.yml wires the production stack the way the settings expect it.

No Docker engine runs here, so the file is parsed and checked against the settings' source.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")
# Where the application reads its environment.
SETTINGS_SOURCES = [
    *sorted((BASE_DIR / "config" / "settings").glob("*.py")),
    BASE_DIR / "config" / "database_config.py",
    BASE_DIR / "config" / "embedded.py",
    BASE_DIR / "config" / "celery.py",
]
# Compose interpolation: ${NAME}, ${NAME:-default}, ${NAME:?error message}.
INTERPOLATION = re.compile(r"\$\{[^}]*\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def init_sql() -> str:
    return (BASE_DIR / "deploy" / "postgres-init.sh").read_text()


def _env(compose: dict, service: str) -> dict:
    return compose["services"][service]["environment"]


def _url(value: str):
    return urlsplit(INTERPOLATION.sub("secret", value))


def _read_by_settings(name: str, source: str) -> bool:
    if f'"{name}"' in source:
        return True
    if name.endswith("_FILE") and f'secret("{name.removesuffix("_FILE")}"' in source:
        return True
    # prod.py hands every ANYMAIL_* variable to django-anymail.
    return name.startswith("ANYMAIL_") and 'startswith("ANYMAIL_")' in source


def test_the_stack_has_its_services(compose):
    assert {"postgres", "redis", *APP_SERVICES} <= set(compose["services"])
    assert compose["services"]["postgres"]["image"] == "postgres:18"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_get_databases_redis_and_secret(compose, service):
    env = _env(compose, service)
    for name in ("DATABASE_URL", "MIGRATION_DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        assert env.get(name), f"{service} lacks {name}"
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_runtime_role_is_not_the_owner(compose, service, init_sql):
    env = _env(compose, service)
    runtime, owner = _url(env["DATABASE_URL"]), _url(env["MIGRATION_DATABASE_URL"])
    assert runtime.username and owner.username
    assert runtime.username != owner.username
    assert runtime.path == owner.path
    # The runtime role goes through PgBouncer, which pools connections to the owner's server.
    assert runtime.hostname in (owner.hostname, "pgbouncer")
    # Both roles are the ones the init script creates by default, and the owner owns the
    # database (tests/deploy/test_init_script.py runs it).
    defaults = dict(re.findall(r"\$\{(KUNDREG_[A-Z_]+):-([^}]+)\}", init_sql))
    assert runtime.username == defaults["KUNDREG_APP_ROLE"]
    assert owner.username == defaults["KUNDREG_OWNER_ROLE"]
    assert owner.path.lstrip("/") == defaults["KUNDREG_DB_NAME"]
    assert "CREATE DATABASE %I OWNER %I" in init_sql


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_variable_set_for_the_app_is_read_by_the_settings(compose, service):
    source = "\n".join(path.read_text() for path in SETTINGS_SOURCES)
    unread = [name for name in _env(compose, service) if not _read_by_settings(name, source)]
    assert unread == []


def test_web_migrates_as_owner_and_checks_before_serving(compose):
    command = compose["services"]["web"]["command"]
    script = command if isinstance(command, str) else " ".join(command)
    if script.endswith("deploy/start-web.sh"):  # the image's default command
        script = (BASE_DIR / "deploy" / "start-web.sh").read_text()
        assert "set -eu" in script  # a failed step stops the start
        script = script.replace("\n", " && ")
    migrate = script.index("manage.py migrate")
    check = script.index("manage.py check --database default --deploy")
    serve = script.index("gunicorn config.wsgi")
    assert migrate < check < serve
    assert "&&" in script[migrate:serve]  # a failed step stops the start


@pytest.mark.parametrize(
    ("service", "expected"),
    [("worker", "celery -A config worker"), ("beat", "celery -A config beat")],
)
def test_celery_services(compose, service, expected):
    command = compose["services"][service]["command"]
    assert " ".join(command).startswith(expected)


def test_init_script_creates_a_runtime_role_that_cannot_bypass_row_security(init_sql):
    statement = re.search(r"CREATE ROLE %I\b[^']*'", init_sql)
    assert statement is not None
    options = statement.group(0).rstrip("'").split()
    assert "NOSUPERUSER" in options and "NOBYPASSRLS" in options
    assert "SUPERUSER" not in options and "BYPASSRLS" not in options


def test_postgres_runs_the_init_script(compose):
    volumes = compose["services"]["postgres"]["volumes"]
    assert any(
        v.startswith("./deploy/postgres-init.sh:/docker-entrypoint-initdb.d/") for v in volumes
    )
