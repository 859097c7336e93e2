"""/healthz: database, Redis, broker, a worker and beat, each reported on its own."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from tenancy.tasks import HEARTBEAT_KEY, heartbeat


@pytest.fixture
def beat_seconds_ago():
    def at(seconds: float | None) -> None:
        if seconds is None:
            cache.delete(HEARTBEAT_KEY)
        else:
            when = timezone.now() - dt.timedelta(seconds=seconds)
            cache.set(HEARTBEAT_KEY, when.isoformat(), timeout=300)

    yield at
    cache.delete(HEARTBEAT_KEY)


def test_healthz_reports_database_redis_worker_and_beat(live_db, celery_worker, client):
    heartbeat()  # what a worker does every 30 s when beat sends it
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {
        "database": True,
        "redis": True,
        "broker": True,
        "worker": True,
        "beat": True,
    }
    assert body["beat_age_seconds"] <= 5


def test_a_stale_heartbeat_says_beat_is_down(live_db, celery_worker, client, beat_seconds_ago):
    beat_seconds_ago(10 * 60)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["checks"] == {
        "database": True,
        "redis": True,
        "broker": True,
        "worker": True,
        "beat": False,
    }
    assert body["beat_age_seconds"] >= 600


def test_no_heartbeat_at_all_says_beat_is_down(db, client, beat_seconds_ago, settings):
    beat_seconds_ago(None)
    body = client.get("/healthz").json()
    assert body["checks"]["beat"] is False and body["beat_age_seconds"] is None


def test_the_threshold_is_a_setting(db, client, beat_seconds_ago, settings):
    beat_seconds_ago(60)
    assert client.get("/healthz").json()["checks"]["beat"] is True
    settings.HEALTH_BEAT_MAX_AGE_SECONDS = 30
    assert client.get("/healthz").json()["checks"]["beat"] is False


def test_healthz_without_a_worker_is_degraded(db, client, beat_seconds_ago):
    beat_seconds_ago(5)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["database"] is True and body["checks"]["redis"] is True
    assert body["checks"]["broker"] is True and body["checks"]["beat"] is True
    assert body["checks"]["worker"] is False
