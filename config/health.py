"""/healthz: is the database, Redis and a Celery worker there?"""

from __future__ import annotations

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from config.celery import app as celery_app


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


def _worker() -> bool:
    try:
        return bool(celery_app.control.ping(timeout=1.0))
    except Exception:
        return False


@never_cache
def healthz(request):
    checks = {"database": _database(), "redis": _redis()}
    checks["worker"] = checks["redis"] and _worker()
    healthy = all(checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status=200 if healthy else 503,
    )
