"""The production settings pass Django's deployment checks and refuse a weak secret."""

from __future__ import annotations

import importlib
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]


def _database_url(alias: str) -> str:
    cfg = settings.DATABASES[alias]
    user = quote(cfg["USER"], safe="")
    if cfg.get("PASSWORD"):
        user += ":" + quote(cfg["PASSWORD"], safe="")
    host, port, name = cfg.get("HOST") or "", cfg.get("PORT") or "", cfg["NAME"]
    if host.startswith("/"):  # a Unix socket directory
        return f"postgresql://{user}@/{name}?host={quote(host)}&port={port}"
    return (
        f"postgresql://{user}@{host}:{port}/{name}"
        if port
        else f"postgresql://{user}@{host}/{name}"
    )


def _prod_env(**extra: str) -> dict[str, str]:
    alphabet = string.ascii_letters + string.digits + "!#%&()*+-./:;<=>?@[]^_{|}~"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    return (
        env
        | {
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(60)),
            "AUDIT_CHAIN_KEY": secrets.token_hex(32),
            "ALLOWED_HOSTS": "kundreg.example",
            "SITE_URL": "https://kundreg.example",
            "DEFAULT_FROM_EMAIL": "Kundreg <no-reply@kundreg.example.com>",
            "DATABASE_URL": _database_url("default"),
            "MIGRATION_DATABASE_URL": _database_url("owner"),
            "REDIS_URL": settings.REDIS_URL,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": "test-token",
            "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
        }
        | extra
    )


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_prod_passes_the_deploy_checks_with_no_warnings(django_db_setup):
    """What docker-compose's web runs before serving, with warnings as failures.

    ``--database default`` adds the row-security checks (tenancy.E001/E002) against the
    migrated test database, reached as the runtime role.
    """
    result = _manage(
        "check", "--database", "default", "--deploy", "--fail-level", "WARNING", env=_prod_env()
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize("how", ["env", "file"])
def test_prod_refuses_a_short_secret_key(monkeypatch, tmp_path, how):
    short = "too-short-for-production"
    if how == "file":
        (tmp_path / "secret").write_text(short + "\n")
        monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "secret"))
    else:
        monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
        monkeypatch.setenv("SECRET_KEY", short)
    monkeypatch.setenv("ALLOWED_HOSTS", "kundreg.example")
    monkeypatch.delitem(sys.modules, "config.settings.prod", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        importlib.import_module("config.settings.prod")


def test_prod_refuses_to_start_without_twilio_settings():
    env = _prod_env(TWILIO_ACCOUNT_SID="")
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "TWILIO_ACCOUNT_SID" in result.stderr


def test_prod_may_choose_another_sms_backend():
    env = _prod_env(TWILIO_ACCOUNT_SID="", SMS_BACKEND="notifications.backends.file.FileBackend")
    assert _manage("check", env=env).returncode == 0
