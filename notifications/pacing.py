"""Global send pacing: one limiter per provider account and per tenant, shared by all workers.

Celery's ``rate_limit`` is per worker, and a counter per one-second window lets a burst of
2x the rate straddle a window boundary. Here each limit is a GCRA (generic cell rate
algorithm) with no burst allowance, kept in Redis: one key per limit holds the
*theoretical arrival time* of the next send, and a Lua script (atomic in Redis, with
Redis's own clock, so workers on other machines with skewed clocks agree) hands out slots
spaced exactly ``1 / rate`` apart. Any one-second window therefore holds at most ``rate``
sends, across every worker thread and process together.

A caller *reserves* a slot: the script answers how long to wait until the slot comes and
books it only when that wait is at most ``max_wait`` (the send thread then sleeps until
its slot). A longer wait books nothing: the task comes back later with that countdown.
Nothing is dropped; a message with no slot now simply waits.

Several limits (the tenant's own rate, the provider account's) are taken together: the
slot is the first moment every one of them allows, and it is booked in all of them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis
from django.conf import settings

_client: redis.Redis | None = None

# KEYS: one per limit. ARGV[1]: the longest wait (µs) worth booking; ARGV[1 + i]: the
# interval (µs) between two sends under KEYS[i]. Returns {booked (0/1), wait (µs), slot (µs,
# Redis's clock)}.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local max_wait = tonumber(ARGV[1])
local slot = now
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat > slot then slot = tat end
end
local wait = slot - now
if wait > max_wait then
  return {0, wait, slot}
end
for i = 1, #KEYS do
  local tat = slot + tonumber(ARGV[i + 1])
  redis.call('SET', KEYS[i], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
end
return {1, wait, slot}
"""
_script = None


def _redis() -> redis.Redis:
    # redis-py's client is thread-safe (a connection pool): one per process serves every
    # send thread of a threads-pool worker.
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def _prefix() -> str:
    return settings.CACHES["default"].get("KEY_PREFIX", "kundreg")


@dataclass(frozen=True)
class Limit:
    """At most ``rate`` sends per second under ``name`` (0 or less: no limit)."""

    name: str
    rate: float


@dataclass(frozen=True)
class Slot:
    booked: bool  # True: send after ``wait`` seconds; False: nothing booked, come back then
    wait: float
    at: float = 0.0  # the slot's time by Redis's clock (epoch seconds)


def limit_key(name: str) -> str:
    return f"{_prefix()}:notifications:pace:{name}"


def pacing_reserve(limits: Sequence[Limit], *, max_wait: float = 1.0) -> Slot:
    """Book the next send slot under every limit, or learn how long until one is free."""
    global _script
    active = [limit for limit in limits if limit.rate and limit.rate > 0]
    if not active:
        return Slot(True, 0.0, time.time())
    if _script is None:
        _script = _redis().register_script(_GCRA)
    booked, wait_us, slot_us = _script(
        keys=[limit_key(limit.name) for limit in active],
        args=[
            int(max_wait * 1_000_000),
            *(max(1, math.ceil(1_000_000 / limit.rate)) for limit in active),
        ],
    )
    return Slot(bool(booked), max(0, int(wait_us)) / 1_000_000, int(slot_us) / 1_000_000)


def tenant_limit(tenant_id: int, rate_per_second: float) -> Limit:
    """The tenant's own rate (NotificationSettings.send_rate_per_second), every channel."""
    return Limit(f"tenant:{tenant_id}", rate_per_second)


def pacing_acquire(*, tenant_id: int, rate_per_second: int) -> bool:
    """A slot under the tenant's rate now (no waiting): True when one was booked."""
    return pacing_reserve([tenant_limit(tenant_id, rate_per_second)], max_wait=0).booked
