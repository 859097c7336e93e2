"""A new company runs the whole consent flow through the API with one key (issue 12, item 1).

Publishing terms (``consent:admin``), reading what is set up (``consent-settings``), and
the product conditions a client branches on: each is its own problem type (422), not a
validation error of no field.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from audit.actors import Actor
from audit.models import AuditEvent
from consent.models import ConsentDecision, ConsentRequest, ConsentTerms
from notifications.models import OutboundMessage
from notifications.services import sms_settings_update
from tenancy.context import tenant_context
from tenancy.models import ApiKeyScope, Tenant
from tenancy.services import api_key_create
from tests.factories import make_customer

PROBLEM = "application/problem+json"
TEXT = "Vi sparar dina uppgifter för att ge dig service. Du kan när som helst återkalla."


def send(client, method, url, body=None):
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(url, data, content_type="application/json")


def problem(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"{settings.SITE_URL}/problems/{kind}"
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def _last_line(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


@pytest.fixture
def new_company(db) -> tuple[Tenant, Client]:
    """A company created from the command line, with one key and nothing else set up."""
    slug = _last_line("create_tenant", "--name", "Fjällbacka Fisk AB", "--country", "SE")
    scopes = "customers:read,customers:write,consent:write,consent:admin"
    key = _last_line("create_api_key", "--tenant", slug, "--name", "Kassa 1", "--scopes", scopes)
    return Tenant.objects.get(slug=slug), Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


def test_a_new_company_runs_the_consent_flow_with_an_api_key_only(new_company):
    tenant, api = new_company

    setup = api.get("/api/v1/consent-settings/")
    assert setup.status_code == 200, setup.content
    assert setup.json() == {
        "channels": {"email": True, "sms": False},
        "languages": ["sv", "en"],
        "default_language": "sv",
        "terms": [],
        "request_valid_days": setup.json()["request_valid_days"],
    }

    created = send(
        api,
        "post",
        "/api/v1/customers/",
        {
            "name": "Elsa Berg",
            "kind": "person",
            "email": "elsa@example.test",
            "mobile": "0701234567",
        },
    )
    assert created.status_code == 201, created.content
    customer = created.json()["id"]
    requests_url = f"/api/v1/customers/{customer}/consent-requests/"

    # Nothing published yet: its own problem type, for the request and for the POS text.
    body = problem(send(api, "post", requests_url, {"channel": "email"}), 422, "no-consent-terms")
    assert "sv" in body["detail"] and "errors" not in body
    problem(api.get("/api/v1/consent-terms/current/"), 404, "no-consent-terms")

    published = send(api, "post", "/api/v1/consent-terms/", {"language": "sv", "text": TEXT})
    assert published.status_code == 201, published.content
    assert published.json()["version"] == 1 and published.json()["text"] == TEXT
    again = send(api, "post", "/api/v1/consent-terms/", {"language": "sv", "text": TEXT})
    assert again.status_code == 200 and again.json()["version"] == 1

    terms = api.get("/api/v1/consent-settings/").json()["terms"]
    assert [(t["language"], t["version"]) for t in terms] == [("sv", 1)]
    assert terms[0]["sha256"] == published.json()["sha256"]

    # SMS is not part of the new company's subscription: said so, and nothing is queued.
    problem(send(api, "post", requests_url, {"channel": "sms"}), 422, "sms-not-enabled")

    asked = send(api, "post", requests_url, {"channel": "email"})
    assert asked.status_code == 202, asked.content
    assert asked.json()["terms_version"] == 1 and asked.json()["status"] == "queued"

    shown = api.get("/api/v1/consent-terms/current/?language=sv").json()
    decision = {
        "decision": "granted",
        "terms_version": shown["version"],
        "method": "pos",
        "context": {"store": "Fjällbacka", "terminal": "1", "staff": "Lena"},
    }
    decided = send(api, "post", f"/api/v1/customers/{customer}/consent/", decision)
    assert decided.status_code == 201, decided.content
    assert decided.json()["status"] == "granted"
    assert decided.json()["decision"]["terms_sha256"] == shown["sha256"]
    state = api.get(f"/api/v1/customers/{customer}/consent/").json()
    assert state["status"] == "granted" and state["terms_version"] == 1

    with tenant_context(tenant):
        assert ConsentTerms.objects.count() == 1
        assert ConsentRequest.objects.count() == 1
        assert OutboundMessage.objects.filter(channel="sms").count() == 0
        assert ConsentDecision.objects.get().context == decision["context"]
        published_event = AuditEvent.objects.get(action="consent.terms_published")
        assert published_event.actor_type == "api_key"


def test_publishing_terms_needs_the_consent_admin_scope(new_company):
    tenant, _api = new_company
    with tenant_context(tenant):
        scopes = [s for s in ApiKeyScope.values if s != "consent:admin"]
        _obj, key = api_key_create(name="Kassa 2", scopes=scopes, actor=Actor.system("tests"))
    till = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    response = send(till, "post", "/api/v1/consent-terms/", {"language": "sv", "text": TEXT})
    assert response.status_code == 403
    assert till.get("/api/v1/consent-settings/").status_code == 200
    with tenant_context(tenant):
        assert not ConsentTerms.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"language": "xx", "text": TEXT}, "language"),
        ({"language": "sv", "text": "   "}, "text"),
        ({"language": "sv"}, "text"),
        ({"language": "sv", "text": TEXT, "version": 7}, "version"),
    ],
)
def test_bad_terms_are_field_errors(new_company, body, field):
    tenant, api = new_company
    response = send(api, "post", "/api/v1/consent-terms/", body)
    assert response.status_code == 400, response.content
    assert field in {e["field"] for e in response.json()["errors"]}
    with tenant_context(tenant):
        assert not ConsentTerms.objects.exists()


def test_the_product_conditions_are_distinct_problem_types(personas, customer_a, in_a):
    """no-address, sms-not-enabled, sms-limit-reached, no-consent-terms and validation."""
    api = personas.api(personas.key_a)
    url = f"/api/v1/customers/{customer_a.pk}/consent-requests/"
    with in_a():
        no_mobile = make_customer(name="Utan Mobil", email="x@example.test")
        danish = make_customer(name="Dansk Kunde", email="dk@example.test", language="da")
        # Asked once, customer_a has an open request (a 409): the later asks go to another.
        second = make_customer(name="Andra Kund", mobile="+46709876543", language="sv")
    second_url = f"/api/v1/customers/{second.pk}/consent-requests/"
    types = {
        "validation": problem(send(api, "post", url, {"channel": "pigeon"}), 400, "validation"),
        "no-address": problem(
            send(
                api,
                "post",
                f"/api/v1/customers/{no_mobile.pk}/consent-requests/",
                {"channel": "sms"},
            ),
            422,
            "no-address",
        ),
        "no-consent-terms": problem(
            send(
                api,
                "post",
                f"/api/v1/customers/{danish.pk}/consent-requests/",
                {"channel": "email"},
            ),
            422,
            "no-consent-terms",
        ),
    }
    with in_a():
        sms_settings_update(
            enabled=True, sender="Nordljus", monthly_cap=1, actor=Actor.user(personas.alice)
        )
    assert send(api, "post", url, {"channel": "sms"}).status_code == 202
    types["sms-limit-reached"] = problem(
        send(api, "post", second_url, {"channel": "sms"}), 422, "sms-limit-reached"
    )
    with in_a():
        sms_settings_update(
            enabled=False, sender="Nordljus", monthly_cap=1, actor=Actor.user(personas.alice)
        )
    types["sms-not-enabled"] = problem(
        send(api, "post", second_url, {"channel": "sms"}), 422, "sms-not-enabled"
    )
    assert len({body["type"] for body in types.values()}) == 5
    assert len({body["title"] for body in types.values()}) == 5
    assert types["no-address"]["errors"][0]["field"] == "channel"
    for kind in ("sms-not-enabled", "sms-limit-reached", "no-consent-terms"):
        assert "errors" not in types[kind]
    with in_a():
        assert ConsentRequest.objects.count() == 1  # only the one SMS the cap allowed


def test_an_unknown_pos_context_key_is_refused_by_name(personas, customer_a, in_a):
    api = personas.api(personas.key_a)
    body = {
        "decision": "granted",
        "terms_version": 1,
        "method": "pos",
        "context": {"store": "Göteborg", "till": "T2"},
    }
    response = send(api, "post", f"/api/v1/customers/{customer_a.pk}/consent/", body)
    assert response.status_code == 400, response.content
    assert {e["field"]: e["message"] for e in response.json()["errors"]} == {
        "context.till": "Unknown field."
    }
    with in_a():
        assert not ConsentDecision.objects.exists()


def test_the_schema_documents_the_product_conditions(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/customers/{customer_id}/consent-requests/"]["post"]
    description = operation["responses"]["422"]["description"]
    for kind in ("no-address", "sms-not-enabled", "sms-limit-reached", "no-consent-terms"):
        assert f"`{kind}`" in description
    assert "post" in schema["paths"]["/api/v1/consent-terms/"]
    assert "get" in schema["paths"]["/api/v1/consent-settings/"]
