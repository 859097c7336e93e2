"""Consent services: versioned terms, requests per channel, hashed tokens, append-only proof."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from audit.actors import Actor
from audit.models import AuditEvent
from consent.models import (
    ConsentDecision,
    ConsentRequest,
    ConsentStatus,
    ConsentTerms,
    RequestStatus,
)
from consent.selectors import consent_status_of, request_locate
from consent.services import (
    NoAddressError,
    consent_decision_scrub,
    consent_record,
    consent_request_create,
    consent_terms_publish,
)
from customers.serializers import consent_of
from tests.factories import make_customer

from .conftest import SV_TEXT

SYSTEM = Actor.system("tests")


def test_terms_are_versioned_per_language_with_the_hash_of_the_exact_text(personas, in_a):
    actor = Actor.user(personas.alice)
    with in_a():
        v1 = consent_terms_publish(language="sv", text=SV_TEXT, actor=actor)
        same = consent_terms_publish(language="sv", text=SV_TEXT + "\n", actor=actor)
        v2 = consent_terms_publish(language="sv", text="Ny text.", actor=actor)
        en1 = consent_terms_publish(language="en", text="English.", actor=actor)
        assert (v1.version, v2.version, en1.version) == (1, 2, 1)
        assert same.pk == v1.pk  # unchanged text publishes nothing
        assert v1.text_sha256 == hashlib.sha256(SV_TEXT.encode()).hexdigest()
        assert v2.text_sha256 == hashlib.sha256(b"Ny text.").hexdigest()
        assert v1.published_by == personas.alice
        v1.text = "changed"
        with pytest.raises(ValueError):
            v1.save()
        assert ConsentTerms.objects.get(pk=v1.pk).text == SV_TEXT
        events = AuditEvent.objects.filter(action="consent.terms_published")
        assert events.count() == 3
        assert all(SV_TEXT not in str(e.data) for e in events)


def test_empty_terms_are_refused(personas, in_a):
    with in_a(), pytest.raises(ValidationError) as exc:
        consent_terms_publish(language="sv", text="  ", actor=SYSTEM)
    assert "text" in exc.value.message_dict


@pytest.mark.parametrize(
    ("fields", "channel", "expected"),
    [
        (
            {"email": "a@example.test", "mobile": "+46701111111"},
            "email",
            ("email", "a@example.test"),
        ),
        ({"email": "a@example.test", "mobile": "+46701111111"}, "sms", ("sms", "+46701111111")),
        ({"email": "a@example.test"}, "any", ("email", "a@example.test")),
        ({"mobile": "+46701111111"}, "any", ("sms", "+46701111111")),
    ],
)
def test_request_picks_the_address_of_the_channel(in_a, terms_a, fields, channel, expected):
    with in_a():
        customer = make_customer(name="Kund", **fields)
        request, _token = consent_request_create(customer=customer, channel=channel, actor=SYSTEM)
        assert (request.channel, request.destination) == expected
        assert request.status == RequestStatus.QUEUED
        assert request.terms == terms_a["sv"]  # the tenant's first language
        assert request.dispatch_ready_at is not None  # consent.delivery.request_dispatch ran
        assert consent_status_of(customer)["status"] == "requested"
        assert consent_of(customer)["status"] == "requested"  # customers' hook


@pytest.mark.parametrize(
    ("fields", "channel"),
    [({"mobile": "+46701111111"}, "email"), ({"email": "a@example.test"}, "sms"), ({}, "any")],
)
def test_request_without_an_address_for_the_channel_is_refused(in_a, terms_a, fields, channel):
    with in_a():
        customer = make_customer(name="Kund", **fields)
        with pytest.raises(NoAddressError) as exc:
            consent_request_create(customer=customer, channel=channel, actor=SYSTEM)
        assert "channel" in exc.value.message_dict
        assert not ConsentRequest.objects.exists()


def test_request_needs_terms_in_its_language(in_a, terms_a):
    with in_a():
        customer = make_customer(name="Kund", email="a@example.test")
        with pytest.raises(ValidationError) as exc:
            consent_request_create(customer=customer, channel="email", language="da", actor=SYSTEM)
        assert "language" in exc.value.message_dict


def test_the_token_is_stored_only_as_its_hash(in_a, customer_a):
    with in_a():
        request, token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        assert len(token) >= 32  # token_urlsafe(24): 192 random bits
        assert request.token_hash == hashlib.sha256(token.encode()).hexdigest()
        with connection.cursor() as cursor:
            for table in ("consent_consentrequest", "audit_auditevent", "consent_consentstate"):
                cursor.execute(
                    f"SELECT count(*) FROM {table} t WHERE row_to_json(t)::text LIKE %s",  # noqa: S608
                    [f"%{token}%"],
                )
                assert cursor.fetchone()[0] == 0, table
    located = request_locate(token)
    assert located is not None and located[0] == request.pk
    assert located[1].pk == request.tenant_id


def test_the_token_table_is_closed_to_the_runtime_role(in_a, customer_a):
    with in_a():
        consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM consent_token_private")


def test_lookup_of_a_wrong_or_malformed_token_finds_nothing(in_a, customer_a):
    with in_a():
        consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
    for token in ["", "x" * 32, "a" * 500, "ä" * 32, "'; SELECT 1; --"]:
        assert request_locate(token) is None


def test_decisions_are_append_only_in_the_database(in_a, customer_a, terms_a):
    with in_a():
        decision = consent_record(
            customer=customer_a,
            decision="granted",
            method="manual",
            how="paper",
            terms_version=1,
            note="signed form",
            actor=SYSTEM,
        )
        for sql in (
            "UPDATE consent_consentdecision SET decision = 'declined' WHERE id = %s",
            "DELETE FROM consent_consentdecision WHERE id = %s",
        ):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
                c.execute(sql, [decision.pk])
        with pytest.raises(ValueError):
            decision.save()
        assert ConsentDecision.objects.get(pk=decision.pk).decision == "granted"


def test_erasure_blanks_only_the_personal_fields_of_the_proof(in_a, customer_a, terms_a):
    with in_a():
        decision = consent_record(
            customer=customer_a,
            decision="granted",
            method="pos",
            terms_version=1,
            context={"store": "Gbg", "staff": "Nils"},
            note="note",
            ip="10.1.2.3",
            user_agent="Till/1",
            actor=SYSTEM,
        )
        assert consent_decision_scrub(customer=customer_a) == 1
        decision = ConsentDecision.objects.get(pk=decision.pk)
        assert (decision.ip, decision.user_agent, decision.context, decision.note) == (
            None,
            "",
            {},
            "",
        )
        assert (decision.decision, decision.terms_version) == ("granted", 1)


def test_record_keeps_proof_and_updates_state(in_a, customer_a, terms_a):
    with in_a():
        decision = consent_record(
            customer=customer_a,
            decision="granted",
            method="manual",
            how="phone",
            terms_version=1,
            actor=SYSTEM,
        )
        assert decision.terms_sha256 == terms_a["sv"].text_sha256
        assert decision.terms_language == "sv"
        state = consent_status_of(customer_a)
        assert state["status"] == ConsentStatus.GRANTED
        assert (state["terms_version"], state["method"]) == (1, "manual")
        consent_record(customer=customer_a, decision="withdrawn", method="manual", actor=SYSTEM)
        assert consent_status_of(customer_a)["status"] == "withdrawn"
        actions = list(
            AuditEvent.objects.filter(action__startswith="consent.").values_list(
                "action", flat=True
            )
        )
        assert "consent.granted" in actions and "consent.withdrawn" in actions
        for event in AuditEvent.objects.filter(action__startswith="consent."):
            assert "Åsa" not in str(event.data) and "asa@" not in str(event.data)


def test_granting_needs_a_known_terms_version(in_a, customer_a, terms_a):
    with in_a():
        for version in (None, 99):
            with pytest.raises(ValidationError) as exc:
                consent_record(
                    customer=customer_a,
                    decision="granted",
                    method="pos",
                    terms_version=version,
                    actor=SYSTEM,
                )
            assert "terms_version" in exc.value.message_dict
        assert not ConsentDecision.objects.exists()


def test_row_security_hides_consent_rows_from_other_tenants(in_a, in_b, customer_a):
    with in_a():
        consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        consent_record(
            customer=customer_a, decision="granted", method="pos", terms_version=1, actor=SYSTEM
        )
    tables = [
        "consent_consentterms",
        "consent_consentrequest",
        "consent_consentdecision",
        "consent_consentstate",
    ]
    with in_b(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            assert cursor.fetchone()[0] == 0, table
    with transaction.atomic(), connection.cursor() as cursor:  # no tenant at all
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            assert cursor.fetchone()[0] == 0, table
    with in_a(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            assert cursor.fetchone()[0] >= 1, table
