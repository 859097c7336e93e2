"""RateLimit-Limit / -Remaining / -Reset on every API answer (docs/api.md; issue 12, item 5).

They show the tenant's real bucket (config.api.TenantRateThrottle): a counted request
takes one, an answer given before the throttle ran (401, 403, an unknown path, a refused
body) shows the bucket uncounted, and a 429 says 0 remaining next to its Retry-After.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from audit.actors import Actor
from tenancy.context import tenant_context
from tenancy.services import api_key_create

URL = "/api/v1/me/"
LIMIT = 5
WINDOW = 60


def _forget_throttle_history() -> None:
    """Only this process's throttle keys (the cache is shared by concurrent test runs)."""
    client = cache._cache.get_client(write=True)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(f"{prefix}:*throttle*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def small_bucket():
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**original, "tenant": f"{LIMIT}/min"}
    _forget_throttle_history()
    try:
        yield
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
        _forget_throttle_history()


def limits(response) -> tuple[int, int, int]:
    return (
        int(response["RateLimit-Limit"]),
        int(response["RateLimit-Remaining"]),
        int(response["RateLimit-Reset"]),
    )


def test_every_answer_counts_down_the_tenants_bucket(personas, small_bucket):
    api = personas.api(personas.key_a)
    seen = [limits(api.get(URL)) for _ in range(3)]
    assert [limit for limit, _r, _s in seen] == [LIMIT] * 3
    assert [remaining for _l, remaining, _s in seen] == [4, 3, 2]
    assert all(0 < reset <= WINDOW for _l, _r, reset in seen)
    # Another key of the same company draws from the same bucket.
    with tenant_context(personas.tenant_a):
        _obj, second_key = api_key_create(
            name="Till 2", scopes=["customers:read"], actor=Actor.system("tests")
        )
    assert limits(personas.api(second_key).get(URL))[1] == 1


def test_a_429_says_none_remain_and_when_to_come_back(personas, small_bucket):
    api = personas.api(personas.key_a)
    for _ in range(LIMIT):
        assert api.get(URL).status_code == 200
    throttled = api.get(URL)
    assert throttled.status_code == 429
    assert throttled["Content-Type"] == "application/problem+json"
    limit, remaining, reset = limits(throttled)
    assert (limit, remaining) == (LIMIT, 0)
    retry_after = int(throttled["Retry-After"])
    assert 0 < reset <= WINDOW and abs(reset - retry_after) <= 1
    # Another company is not affected and sees its own, full bucket.
    assert limits(personas.api(personas.key_b).get(URL))[:2] == (LIMIT, LIMIT - 1)


def test_errors_carry_the_headers_too(personas, small_bucket):
    api = personas.api(personas.key_a)
    assert limits(api.get(URL))[1] == 4
    # A 400 (the throttle ran: counted).
    bad = api.get("/api/v1/customers/?nonsense=1")
    assert bad.status_code == 400 and limits(bad)[1] == 3
    # A 404 of an object (counted), and of an unknown API path: no view, so no key was
    # read; it shows the client address's bucket, uncounted.
    assert limits(api.get("/api/v1/customers/999999/"))[1] == 2
    unknown = api.get("/api/v1/no-such-thing/")
    assert unknown.status_code == 404 and limits(unknown)[:2] == (LIMIT, LIMIT)
    # A 403 (the key lacks the scope; permissions run before the throttle: uncounted).
    with tenant_context(personas.tenant_a):
        _obj, reader = api_key_create(
            name="Reader", scopes=["customers:read"], actor=Actor.system("tests")
        )
    refused = personas.api(reader).post(
        "/api/v1/customers/", json.dumps({"name": "X"}), content_type="application/json"
    )
    assert refused.status_code == 403 and limits(refused)[:2] == (LIMIT, 2)


def test_an_unauthenticated_answer_shows_the_addresss_bucket(client, db, small_bucket):
    response = client.get(URL)
    assert response.status_code == 401
    limit, remaining, _reset = limits(response)
    assert limit == LIMIT and 0 <= remaining <= LIMIT


def test_a_body_refused_before_the_view_carries_them(personas, small_bucket, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = personas.api(personas.key_a).post(
        "/api/v1/customers/", json.dumps({"name": "x" * 500}), content_type="application/json"
    )
    assert response.status_code == 413
    assert limits(response)[0] == LIMIT


def test_failed_key_429_says_none_remain(client, db, settings):
    settings.API_KEY_FAILURE_RATE = "2/min"
    _forget_throttle_history()
    try:
        for _ in range(2):
            assert client.get(URL, HTTP_AUTHORIZATION="Api-Key nope.nope").status_code == 401
        blocked = client.get(URL, HTTP_AUTHORIZATION="Api-Key nope.nope")
        assert blocked.status_code == 429
        assert limits(blocked)[:2] == (2, 0)
        assert int(blocked["RateLimit-Reset"]) == int(blocked["Retry-After"])
    finally:
        _forget_throttle_history()


def test_non_api_pages_do_not_carry_them(client, db):
    assert "RateLimit-Limit" not in client.get("/accounts/login/")


def test_the_schema_documents_them_on_every_answer(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path_item in schema["paths"].values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            for code, response in operation["responses"].items():
                assert "RateLimit-Remaining" in response.get("headers", {}), (method, code)
    retry = schema["paths"]["/api/v1/me/"]["get"]["responses"]["429"]["headers"]
    assert {"Retry-After", "RateLimit-Reset"} <= set(retry)
