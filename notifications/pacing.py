"""A global per-tenant send rate, shared by all workers (Celery's rate_limit is per worker)."""

from __future__ import annotations

import time

import redis
from django.conf import settings

_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def _prefix() -> str:
    return settings.CACHES["default"].get("KEY_PREFIX", "kundreg")


def pacing_acquire(*, tenant_id: int, rate_per_second: int) -> bool:
    """Take one send slot in the current one-second window; False when the window is full.

    An atomic INCR on a key per tenant and second: every worker counts in the same place.
    """
    window = int(time.time())
    key = f"{_prefix()}:notifications:rate:{tenant_id}:{window}"
    pipe = _redis().pipeline()
    pipe.incr(key)
    pipe.expire(key, 5)
    count, _ = pipe.execute()
    return count <= rate_per_second
