"""The consent API (docs/api.md): requests, status, POS decisions, terms, receipts, isolation."""

from __future__ import annotations

import json

import pytest

from audit.actors import Actor
from audit.models import AuditEvent
from consent.models import ConsentDecision, ConsentRequest
from consent.services import consent_record, consent_request_create
from tenancy.services import api_key_create
from tests.factories import make_customer

PROBLEM = "application/problem+json"
SYSTEM = Actor.system("tests")
POS = {
    "decision": "granted",
    "terms_version": 1,
    "method": "pos",
    "context": {"store": "Göteborg City", "terminal": "T2", "staff": "Nils"},
}


def send(client, method, url, body=None, **headers):
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(url, data, content_type="application/json", **headers)


@pytest.fixture
def api_a(personas):
    return personas.api(personas.key_a)


@pytest.fixture
def api_b(personas):
    return personas.api(personas.key_b)


def test_request_consent_by_email(api_a, customer_a, in_a):
    response = send(
        api_a, "post", f"/api/v1/customers/{customer_a.pk}/consent-requests/", {"channel": "email"}
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) >= {"id", "status", "channel", "destination_masked", "expires_at"}
    assert body["status"] == "queued" and body["channel"] == "email"
    assert body["destination_masked"] == "a***@example.test"
    assert "asa@example.test" not in response.content.decode()
    detail = api_a.get(f"/api/v1/consent-requests/{body['id']}/")
    assert detail.status_code == 200 and detail.json()["status"] == "queued"
    state = api_a.get(f"/api/v1/customers/{customer_a.pk}/consent/").json()
    assert state["status"] == "requested"
    customer = api_a.get(f"/api/v1/customers/{customer_a.pk}/").json()
    assert customer["consent"]["status"] == "requested"


def test_request_by_sms_masks_the_number(api_a, customer_a):
    response = send(
        api_a,
        "post",
        f"/api/v1/customers/{customer_a.pk}/consent-requests/",
        {"channel": "sms", "language": "en"},
    )
    assert response.status_code == 202
    assert response.json()["destination_masked"].endswith("567")
    assert "+4670123" not in response.content.decode()


def test_request_without_address_is_422(api_a, in_a, terms_a):
    with in_a():
        customer = make_customer(name="Utan mobil", email="x@example.test")
    response = send(
        api_a, "post", f"/api/v1/customers/{customer.pk}/consent-requests/", {"channel": "sms"}
    )
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "channel"
    with in_a():
        assert not ConsentRequest.objects.exists()


def test_bad_channel_is_400(api_a, customer_a):
    response = send(
        api_a, "post", f"/api/v1/customers/{customer_a.pk}/consent-requests/", {"channel": "pigeon"}
    )
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM


def test_request_creation_is_idempotent(api_a, customer_a, in_a):
    url = f"/api/v1/customers/{customer_a.pk}/consent-requests/"
    first = send(api_a, "post", url, {"channel": "email"}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = send(api_a, "post", url, {"channel": "email"}, HTTP_IDEMPOTENCY_KEY="k-1")
    other = send(api_a, "post", url, {"channel": "sms"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 409
    with in_a():
        assert ConsentRequest.objects.count() == 1


def test_pos_decision_keeps_its_context(api_a, customer_a, in_a, terms_a):
    url = f"/api/v1/customers/{customer_a.pk}/consent/"
    response = send(api_a, "post", url, POS, HTTP_USER_AGENT="Till/2.1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "granted" and body["terms_version"] == 1 and body["method"] == "pos"
    assert body["decision"]["context"] == POS["context"]
    assert body["decision"]["terms_sha256"] == terms_a["sv"].text_sha256
    state = api_a.get(url).json()
    assert state["status"] == "granted" and state["decided_at"]
    with in_a():
        proof = ConsentDecision.objects.get()
        assert proof.context == POS["context"] and proof.user_agent == "Till/2.1"
        assert proof.actor_type == "api_key"
        event = AuditEvent.objects.get(action="consent.granted")
        assert "Nils" not in str(event.data) and "Göteborg" not in str(event.data)
    withdrawn = send(api_a, "post", url, {"decision": "withdrawn", "method": "pos"})
    assert withdrawn.status_code == 201 and withdrawn.json()["status"] == "withdrawn"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**POS, "terms_version": 7}, "terms_version"),
        ({"decision": "granted", "method": "pos"}, "terms_version"),
        ({**POS, "decision": "maybe"}, "decision"),
        ({**POS, "context": {"store": "x" * 101}}, "context.store"),
        ({**POS, "method": "telepathy"}, "method"),
    ],
)
def test_bad_pos_decisions_are_field_errors(api_a, customer_a, in_a, body, field):
    response = send(api_a, "post", f"/api/v1/customers/{customer_a.pk}/consent/", body)
    assert response.status_code == 400, response.content
    assert field in {e["field"] for e in response.json()["errors"]}
    with in_a():
        assert not ConsentDecision.objects.exists()


def test_current_terms(api_a, terms_a):
    response = api_a.get("/api/v1/consent-terms/current/?language=en")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1 and body["language"] == "en"
    assert body["sha256"] == terms_a["en"].text_sha256
    assert api_a.get("/api/v1/consent-terms/current/").json()["language"] == "sv"
    assert api_a.get("/api/v1/consent-terms/current/?language=da").status_code == 404
    assert api_a.get("/api/v1/consent-terms/current/?language=xx").status_code == 400


def test_receipt_shape(api_a, customer_a, in_a, personas):
    response = send(api_a, "post", f"/api/v1/customers/{customer_a.pk}/consent/", POS)
    decision_id = response.json()["decision"]["id"]
    receipt = api_a.get(f"/api/v1/consent-decisions/{decision_id}/receipt/")
    assert receipt.status_code == 200
    assert "attachment" in receipt["Content-Disposition"]
    body = receipt.json()
    for key in (
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "language",
        "piiPrincipalId",
        "piiControllers",
        "policyUrl",
        "services",
        "sensitive",
        "spiCat",
        "notice",
        "event",
        "state",
    ):
        assert key in body, key
    assert body["jurisdiction"] == "SE" and body["collectionMethod"] == "pos"
    assert body["piiControllers"][0]["piiController"] == "Nordljus AB"
    assert body["piiPrincipalId"] == customer_a.number
    assert body["services"][0]["purposes"][0]["consentType"] == "EXPLICIT"
    assert body["notice"]["version"] == 1 and len(body["notice"]["sha256"]) == 64
    assert body["state"] == "given"
    assert "Åsa" not in receipt.content.decode()


def test_reads_need_customers_read_and_writes_consent_write(personas, customer_a, in_a):
    with in_a():
        _obj, read_only = api_key_create(name="Reader", scopes=["customers:read"], actor=SYSTEM)
    client = personas.api(read_only)
    assert client.get(f"/api/v1/customers/{customer_a.pk}/consent/").status_code == 200
    for url, body in [
        (f"/api/v1/customers/{customer_a.pk}/consent/", POS),
        (f"/api/v1/customers/{customer_a.pk}/consent-requests/", {"channel": "email"}),
    ]:
        assert send(client, "post", url, body).status_code == 403


def test_another_tenants_ids_are_404_on_every_endpoint(api_b, customer_a, in_a, terms_b):
    with in_a():
        request, _token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        decision = consent_record(
            customer=customer_a, decision="granted", method="pos", terms_version=1, actor=SYSTEM
        )
    for method, url, body in [
        ("post", f"/api/v1/customers/{customer_a.pk}/consent-requests/", {"channel": "email"}),
        ("get", f"/api/v1/consent-requests/{request.pk}/", None),
        ("get", f"/api/v1/customers/{customer_a.pk}/consent/", None),
        ("post", f"/api/v1/customers/{customer_a.pk}/consent/", POS),
        ("get", f"/api/v1/consent-decisions/{decision.pk}/receipt/", None),
        ("get", "/api/v1/consent-requests/abc/", None),
        ("get", "/api/v1/consent-decisions/99999999999999999999999/receipt/", None),
    ]:
        response = send(api_b, method, url, body)
        assert response.status_code == 404, (method, url, response.status_code)
        assert "Åsa" not in response.content.decode()
    terms = api_b.get("/api/v1/consent-terms/current/").json()
    assert terms["language"] == "nb" and "Vi sparar" not in terms["text"]
    with in_a():
        assert ConsentRequest.objects.count() == 1 and ConsentDecision.objects.count() == 1


def test_staff_session_may_request_consent(personas, customer_a):
    client = personas.client(personas.bob)
    response = send(
        client, "post", f"/api/v1/customers/{customer_a.pk}/consent-requests/", {"channel": "any"}
    )
    assert response.status_code == 202


def test_customer_list_and_card_show_the_consent_state(api_a, in_a, customer_a, terms_a):
    from datetime import timedelta

    from django.utils import timezone

    with in_a():
        other = make_customer(name="Berit Ek", email="berit@example.test")
        consent_record(
            customer=customer_a, decision="granted", method="pos", terms_version=1, actor=SYSTEM
        )
        request, _token = consent_request_create(customer=other, channel="email", actor=SYSTEM)
        ConsentRequest.objects.filter(pk=request.pk).update(
            expires_at=timezone.now() - timedelta(hours=1)
        )
    rows = api_a.get("/api/v1/customers/").json()["results"]
    consent = {row["id"]: row["consent"] for row in rows}
    assert consent[customer_a.pk]["status"] == "granted"
    assert consent[customer_a.pk]["terms_version"] == 1
    assert consent[other.pk]["status"] == "expired"
    card = api_a.get(f"/api/v1/customers/{other.pk}/").json()
    assert card["consent"]["status"] == "expired"
