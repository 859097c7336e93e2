"""/livez and /readyz for an orchestrator, and `manage.py worker_health` for the worker's
own container (docker-compose.yml's healthchecks; docs/operations.md, "Health")."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

PROBE_HOST = "172.18.0.5:8000"  # a container's address: not in ALLOWED_HOSTS


@pytest.fixture
def production_like(settings):
    settings.ALLOWED_HOSTS = ["kundreg.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^(livez|readyz|healthz)$"]


@pytest.fixture
def no_database(monkeypatch):
    """Any attempt to reach the database fails (and is counted)."""
    attempts = []

    def refuse(self):
        attempts.append(self.alias)
        raise DatabaseError("the database is down")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    return attempts


def test_livez_answers_a_foreign_host_over_http_without_the_database(
    client, production_like, no_database
):
    started = time.monotonic()
    response = client.get("/livez", HTTP_HOST=PROBE_HOST)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert no_database == []
    assert time.monotonic() - started < 0.5  # no ping, no wait
    assert "no-cache" in response["Cache-Control"]
    assert client.head("/livez", HTTP_HOST=PROBE_HOST).status_code == 200


def test_only_the_probes_skip_the_host_check(client, production_like):
    assert client.get("/accounts/login/", HTTP_HOST=PROBE_HOST).status_code == 400
    assert client.get("/livez/", HTTP_HOST=PROBE_HOST).status_code == 400
    assert client.post("/livez", HTTP_HOST=PROBE_HOST).status_code == 400
    # The real host over plain HTTP is still redirected; the probes are exempt.
    assert client.get("/accounts/login/", HTTP_HOST="kundreg.example.com").status_code == 301


def test_readyz_reports_database_and_redis(db, client, production_like):
    response = client.get("/readyz", HTTP_HOST=PROBE_HOST)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": True, "redis": True, "broker": True},
    }


def test_readyz_without_the_database_is_503(client, production_like, no_database):
    response = client.get("/readyz", HTTP_HOST=PROBE_HOST)
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": False, "redis": True, "broker": True}
    # Liveness stays 200: a database outage must not get the web containers restarted.
    assert client.get("/livez", HTTP_HOST=PROBE_HOST).status_code == 200


def test_worker_health_with_a_worker_exits_0(celery_worker):
    out = StringIO()
    call_command("worker_health", "--node", celery_worker.hostname, "--timeout", "20", stdout=out)
    assert out.getvalue().strip() == f"{celery_worker.hostname}: pong"


def test_worker_health_without_a_worker_exits_1(db):
    err = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("worker_health", "--timeout", "0.5", stderr=err)
    assert exited.value.code == 1
    assert "no answer within 0.5 s" in err.getvalue()


def test_worker_health_asks_only_its_own_node(celery_worker):
    with pytest.raises(SystemExit) as exited:
        call_command(
            "worker_health", "--node", "celery@another-host", "--timeout", "0.5", stderr=StringIO()
        )
    assert exited.value.code == 1
