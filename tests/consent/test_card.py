"""Consent on the customer card: the panel, its actions (request, record manually, update
consent), the receipt download, who may do what, and the refresh service behind
"Update consent" (expiry, and a poll faked at Twilio's HTTP boundary)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from consent.models import (
    ConsentDecision,
    ConsentRequest,
    ConsentState,
    ConsentStatus,
    RequestStatus,
)
from consent.refresh import RefreshResult, consent_refresh
from consent.services import consent_record, consent_request_create
from customers.models import Customer, CustomerStatus
from notifications.models import OutboundMessage, Status
from notifications.sending import message_send
from tests.factories import make_customer
from tests.notifications.conftest import (
    TWILIO_MESSAGES_URL,
    twilio_message_json,
    twilio_message_url,
)

SYSTEM = Actor.system("tests")
SID = "SM" + "c" * 32


def url(customer_pk: int, action: str) -> str:
    return f"/consent/customers/{customer_pk}/{action}/"


def receipt_url(customer_pk: int, decision_pk: int) -> str:
    return f"/consent/customers/{customer_pk}/decisions/{decision_pk}/receipt/"


def card(client, customer) -> str:
    response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def counts(in_a) -> tuple[int, int, int, int]:
    with in_a():
        return (
            ConsentRequest.objects.count(),
            ConsentDecision.objects.count(),
            OutboundMessage.objects.count(),
            AuditEvent.objects.count(),
        )


def request_form(**data) -> dict:
    return {f"consent-request-{k}": v for k, v in data.items()}


def manual_form(**data) -> dict:
    return {f"consent-manual-{k}": v for k, v in data.items()}


# --- the panel ----------------------------------------------------------------------------


def test_the_card_shows_status_open_requests_and_history_with_receipts(personas, in_a, customer_a):
    with in_a():
        consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        declined = consent_record(
            customer=customer_a, decision="declined", method="manual", how="phone", actor=SYSTEM
        )
    html = card(personas.client(personas.bob), customer_a)
    assert 'id="consent"' in html
    assert "Consent declined" in html  # the status, by the label hook
    assert "a***@example.test" in html  # the open request, masked
    assert "asa@example.test</td>" not in html
    assert "By phone" in html and "Manually by staff" in html and "System" in html
    assert receipt_url(customer_a.pk, declined.pk) in html
    # Office staff may act: the three actions are there.
    for form_id in ("consent-request-form", "consent-manual-form", "consent-refresh-form"):
        assert f'id="{form_id}"' in html
    # The terms version defaults to the current one in the customer's language (sv v1).
    assert 'name="consent-manual-terms_version" value="1"' in html


def test_an_anonymized_customer_shows_no_actions_and_refuses_them(personas, in_a, customer_a):
    with in_a():
        Customer.objects.filter(pk=customer_a.pk).update(status=CustomerStatus.ANONYMIZED)
    client = personas.client(personas.bob)
    html = card(client, customer_a)
    assert 'id="consent"' in html
    assert 'id="consent-request-form"' not in html
    before = counts(in_a)
    response = client.post(
        url(customer_a.pk, "request"), request_form(channel="any", language="sv")
    )
    assert response.status_code == 302
    assert counts(in_a) == before


# --- request consent --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "expected_channel", "destination"),
    [
        ("email", "email", "asa@example.test"),
        ("sms", "sms", "+46701234567"),
        ("any", "email", "asa@example.test"),
    ],
)
def test_request_consent_from_the_card(
    personas, in_a, customer_a, channel, expected_channel, destination
):
    client = personas.client(personas.bob)
    response = client.post(
        url(customer_a.pk, "request"), request_form(channel=channel, language="sv")
    )
    assert response.status_code == 302
    assert response["Location"] == f"/t/nordljus/customers/{customer_a.pk}/#consent"
    with in_a():
        request = ConsentRequest.objects.get(customer=customer_a)
        message = OutboundMessage.objects.get(reference=f"consent_request:{request.pk}")
        state = ConsentState.objects.get(customer=customer_a)
    assert (request.channel, request.destination, request.language) == (
        expected_channel,
        destination,
        "sv",
    )
    assert request.created_by == personas.bob
    assert (message.channel, message.destination) == (expected_channel, destination)
    assert state.status == ConsentStatus.REQUESTED
    html = client.get(response["Location"]).content.decode()
    assert "Consent requested by" in html  # the message
    assert request.destination_masked in html


def test_the_request_language_defaults_to_the_customers(personas, in_a, terms_a):
    with in_a():
        customer = make_customer(name="John Smith", email="john@example.test", language="en")
    html = card(personas.client(personas.bob), customer)
    assert '<option value="en" selected>' in html
    personas.client(personas.bob).post(
        url(customer.pk, "request"), request_form(channel="email", language="en")
    )
    with in_a():
        assert ConsentRequest.objects.get(customer=customer).terms == terms_a["en"]


def _assert_field_error(response, field: str, text: str) -> None:
    assert response.status_code == 200
    form = (
        response.context["request_form"] if "request" in field else response.context["manual_form"]
    )
    name = field.split(":", 1)[1]
    assert text in " ".join(form.errors.get(name, [])), form.errors
    html = response.content.decode()
    assert 'class="field has-error"' in html
    assert text.replace("'", "&#x27;") in html


@pytest.mark.parametrize(
    ("fields", "data", "field", "text"),
    [
        ({"email": ""}, {"channel": "email"}, "request:channel", "no email address"),
        ({"mobile": ""}, {"channel": "sms"}, "request:channel", "no mobile number"),
        ({"email": "", "mobile": ""}, {"channel": "any"}, "request:channel", "neither email"),
        ({}, {"channel": "fax"}, "request:channel", "Select a valid choice"),
        ({}, {"channel": "email", "language": "xx"}, "request:language", "Select a valid choice"),
    ],
)
def test_a_request_that_cannot_be_sent_is_a_field_error_and_changes_nothing(
    personas, in_a, terms_a, fields, data, field, text
):
    with in_a():
        values = {"email": "per@example.test", "mobile": "+46709876543", **fields}
        customer = make_customer(name="Per Holm", language="sv", **values)
    before = counts(in_a)
    response = personas.client(personas.bob).post(
        url(customer.pk, "request"), request_form(**{"language": "sv", **data})
    )
    _assert_field_error(response, field, text)
    assert counts(in_a) == before


@pytest.mark.no_sms
def test_sms_without_a_subscription_is_an_error_at_the_channel(personas, in_a, customer_a):
    before = counts(in_a)
    response = personas.client(personas.bob).post(
        url(customer_a.pk, "request"), request_form(channel="sms", language="sv")
    )
    _assert_field_error(response, "request:channel", "SMS is not enabled for this company")
    assert counts(in_a) == before


def test_no_terms_in_the_language_is_an_error_at_the_language(personas, in_a):
    with in_a():
        customer = make_customer(name="Per Holm", email="per@example.test", language="sv")
    before = counts(in_a)
    response = personas.client(personas.bob).post(
        url(customer.pk, "request"), request_form(channel="email", language="sv")
    )
    _assert_field_error(response, "request:language", "No consent text is published")
    assert counts(in_a) == before


# --- record consent manually --------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "how", "status", "label"),
    [
        ("granted", "paper", ConsentStatus.GRANTED, "Consent approved"),
        ("declined", "phone", ConsentStatus.DECLINED, "Consent declined"),
        ("withdrawn", "in_person", ConsentStatus.WITHDRAWN, "Consent withdrawn"),
    ],
)
def test_record_a_decision_manually(personas, in_a, customer_a, decision, how, status, label):
    client = personas.client(personas.bob)
    response = client.post(
        url(customer_a.pk, "record"),
        manual_form(decision=decision, how=how, terms_version="1", note="Signed form in binder 3"),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/t/nordljus/customers/{customer_a.pk}/#consent"
    with in_a():
        proof = ConsentDecision.objects.get(customer=customer_a)
        state = ConsentState.objects.get(customer=customer_a)
        event = AuditEvent.objects.get(action=f"consent.{decision}")
    assert (proof.decision, proof.method, proof.how) == (decision, "manual", how)
    assert (proof.terms_version, proof.terms_language) == (1, "sv")
    assert proof.terms_sha256 == customer_a_terms_sha(in_a)
    assert (proof.actor_type, proof.actor_id) == ("user", str(personas.bob.pk))
    assert proof.note == "Signed form in binder 3"
    assert state.status == status
    assert "binder" not in json.dumps(event.data)
    html = client.get(f"/customers/{customer_a.pk}/").content.decode()
    assert f'class="consent-badge consent-{status}" id="consent-status">{label}<' in html


def customer_a_terms_sha(in_a) -> str:
    from consent.models import ConsentTerms

    with in_a():
        return ConsentTerms.objects.get(language="sv", version=1).text_sha256


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"terms_version": "7"}, "manual:terms_version", "No consent text has this version"),
        ({"terms_version": ""}, "manual:terms_version", "Say which version"),
        ({"terms_version": "abc"}, "manual:terms_version", "Enter a whole number"),
        ({"how": "telepathy"}, "manual:how", "Select a valid choice"),
        ({"decision": "maybe"}, "manual:decision", "Select a valid choice"),
        ({"note": "x" * 1001}, "manual:note", "at most 1000 characters"),
    ],
)
def test_a_bad_manual_record_is_a_field_error_and_changes_nothing(
    personas, in_a, customer_a, data, field, text
):
    before = counts(in_a)
    response = personas.client(personas.bob).post(
        url(customer_a.pk, "record"),
        manual_form(**{"decision": "granted", "how": "paper", "terms_version": "1", **data}),
    )
    _assert_field_error(response, field, text)
    assert counts(in_a) == before
    with in_a():
        assert not ConsentState.objects.filter(customer=customer_a).exists()


def test_declining_needs_no_terms_version(personas, in_a, customer_a):
    response = personas.client(personas.bob).post(
        url(customer_a.pk, "record"),
        manual_form(decision="declined", how="other", terms_version=""),
    )
    assert response.status_code == 302
    with in_a():
        assert ConsentDecision.objects.get(customer=customer_a).terms_version is None


# --- update consent (refresh) ---------------------------------------------------------------


def _expire(in_a, request) -> None:
    with in_a():
        ConsentRequest.objects.filter(pk=request.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )


def test_update_consent_on_the_card_expires_overdue_requests(personas, in_a, customer_a):
    with in_a():
        request, _token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        other = make_customer(name="Annan", email="annan@example.test", language="sv")
        other_request, _token = consent_request_create(
            customer=other, channel="email", actor=SYSTEM
        )
    _expire(in_a, request)
    _expire(in_a, other_request)
    client = personas.client(personas.bob)
    response = client.post(url(customer_a.pk, "refresh"))
    assert response.status_code == 302
    with in_a():
        request.refresh_from_db()
        other_request.refresh_from_db()
        state = ConsentState.objects.get(customer=customer_a)
        refreshed = AuditEvent.objects.get(action="consent.refreshed")
    assert request.status == RequestStatus.EXPIRED
    assert other_request.status == RequestStatus.QUEUED  # another customer: left alone
    assert state.status == ConsentStatus.EXPIRED
    assert refreshed.data == {"scope": "customers", "customers": 1, "expired": 1, "polled": 0}
    assert refreshed.actor_id == str(personas.bob.pk)
    html = client.get(response["Location"]).content.decode()
    assert "Consent updated. Requests expired: 1; delivery statuses checked: 0." in html


def test_refresh_of_the_whole_tenant_and_twice(personas, in_a, in_b, customer_a, customer_b):
    with in_a():
        request, _token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
    with in_b():
        b_request, _token = consent_request_create(
            customer=customer_b, channel="email", actor=SYSTEM
        )
    _expire(in_a, request)
    with in_b():
        ConsentRequest.objects.filter(pk=b_request.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    with in_a():
        assert consent_refresh(actor=SYSTEM) == RefreshResult(expired=1, polled=0)
        assert consent_refresh(actor=SYSTEM) == RefreshResult(expired=0, polled=0)
        assert AuditEvent.objects.filter(action="consent.refreshed").count() == 2
        assert AuditEvent.objects.filter(action="consent.request_expired").count() == 1
    with in_b():
        b_request.refresh_from_db()
        assert b_request.status == RequestStatus.QUEUED  # another tenant: untouched


@pytest.fixture
def twilio(settings):
    settings.SMS_BACKEND = "notifications.backends.twilio.TwilioBackend"


@responses.activate
def test_refresh_asks_twilio_now_for_the_status_of_the_requests_sms(
    personas, in_a, customer_a, twilio
):
    responses.post(TWILIO_MESSAGES_URL, json=twilio_message_json(SID), status=201)
    responses.get(twilio_message_url(SID), json=twilio_message_json(SID, "delivered"))
    with in_a():
        request, _token = consent_request_create(customer=customer_a, channel="sms", actor=SYSTEM)
        message = OutboundMessage.objects.get(reference=f"consent_request:{request.pk}")
        message_send(message_id=message.pk)  # what the worker does: Twilio took it
        request.refresh_from_db()
        assert request.status == RequestStatus.SENT
        # Just sent: the periodic poll would still wait; "Update consent" asks at once.
        result = consent_refresh(actor=SYSTEM, customer_ids=[customer_a.pk])
        message.refresh_from_db()
        request.refresh_from_db()
        events = list(message.events.values_list("event_id", "payload"))
        assert consent_refresh(actor=SYSTEM, customer_ids=[customer_a.pk]) == RefreshResult()
    assert result == RefreshResult(expired=0, polled=1)
    assert message.status == Status.DELIVERED
    assert request.status == RequestStatus.DELIVERED  # through consent.delivery's receiver
    assert events == [(f"{SID}:delivered", {"source": "poll", "MessageStatus": "delivered"})]
    gets = [c for c in responses.calls if c.request.method == "GET"]
    assert len(gets) == 1  # a final status is not asked for again


@responses.activate
def test_refresh_does_not_poll_answered_or_expired_requests(personas, in_a, customer_a, twilio):
    responses.post(TWILIO_MESSAGES_URL, json=twilio_message_json(SID), status=201)
    with in_a():
        request, _token = consent_request_create(customer=customer_a, channel="sms", actor=SYSTEM)
        message_send(message_id=OutboundMessage.objects.get().pk)
        consent_record(
            customer=customer_a,
            decision="granted",
            method="sms_reply",
            request=request,
            actor=SYSTEM,
        )
        assert consent_refresh(actor=SYSTEM) == RefreshResult(expired=0, polled=0)
    assert [c.request.method for c in responses.calls] == ["POST"]


# --- the receipt --------------------------------------------------------------------------


def test_download_a_decisions_receipt(personas, in_a, customer_a):
    with in_a():
        proof = consent_record(
            customer=customer_a,
            decision="granted",
            method="manual",
            how="paper",
            terms_version=1,
            actor=SYSTEM,
        )
    response = personas.client(personas.bob).get(receipt_url(customer_a.pk, proof.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="consent-receipt-{proof.receipt_id}.json"'
    )
    receipt = json.loads(response.content)
    assert receipt["consentReceiptID"] == str(proof.receipt_id)
    assert receipt["piiPrincipalId"] == customer_a.number
    assert receipt["state"] == "given"
    assert receipt["notice"]["version"] == 1
    assert "Åsa" not in response.content.decode()


def test_a_receipt_only_under_its_own_customer(personas, in_a, customer_a):
    with in_a():
        other = make_customer(name="Annan")
        proof = consent_record(customer=other, decision="declined", method="manual", actor=SYSTEM)
    client = personas.client(personas.bob)
    assert client.get(receipt_url(customer_a.pk, proof.pk)).status_code == 404
    assert client.get(receipt_url(other.pk, proof.pk)).status_code == 200
    assert client.get(receipt_url(other.pk, 10**12)).status_code == 404


# --- who may --------------------------------------------------------------------------------


@pytest.fixture
def decision_a(in_a, customer_a):
    with in_a():
        return consent_record(
            customer=customer_a, decision="granted", method="manual", terms_version=1, actor=SYSTEM
        )


def _cases(customer_a, decision_a):
    return [
        ("post", url(customer_a.pk, "request"), request_form(channel="email", language="sv")),
        ("post", url(customer_a.pk, "record"), manual_form(decision="withdrawn", how="phone")),
        ("post", url(customer_a.pk, "refresh"), {}),
        ("get", receipt_url(customer_a.pk, decision_a.pk), {}),
    ]


@pytest.mark.parametrize(("who", "status"), [("erik", 403), ("charlie", 404), ("anonymous", 302)])
def test_who_may_not_use_the_consent_card_urls(personas, in_a, customer_a, decision_a, who, status):
    client = personas.client(getattr(personas, who)) if who != "anonymous" else None
    if client is None:
        from django.test import Client

        client = Client()
    for method, path, data in _cases(customer_a, decision_a):
        before = counts(in_a)
        response = getattr(client, method)(path, data)
        assert response.status_code == status, path
        if who == "anonymous":
            assert response["Location"].startswith("/accounts/login/")
        assert counts(in_a) == before, path


@pytest.mark.parametrize("who", ["alice", "bea", "bob"])
def test_roles_with_registry_and_consent_rights_may(personas, customer_a, decision_a, who):
    client = personas.client(getattr(personas, who))
    for method, path, data in _cases(customer_a, decision_a):
        response = getattr(client, method)(path, data)
        assert response.status_code == (200 if method == "get" else 302), path


def test_actions_are_post_only(personas, customer_a):
    client = personas.client(personas.bob)
    for action in ("request", "record", "refresh"):
        assert client.get(url(customer_a.pk, action)).status_code == 405


def test_another_tenants_customer_is_a_404_even_with_its_own_decision(
    personas, in_b, customer_b, customer_a
):
    with in_b():
        proof = consent_record(customer=customer_b, decision="declined", method="pos", actor=SYSTEM)
    client = personas.client(personas.bob)
    assert client.get(receipt_url(customer_b.pk, proof.pk)).status_code == 404
    assert client.post(url(customer_b.pk, "refresh")).status_code == 404
    html = card(personas.client(personas.charlie), customer_b)
    assert receipt_url(customer_b.pk, proof.pk) in html
