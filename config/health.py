"""Health endpoints for an orchestrator and for monitoring (docs/operations.md, "Health").

- /livez: the web process answers. Nothing else is touched (no database, no Redis), so a
  database outage never gets the web containers restarted.
- /readyz: this web process can serve requests: the database and Redis (cache and broker)
  answer. 503 otherwise.
- /healthz: the whole installation, each part on its own: database, Redis, a worker answers
  a ping, beat's heartbeat is recent. 503 when any of them is down.

config.health_middleware.HealthProbeMiddleware answers all three before any other
middleware, so a probe's Host header (ALLOWED_HOSTS), plain HTTP (SECURE_SSL_REDIRECT) and
the tenant machinery never get in its way.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from config.celery import app as celery_app

# Beat sends tenancy.tasks.heartbeat every 30 s and a worker runs it; older than this, beat
# (or every worker) is taken for dead.
BEAT_MAX_AGE_SECONDS = 120


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _redis() -> bool:
    try:
        cache.set("healthz", "1", timeout=10)
        return cache.get("healthz") == "1"
    except Exception:  # any failure means "not healthy"
        return False


def _broker() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1.0)
        return True
    except Exception:
        return False


def _worker() -> bool:
    try:
        return bool(celery_app.control.ping(timeout=1.0))
    except Exception:
        return False


def beat_age() -> float | None:
    """Seconds since the last heartbeat a worker ran for beat, or None when there is none."""
    from tenancy.tasks import HEARTBEAT_KEY

    try:
        raw = cache.get(HEARTBEAT_KEY)
        if not raw:
            return None
        last = dt.datetime.fromisoformat(raw)
    except Exception:
        return None
    return max(0.0, (timezone.now() - last).total_seconds())


def _beat(age: float | None) -> bool:
    limit = getattr(settings, "HEALTH_BEAT_MAX_AGE_SECONDS", BEAT_MAX_AGE_SECONDS)
    return age is not None and age <= limit


def _answer(checks: dict, **extra) -> JsonResponse:
    healthy = all(checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks, **extra},
        status=200 if healthy else 503,
    )


@never_cache
def livez(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    checks = {"database": _database(), "redis": _redis()}
    checks["broker"] = checks["redis"] and _broker()
    return _answer(checks)


@never_cache
def healthz(request):
    checks = {"database": _database(), "redis": _redis()}
    checks["broker"] = checks["redis"] and _broker()
    checks["worker"] = checks["broker"] and _worker()
    age = beat_age() if checks["redis"] else None
    checks["beat"] = _beat(age)
    return _answer(checks, beat_age_seconds=None if age is None else round(age))
