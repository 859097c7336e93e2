"""The API's shared behaviour: problem+json, idempotency, throttling, the schema."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from tenancy.context import tenant_context
from tenancy.models import ReferenceEntry
from tests.factories import ApiKeyFactory

URL = "/api/v1/reference-entries/"
ME = "/api/v1/me/"
BODY = {"register": "payment_terms", "code": "30", "name": "30 dagar netto"}


def _post(api, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(URL, json.dumps(body), content_type="application/json", **headers)


def test_validation_error_is_field_level_problem_json(personas):
    response = _post(personas.api(personas.key_a), {"register": "nope", "code": ""})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and body["title"]
    assert body["type"].startswith(settings.SITE_URL + "/problems/")
    fields = {e["field"] for e in body["errors"]}
    assert {"register", "code", "name"} <= fields
    assert all(e["message"] for e in body["errors"])


def test_duplicate_code_is_a_field_error_and_changes_nothing(personas):
    api = personas.api(personas.key_a)
    assert _post(api, BODY).status_code == 201
    response = _post(api, {**BODY, "name": "other"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "code", "message": "This code is already used in this register."}
    ]
    with tenant_context(personas.tenant_a):
        assert ReferenceEntry.objects.get(code="30").name == "30 dagar netto"


@pytest.mark.parametrize("raw", ["{", "[]", '"x"', "null", '{"register": ["a"]}'])
def test_malformed_json_is_400_not_500(personas, raw):
    response = personas.api(personas.key_a).post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_idempotency_key_replays_the_first_answer(personas):
    api = personas.api(personas.key_a)
    first = _post(api, BODY, key="till-7-req-1")
    again = _post(api, BODY, key="till-7-req-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    with tenant_context(personas.tenant_a):
        assert ReferenceEntry.objects.filter(code="30").count() == 1


def test_idempotency_key_with_another_body_is_409(personas):
    api = personas.api(personas.key_a)
    assert _post(api, BODY, key="k1").status_code == 201
    response = _post(api, {**BODY, "code": "60"}, key="k1")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    with tenant_context(personas.tenant_a):
        assert not ReferenceEntry.objects.filter(code="60").exists()


def test_idempotency_keys_are_per_tenant(personas):
    assert _post(personas.api(personas.key_a), BODY, key="same").status_code == 201
    response = _post(personas.api(personas.key_b), {**BODY, "name": "30 dager"}, key="same")
    assert response.status_code == 201
    assert response.json()["name"] == "30 dager"


def test_failed_attempt_can_be_retried_with_the_same_key(personas):
    api = personas.api(personas.key_a)
    assert _post(api, {"register": "payment_terms"}, key="retry").status_code == 400
    assert _post(api, BODY, key="retry").status_code == 201


@pytest.fixture
def tenant_rate(monkeypatch):
    """Set the per-tenant API rate (DRF reads its rates once, into the throttle class)."""
    from config.api import TenantRateThrottle

    return lambda rate: monkeypatch.setattr(TenantRateThrottle, "THROTTLE_RATES", {"tenant": rate})


_addresses = itertools.count(1)


@pytest.fixture
def address():
    """Fresh client addresses (100.64.0.0/10): the buckets outlive a test in the cache."""

    def fresh() -> str:
        n = next(_addresses)
        return f"100.{64 + (n >> 16) % 64}.{(n >> 8) & 255}.{n & 255}"

    return fresh


def test_throttled_requests_get_429_with_retry_after(personas, tenant_rate):
    from rest_framework.settings import api_settings

    from config.api import TenantRateThrottle

    tenant_rate("2/min")
    api = personas.api(personas.key_a)
    statuses = [api.get(ME).status_code for _ in range(3)]
    response = api.get(ME)
    assert statuses == [200, 200, 429]
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"] == "application/problem+json"
    assert TenantRateThrottle in api_settings.DEFAULT_THROTTLE_CLASSES


def test_a_tenants_keys_share_one_bucket_and_other_tenants_keep_theirs(personas, tenant_rate):
    with tenant_context(personas.tenant_a):
        _obj, second_key_a = ApiKeyFactory.create(name="Till A2")
    tenant_rate("4/min")
    first, second = personas.api(personas.key_a), personas.api(second_key_a)
    # Alternating keys: each used only twice, the tenant four times.
    assert [api.get(ME).status_code for api in (first, second, first, second)] == [200] * 4
    assert first.get(ME).status_code == 429
    assert second.get(ME).status_code == 429
    # A signed-in user of the same company draws from the same bucket.
    assert personas.client(personas.bob).get(ME).status_code == 429
    # Tenant B's key, and Charlie's session, are untouched by A's use.
    assert personas.api(personas.key_b).get(ME).status_code == 200
    assert personas.client(personas.charlie).get(ME).status_code == 200


def test_failed_key_attempts_are_throttled_per_client_address(personas, settings, address):
    settings.API_KEY_FAILURE_RATE = "3/d"  # a day's window: the test cannot straddle two
    with tenant_context(personas.tenant_a):
        revoked, revoked_key = ApiKeyFactory.create(name="Old till")
        revoked.revoked = True
        revoked.save(update_fields=["revoked"])
    prefix = personas.key_a.partition(".")[0]
    guesser, elsewhere = address(), address()
    attempts = [f"{prefix}.wrong-secret", "nokey123.whatever", revoked_key]

    def call(key: str, ip: str):
        return Client(HTTP_AUTHORIZATION=f"Api-Key {key}").get(ME, REMOTE_ADDR=ip)

    # Wrong secret, unknown key and revoked key all count.
    assert [call(key, guesser).status_code for key in attempts] == [401, 401, 401]
    blocked = call("nokey123.whatever", guesser)
    assert blocked.status_code == 429
    assert blocked["Content-Type"] == "application/problem+json"
    assert 0 < int(blocked["Retry-After"]) <= 86400
    assert blocked.json()["status"] == 429
    # The blocked address gets no answer on any key, not even a right one ...
    assert call(personas.key_a, guesser).status_code == 429
    # ... but the tenant's real key from its own till is not locked out,
    assert call(personas.key_a, elsewhere).status_code == 200
    # and another address's bad key is still just a 401.
    assert call("nokey123.whatever", elsewhere).status_code == 401


def test_failed_key_attempts_count_per_real_client_behind_the_proxy(personas, settings, address):
    settings.API_KEY_FAILURE_RATE = "2/d"
    settings.TRUSTED_PROXY_COUNT = 1
    proxy, guesser, other = address(), address(), address()

    def call(key: str, client: str):
        return Client(HTTP_AUTHORIZATION=f"Api-Key {key}").get(
            ME, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=client
        )

    assert [call("nokey123.x", guesser).status_code for _ in range(3)] == [401, 401, 429]
    assert call("nokey123.x", other).status_code == 401
    assert call(personas.key_a, other).status_code == 200


def test_failed_key_attempts_with_a_forged_forwarded_for_still_count(personas, settings, address):
    settings.API_KEY_FAILURE_RATE = "2/d"
    ip = address()
    codes = [
        Client(HTTP_AUTHORIZATION="Api-Key nokey123.x")
        .get(ME, REMOTE_ADDR=ip, HTTP_X_FORWARDED_FOR=address())
        .status_code
        for _ in range(3)
    ]
    assert codes == [401, 401, 429]


def test_other_tenants_entry_is_404(personas):
    with tenant_context(personas.tenant_a):
        entry = ReferenceEntry.objects.create(register="district", code="N", name="Norr")
    api_b = personas.api(personas.key_b)
    assert api_b.get(f"{URL}{entry.pk}/").status_code == 404
    response = api_b.patch(
        f"{URL}{entry.pk}/", json.dumps({"name": "x"}), content_type="application/json"
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert entry.pk not in [e["id"] for e in api_b.get(URL).json()["results"]]


def test_schema_validates(db, tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/me/" in text and "/api/v1/reference-entries/" in text


def test_schema_and_docs_are_served_without_a_cdn(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/").content.decode()
    # Every asset from the app itself: no absolute URL to another host (a random nonce in
    # the page may well contain the letters "cdn", so look at the URLs, not the letters).
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", docs, re.I)
    assert "jsdelivr" not in docs.lower() and "unpkg" not in docs.lower()
