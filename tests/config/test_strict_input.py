"""Nothing a client sends is silently ignored (docs/api.md; config/api_strict.py).

An unknown query parameter on every API route of the URL conf, unknown and read-only body
fields (nested ones too), a body sent where none is taken and a country that is no ISO 3166
code are each a 400 problem+json naming what was refused, and change nothing. The query
parameters each operation documents in the schema are exactly the ones it takes. A
customer search that stops at its limit says so.
"""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from customers import selectors
from customers.models import Address, Consignee, Customer
from sales.models import SalesDocument
from tenancy.context import tenant_context
from tenancy.models import ReferenceEntry
from tests.factories import ReferenceEntryFactory, make_customer

PROBLEM = "application/problem+json"
UNKNOWN = "not_a_parameter"
API_PREFIX = "api/v1/"


def send(client, method, url, body=None):
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(url, data, content_type="application/json")


def refused(response) -> dict[str, str]:
    """The fields a 400 problem names, with their messages."""
    assert response.status_code == 400, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith("/problems/validation")
    return {e["field"]: e["message"] for e in body["errors"]}


@pytest.fixture
def api_a(personas):
    return personas.api(personas.key_a)


@pytest.fixture
def in_a(personas):
    return lambda: tenant_context(personas.tenant_a)


# ---------------------------------------------------------------------------
# Every API route of the URL conf


def _api_operations(patterns=None, prefix=""):
    """(route, method) for each DRF view under /api/v1/ (as the URL conf maps them)."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_operations(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.lstrip("^").startswith(API_PREFIX):
            callback = entry.callback
            actions = getattr(callback, "actions", None)
            if actions is not None:
                methods = sorted(m for m in actions if m in callback.cls.http_method_names)
            elif hasattr(callback, "view_class"):
                view = callback.view_class
                methods = [m for m in ("get", "post", "patch", "delete") if hasattr(view, m)]
            else:
                continue
            for method in methods:
                yield route, method


def _url(route: str) -> str:
    """A concrete URL of a route: every path parameter is 1 (refused before any lookup)."""
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)  # a router's regex group
    route = re.sub(r"<(?:\w+:)?\w+>", "1", route)  # a path() converter
    return "/" + route.replace("^", "").replace("$", "")


OPERATIONS = sorted(set(_api_operations()))


def test_the_url_conf_has_the_api_routes():
    urls = {(_url(route), method) for route, method in OPERATIONS}
    assert ("/api/v1/customers/", "get") in urls
    assert ("/api/v1/sales-documents/", "get") in urls
    assert ("/api/v1/eligibility/", "get") in urls
    assert ("/api/v1/consent-settings/", "get") in urls
    assert ("/api/v1/audit-events/", "get") in urls
    assert ("/api/v1/me/", "get") in urls
    assert len(OPERATIONS) >= 30


@pytest.mark.parametrize(("route", "method"), OPERATIONS, ids=[f"{m} {r}" for r, m in OPERATIONS])
def test_an_unknown_query_parameter_is_400_on_every_api_route(api_a, route, method):
    url = _url(route)
    assert resolve(url)  # the stand-in ids still resolve to the route
    response = send(api_a, method, f"{url}?{UNKNOWN}=Jens", {} if method != "get" else None)
    errors = refused(response)
    assert list(errors) == [UNKNOWN], errors


def test_an_unknown_parameter_no_longer_returns_the_whole_register(api_a, in_a):
    with in_a():
        make_customer(name="Jens Hansen ApS")
        make_customer(name="Anders And A/S")
    response = api_a.get("/api/v1/customers/", {"name": "Jens"})
    message = refused(response)["name"]
    assert "search" in message  # says what the endpoint takes instead


def _query_parameters(operation: dict) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def test_each_operation_takes_exactly_the_query_parameters_it_documents(client):
    """What the schema documents is accepted, and only that (schemathesis sends the former)."""
    schema = client.get("/api/schema/?format=json").json()
    checked = 0
    for path, item in schema["paths"].items():
        url = re.sub(r"\{\w+\}", "1", path)
        match = resolve(url)
        actions = getattr(match.func, "actions", None)
        for method, operation in item.items():
            view_class = getattr(match.func, "cls", None) or match.func.view_class
            view = view_class(**getattr(match.func, "initkwargs", {}))
            view.action = actions.get(method) if actions else None
            view.request = None
            view.format_kwarg = None
            assert view.taken_query_params() == _query_parameters(operation), (method, path)
            checked += 1
    assert checked >= 30


def test_documented_parameters_are_still_taken(api_a, in_a):
    with in_a():
        customer = make_customer(name="Kvarn AB")
    ok = [
        ("/api/v1/customers/", {"search": "kvarn", "page_size": 1, "ordering": "-name"}),
        ("/api/v1/sales-documents/", {"customer": customer.pk, "page_size": 5}),
        ("/api/v1/eligibility/", {"state": "blocked", "prospects": "false"}),
        ("/api/v1/audit-events/", {"action": "customer.", "page_size": 2}),
        ("/api/v1/reference-entries/", {"register": "payment_terms"}),
        ("/api/v1/consent-terms/current/", {"language": "sv"}),
        (f"/api/v1/customers/{customer.pk}/contacts/", {"page_size": 10}),
        ("/api/v1/anonymization-runs/", {"page_size": 10}),
    ]
    for url, params in ok:
        response = api_a.get(url, params)
        assert response.status_code in (200, 404), (url, response.content[:300])
        if response.status_code == 404:  # consent terms: none published for tenant A here
            assert response.json()["type"].endswith("/problems/no-consent-terms")


def test_pagination_parameters_are_for_lists_only(api_a, in_a):
    with in_a():
        customer = make_customer(name="Detalj AB")
    errors = refused(api_a.get(f"/api/v1/customers/{customer.pk}/", {"page_size": 5}))
    assert list(errors) == ["page_size"]


# ---------------------------------------------------------------------------
# Bodies: unknown fields, read-only fields, fields the caller may not set


def test_an_unknown_body_field_is_400_and_creates_nothing(api_a, in_a):
    response = send(api_a, "post", "/api/v1/customers/", {"name": "Ny AB", "nickname": "Nyan"})
    assert refused(response) == {"nickname": "Unknown field."}
    with in_a():
        assert not Customer.objects.filter(name="Ny AB").exists()


@pytest.mark.parametrize("field", ["id", "created_at", "consent", "address", "last_activity_at"])
def test_a_read_only_field_in_a_patch_is_400_and_changes_nothing(api_a, in_a, field):
    with in_a():
        customer = make_customer(name="Fast AB")
    url = f"/api/v1/customers/{customer.pk}/"
    value = {"line1": "Gatan 1"} if field == "address" else "x"
    response = send(api_a, "patch", url, {"name": "Ändrad AB", field: value})
    assert refused(response) == {field: "This field is read-only."}
    with in_a():
        assert Customer.objects.get(pk=customer.pk).name == "Fast AB"


def test_a_finance_field_an_api_key_may_not_set_is_named(api_a, in_a):
    with in_a():
        customer = make_customer(name="Kredit AB")
    response = send(api_a, "patch", f"/api/v1/customers/{customer.pk}/", {"credit_limit_amount": 5})
    assert refused(response) == {"credit_limit_amount": "You may not set this field."}


def test_an_unknown_field_in_a_nested_object_names_its_path(api_a, in_a):
    body = {"name": "Nästlad AB", "address": {"line1": "Storgatan 1", "floor": 3}}
    response = send(api_a, "post", "/api/v1/customers/", body)
    assert refused(response) == {"address.floor": "Unknown field."}
    with in_a():
        assert not Customer.objects.filter(name="Nästlad AB").exists()


def test_sub_registers_refuse_unknown_and_read_only_fields(api_a, in_a):
    with in_a():
        customer = make_customer(name="Under AB")
    base = f"/api/v1/customers/{customer.pk}"
    assert refused(send(api_a, "post", f"{base}/contacts/", {"last_name": "Ek", "age": 40})) == {
        "age": "Unknown field."
    }
    assert refused(send(api_a, "post", f"{base}/consignees/", {"name": "L", "gln": "1"})) == {
        "gln": "Unknown field."
    }
    address = send(api_a, "post", f"{base}/addresses/", {"line1": "Väg 1"}).json()
    response = send(api_a, "patch", f"{base}/addresses/{address['id']}/", {"is_head_office": False})
    assert refused(response) == {"is_head_office": "This field is read-only."}


def test_reference_entries_refuse_read_only_and_unknown_fields(api_a, in_a):
    with in_a():
        entry = ReferenceEntryFactory(code="N10", name="10 dagar")
    url = f"/api/v1/reference-entries/{entry.pk}/"
    assert refused(send(api_a, "patch", url, {"id": 99, "name": "Tio"})) == {
        "id": "This field is read-only."
    }
    assert refused(send(api_a, "patch", url, {"colour": "red"})) == {"colour": "Unknown field."}
    with in_a():
        assert ReferenceEntry.objects.get(pk=entry.pk).name == "10 dagar"


def test_sales_documents_refuse_unknown_fields(api_a, in_a):
    with in_a():
        customer = make_customer(name="Sälj AB")
    body = {
        "customer": customer.pk,
        "kind": "invoice",
        "number": "F-1",
        "date": "2026-01-15",
        "status": "open",
        "amount": "10.00",
        "balance": "10.00",
        "vat": "2.50",
    }
    assert refused(send(api_a, "post", "/api/v1/sales-documents/", body)) == {
        "vat": "Unknown field."
    }
    with in_a():
        assert not SalesDocument.objects.exists()


def test_a_body_where_none_is_taken_is_refused(api_a, in_a):
    with in_a():
        customer = make_customer(name="Kropp AB")
    base = f"/api/v1/customers/{customer.pk}"
    first = send(api_a, "post", f"{base}/addresses/", {"line1": "Ett 1"})
    assert first.status_code == 201, first.content
    first = first.json()
    second = send(api_a, "post", f"{base}/addresses/", {"kind": "postal", "line1": "Två 2"})
    assert second.status_code == 201, second.content
    second = second.json()
    response = send(api_a, "delete", f"{base}/addresses/{second['id']}/", {"reason": "moved"})
    assert refused(response) == {"reason": "Unknown field."}
    make_head = f"{base}/addresses/{second['id']}/make-head-office/"
    assert refused(send(api_a, "post", make_head, {"keep_old": True})) == {
        "keep_old": "Unknown field."
    }
    with in_a():
        assert Address.objects.get(pk=first["id"]).is_head_office
        assert Address.objects.filter(pk=second["id"]).exists()
    assert send(api_a, "post", make_head, {}).status_code == 200


# ---------------------------------------------------------------------------
# Countries: ISO 3166-1 alpha-2 only


@pytest.mark.parametrize("code", ["XX", "EU", "UK", "zz"])
def test_a_country_that_is_no_iso_code_is_400_everywhere(api_a, in_a, code):
    with in_a():
        customer = make_customer(name="Land AB")
    base = f"/api/v1/customers/{customer.pk}"
    cases = [
        ("post", "/api/v1/customers/", {"name": "Nytt Land AB", "country": code}, "country"),
        ("patch", f"{base}/", {"country": code}, "country"),
        ("post", f"{base}/addresses/", {"line1": "Väg 2", "country": code}, "country"),
        ("post", f"{base}/consignees/", {"name": "Lager", "country": code}, "country"),
        (
            "post",
            "/api/v1/customers/",
            {"name": "Nytt Land AB", "address": {"line1": "V", "country": code}},
            "address.country",
        ),
    ]
    for method, url, body, field in cases:
        assert list(refused(send(api_a, method, url, body))) == [field], (method, url)
    with in_a():
        assert Customer.objects.get(pk=customer.pk).country == "SE"
        assert not Customer.objects.filter(name="Nytt Land AB").exists()
        assert not Address.objects.exists() and not Consignee.objects.exists()


def test_iso_countries_in_either_case_are_taken(api_a):
    response = send(api_a, "post", "/api/v1/customers/", {"name": "Åland Ab", "country": "ax"})
    assert response.status_code == 201 and response.json()["country"] == "AX"


def test_a_sales_document_snapshot_country_must_be_iso(api_a, in_a):
    with in_a():
        customer = make_customer(name="Snap AB")
    body = {
        "customer": customer.pk,
        "kind": "invoice",
        "number": "F-2",
        "date": "2026-01-15",
        "status": "open",
        "amount": "1.00",
        "balance": "1.00",
        "country": "XX",
    }
    assert list(refused(send(api_a, "post", "/api/v1/sales-documents/", body))) == ["country"]


# ---------------------------------------------------------------------------
# A search that stops at its limit says so


def test_a_search_cut_at_its_limit_says_truncated_and_can_be_narrowed(api_a, in_a, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_LIMIT", 2)
    with in_a():
        for name in ("Bygg Norr AB", "Bygg Syd AB", "Bygg Väst AB"):
            make_customer(name=name)
    url = "/api/v1/customers/"
    cut = api_a.get(url, {"search": "bygg"}).json()
    assert cut["truncated"] is True and len(cut["results"]) == 2
    narrowed = api_a.get(url, {"search": "bygg syd"}).json()
    assert narrowed["truncated"] is False
    assert [c["name"] for c in narrowed["results"]] == ["Bygg Syd AB"]
    unsearched = api_a.get(url).json()
    assert unsearched["truncated"] is False and len(unsearched["results"]) == 3


def test_the_schema_documents_truncated(client):
    schema = client.get("/api/schema/?format=json").json()
    response = schema["paths"]["/api/v1/customers/"]["get"]["responses"]["200"]
    ref = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    page = schema["components"]["schemas"][ref]
    assert page["properties"]["truncated"]["type"] == "boolean"
    assert "truncated" in page["required"]
