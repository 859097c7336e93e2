"""Inputs that made a 500 get a clear problem+json 4xx and change nothing (issue 8, item 9)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.conf import settings
from django.test import Client

from audit.forms import AuditFilterForm
from audit.selectors import audit_events
from customers.models import Address, Customer
from tenancy.context import tenant_context
from tenancy.models import IdempotencyRecord, ReferenceEntry
from tests.factories import make_customer

ENTRIES = "/api/v1/reference-entries/"
ENTRY = {"register": "district", "code": "N", "name": "Norr"}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"].startswith(settings.SITE_URL + "/problems/")
    return body


def _fields(body: dict) -> set:
    return {error["field"] for error in body["errors"]}


def _post(api, url, raw: str, **headers):
    return api.post(url, raw, content_type="application/json", **headers)


def _nothing_written(tenant) -> None:
    with tenant_context(tenant):
        assert not ReferenceEntry.objects.exists()
        assert not IdempotencyRecord.objects.exists()
        assert not Customer.objects.exists()


# --- audit since / until --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize(
    "value",
    [
        "2026-01-01T00:00:00+24:00",  # no such offset
        "2026-01-01T00:00:00-99:00",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    ],
)
def test_audit_time_that_is_no_instant_is_a_field_error(personas, name, value):
    response = personas.api(personas.key_a).get("/api/v1/audit-events/", {name: value})
    body = _problem(response, 400)
    assert _fields(body) == {name}


@pytest.mark.parametrize("name", ["since", "until"])
def test_audit_offset_beyond_what_postgresql_takes_is_still_a_time(personas, name):
    # PostgreSQL takes offsets up to ±15:59, Python up to ±23:59: this reached the query (500).
    response = personas.api(personas.key_a).get(
        "/api/v1/audit-events/", {name: "2026-01-01T00:00:00-18:24"}
    )
    assert response.status_code == 200, response.content[:500]
    assert response.json()["results"] == []


def test_audit_filter_form_gives_utc_that_the_query_takes(personas):
    form = AuditFilterForm({"since": "2026-01-01T00:00:00-18:24", "until": "2026-01-02T00:00"})
    assert form.is_valid(), form.errors
    since = form.cleaned_data["since"]
    assert since == datetime(2026, 1, 1, 18, 24, tzinfo=UTC)
    assert since.utcoffset() == timedelta(0)
    with tenant_context(personas.tenant_a):
        assert list(audit_events(**form.filters())) == []
    form = AuditFilterForm({"since": "2026-01-01T00:00:00+24:00"})
    assert not form.is_valid() and "since" in form.errors
    aware = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=20)))
    assert AuditFilterForm({"until": aware}).is_valid()


# --- NUL bytes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, field",
    [
        ("register=a%00b", "register"),
        ("register=district&search=%00", "search"),
        ("a%00b=1", "a\\x00b"),
    ],
)
def test_nul_in_a_query_parameter_is_a_field_error(personas, query, field):
    response = personas.api(personas.key_a).get(f"{ENTRIES}?{query}")
    body = _problem(response, 400)
    assert _fields(body) == {field}
    assert body["errors"][0]["message"] == "Null characters are not allowed."


def test_nul_in_the_idempotency_key_is_a_field_error_and_changes_nothing(personas):
    api = personas.api(personas.key_a)
    response = _post(api, ENTRIES, json.dumps(ENTRY), HTTP_IDEMPOTENCY_KEY="till-1\x00")
    body = _problem(response, 400)
    assert _fields(body) == {"Idempotency-Key"}
    _nothing_written(personas.tenant_a)


@pytest.mark.parametrize(
    "raw, field",
    [
        (r'{"register": "district", "code": "N", "name": "Norr", "description": "\ud800"}',
         "description"),
        (r'{"register": "district", "code": "N", "name": "N\u0000rr"}', "name"),
        (r'{"register": "district", "code": "N", "name": "Norr", "x\u0000": 1}', "x\\x00"),
    ],
)  # fmt: skip
def test_text_postgresql_cannot_store_is_a_field_error(personas, raw, field):
    body = _problem(_post(personas.api(personas.key_a), ENTRIES, raw), 400)
    assert _fields(body) == {field}
    _nothing_written(personas.tenant_a)


def test_lone_surrogate_in_a_nested_field_names_its_path(personas):
    raw = r'{"name": "Ängby", "address": {"line1": "\udc00", "city": "Umeå"}}'
    body = _problem(_post(personas.api(personas.key_a), "/api/v1/customers/", raw), 400)
    assert _fields(body) == {"address.line1"}
    _nothing_written(personas.tenant_a)


# --- nesting and size -----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [40, 1000, 100_000])
def test_deeply_nested_json_is_400_and_changes_nothing(personas, depth):
    raw = '{"name": "Ängby", "address": ' + "[" * depth + "]" * depth + "}"
    api = personas.api(personas.key_a)
    body = _problem(_post(api, "/api/v1/customers/", raw, HTTP_IDEMPOTENCY_KEY="deep"), 400)
    assert "nested" in body["detail"]
    _nothing_written(personas.tenant_a)


def test_nesting_the_api_uses_is_fine(personas):
    body = {"name": "Ängby", "address": {"line1": "Storgatan 1", "city": "Umeå"}}
    response = _post(personas.api(personas.key_a), "/api/v1/customers/", json.dumps(body))
    assert response.status_code == 201, response.content[:500]


def test_body_over_the_upload_limit_is_413_and_changes_nothing(personas, settings):
    api = personas.api(personas.key_a)
    raw = json.dumps({"name": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    body = _problem(_post(api, "/api/v1/customers/", raw), 413)
    assert body["type"].endswith("/too_large")
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Ängby")
    raw = json.dumps({"line1": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    _problem(_post(api, f"/api/v1/customers/{customer.pk}/addresses/", raw), 413)
    with tenant_context(personas.tenant_a):
        assert not Address.objects.exists()
        assert list(Customer.objects.all()) == [customer]


def test_too_many_query_parameters_is_400(personas, settings):
    query = "&".join(["status=all"] * (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = personas.api(personas.key_a).get(f"/api/v1/customers/?{query}")
    _problem(response, 400)


# --- unknown API paths ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_unknown_api_path_is_a_json_404_even_without_csrf(personas, method):
    signed_in = personas.client(personas.alice)
    signed_in.handler.enforce_csrf_checks = True
    for client in (Client(enforce_csrf_checks=True), signed_in, personas.api(personas.key_a)):
        if method == "get":
            response = client.get("/api/v1/no-such-thing/")
        else:
            response = getattr(client, method)("/api/v1/no-such-thing/", "{}", "application/json")
        body = _problem(response, 404)
        assert body["type"].endswith("/not_found")


def test_nul_in_a_cookie_is_a_field_error_on_the_api(personas):
    client = personas.api(personas.key_a)
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"  # sent quoted, as "\000"
    body = _problem(client.get("/api/v1/me/"), 400)
    assert _fields(body) == {"sessionid"}


@pytest.mark.parametrize("url", ["/accounts/login/", "/"])
def test_nul_in_the_session_cookie_of_a_page_is_no_session(personas, url):
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"  # sent quoted, as "\000"
    response = client.get(url)
    assert response.status_code in (200, 302), response.status_code
    signed_in = personas.client(personas.alice)
    session_key = signed_in.cookies["sessionid"].value
    signed_in.cookies["sessionid"] = session_key + "\x00"
    assert signed_in.get(url).status_code in (200, 302)
