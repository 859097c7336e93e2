"""One company exhausting its API bucket does not throttle another (issue 8, item 12).

Fails if the throttle's cache key were the same for every caller (one bucket for the
whole installation): tenant B's first request would then get tenant A's 429.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

URL = "/api/v1/me/"


def _forget_throttle_history() -> None:
    """Only this process's throttle keys (the cache is shared by concurrent test runs)."""
    client = cache._cache.get_client(write=True)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(f"{prefix}:*throttle*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def two_per_minute():
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**original, "tenant": "2/min"}
    _forget_throttle_history()
    try:
        yield
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
        _forget_throttle_history()


def test_tenant_b_is_not_throttled_by_tenant_a(personas, two_per_minute):
    api_a = personas.api(personas.key_a)
    assert [api_a.get(URL).status_code for _ in range(3)] == [200, 200, 429]

    # Tenant A's bucket is empty: B's key and B's signed-in admin still get through.
    assert personas.api(personas.key_b).get(URL).status_code == 200
    assert personas.client(personas.charlie).get(URL).status_code == 200
    # ...and A is still throttled (B's requests did not refill or reset A's bucket).
    assert api_a.get(URL).status_code == 429


def test_a_full_bucket_of_b_leaves_a_untouched(personas, two_per_minute):
    """The other way round, so neither tenant's key can be the constant one."""
    api_b = personas.api(personas.key_b)
    assert [api_b.get(URL).status_code for _ in range(3)] == [200, 200, 429]
    assert personas.api(personas.key_a).get(URL).status_code == 200
