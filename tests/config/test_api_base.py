"""The API's shared behaviour: problem+json, idempotency, throttling, the schema."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.core.management import call_command

from tenancy.context import tenant_context
from tenancy.models import ReferenceEntry

URL = "/api/v1/reference-entries/"
BODY = {"register": "payment_terms", "code": "30", "name": "30 dagar netto"}


def _post(api, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(URL, json.dumps(body), content_type="application/json", **headers)


def test_validation_error_is_field_level_problem_json(personas):
    response = _post(personas.api(personas.key_a), {"register": "nope", "code": ""})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and body["title"] and body["type"].startswith("https://")
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


def test_throttled_requests_get_429_with_retry_after(personas, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    rates = {"tenant": "2/min"}
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    cache.clear()
    try:
        api = personas.api(personas.key_a)
        statuses = [api.get("/api/v1/me/").status_code for _ in range(3)]
        response = api.get("/api/v1/me/")
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
        cache.clear()
    assert statuses == [200, 200, 429]
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"] == "application/problem+json"
    assert api_settings.DEFAULT_THROTTLE_CLASSES


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
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()
