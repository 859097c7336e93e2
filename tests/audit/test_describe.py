"""Audit entries read as sentences (issue 14, item 10): the actor by name, the customer
linked to its card, codes by their labels, in the active language; never a raw dict.

Before: the audit page showed ``consent.granted`` and ``{'customer_id': 299, ...}``, the
actor as "User 1"."""

from __future__ import annotations

import pytest
from django.utils import translation

from audit import describe as d
from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_record
from consent.services import consent_record
from customers.models import Contact
from customers.services.contacts import contact_create, contact_delete
from tenancy.context import tenant_context
from tests.factories import consent_granted_by_link, make_customer


@pytest.fixture
def anna(personas):
    personas.alice.first_name, personas.alice.last_name = "Anna", "Berg"
    personas.alice.save()
    return personas.alice


def _one(event, **kwargs) -> d.Entry:
    return d.describe([event], **kwargs)[0]


def test_consent_granted_through_the_link_reads_as_a_sentence(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Östergård Bygg AB")
        consent_granted_by_link(customer, language="en")
        event = AuditEvent.objects.get(action="consent.granted")
        entry = _one(event)
    sentence = str(entry.sentence)
    assert "granted consent through the link, terms version 1." in sentence
    assert f'href="/t/nordljus/customers/{customer.pk}/"' in sentence or (
        f'href="/customers/{customer.pk}/"' in sentence
    )
    assert f"{customer.number} Östergård Bygg AB" in sentence
    assert entry.actor == "The customer"
    assert "{" not in sentence and "customer_id" not in sentence


def test_user_actor_by_name_and_fields_by_label(personas, anna):
    with tenant_context(personas.tenant_a):
        customer = make_customer()
        event = audit_record(
            action="customer.updated",
            actor=Actor.user(anna),
            object_type="customer",
            object_id=customer.pk,
            data={"fields": ["email", "credit_limit_amount"]},
        )
        entry = _one(event)
    assert entry.actor == "Anna Berg"
    assert str(entry.sentence).startswith("Anna Berg changed email, credit limit of the customer")


def test_api_key_by_name_and_scopes_by_label(personas):
    with tenant_context(personas.tenant_a):
        from tenancy.models import ApiKey

        key = ApiKey.objects.get(name="Till A")
        event = audit_record(
            action="api_key.created",
            actor=Actor.api_key(key),
            object_type="api_key",
            object_id=key.prefix,
            data={"scopes": ["customers:read"]},
        )
        entry = _one(event)
    assert entry.actor == "API key “Till A”"
    assert "created the API key “Till A” with the scopes Read customers." in str(entry.sentence)


def test_contact_deletion_names_the_customers_and_the_tombstone(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer()
        contact = contact_create(
            customer=customer, actor=Actor.system("t"), first_name="Åsa", last_name="Lind"
        )
        contact_delete(contact=contact, actor=Actor.user(personas.bob))
        event = AuditEvent.objects.get(action="contact.deleted")
        entry = _one(event)
        number = Contact.objects.get(pk=contact.pk).number
    # The entry names the customers by id (no names in the log) ...
    assert event.data == {"customers": [customer.pk]}
    # ... and reads with the tombstone's number; the erased name never comes back.
    assert str(entry.sentence) == f"bob deleted the contact contact {number} for good."
    assert "Åsa" not in str(entry.sentence)


def test_anonymized_and_deleted_customers_show_as_such(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer()
        from customers.models import Customer

        Customer.objects.filter(pk=customer.pk).update(status="anonymized", name="")
        gone = audit_record(
            action="customer.deleted",
            actor=Actor.system("t"),
            object_type="customer",
            object_id=987654,
        )
        held = audit_record(
            action="legal_hold.set",
            actor=Actor.system("t"),
            object_type="customer",
            object_id=customer.pk,
            data={"hold": 1},
        )
        entries = d.describe([held, gone])
    assert f"anonymized customer {customer.number}" in str(entries[0].sentence)
    assert "customer 987654 (deleted)" in str(entries[1].sentence)


def test_an_unknown_action_still_reads_as_a_sentence_never_a_dict(personas):
    with tenant_context(personas.tenant_a):
        event = audit_record(
            action="benchmark.event",
            actor=Actor.system("t"),
            object_type="thing",
            object_id="7",
            data={"channel": "email", "customer_id": 299},
        )
        entry = _one(event)
    # The label made readable, the customer the data names resolved (here: gone).
    assert str(entry.sentence) == "The system: Benchmark: event, customer 299 (deleted)."
    assert "{" not in str(entry.sentence)
    assert '"customer_id": 299' in entry.raw  # the stored entry, for auditors


def test_every_known_action_reads_even_with_data_of_another_shape(personas):
    """Old entries may lack keys or hold other types: a sentence all the same."""
    with tenant_context(personas.tenant_a):
        events = [
            audit_record(action=code, actor=Actor.system("t"), data={"fields": "x", "count": "?"})
            for code in d.known_actions()
        ]
        entries = d.describe(events)
        plain = d.describe(events, as_html=False)
    assert len(entries) == len(d.known_actions()) >= 90
    for entry in entries + plain:
        assert entry.sentence and "{" not in str(entry.sentence), entry.event.action


def test_files_name_customers_by_number_only(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Östergård Bygg AB")
        event = audit_record(
            action="customer.created",
            actor=Actor.system("t"),
            object_type="customer",
            object_id=customer.pk,
        )
        entry = _one(event, as_html=False)
    assert entry.sentence == f"The system created the customer customer {customer.number}."
    assert "Östergård" not in entry.sentence


def test_sentences_in_swedish(personas, anna):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Östergård Bygg AB")
        consent_granted_by_link(customer, language="sv", texts=("Villkor", "Villkor 2"))
        consent_record(
            customer=customer,
            decision="withdrawn",
            method="manual",
            how="phone",
            actor=Actor.user(anna),
            language="sv",
        )
        events = list(
            AuditEvent.objects.filter(action__in=["consent.granted", "consent.withdrawn"]).order_by(
                "created_at", "id"
            )
        )
        with translation.override("sv"):
            granted, withdrawn = d.describe(events)
            label = d.action_label("consent.granted")
    name = f"{customer.number} Östergård Bygg AB"
    assert (
        d.sentence_text(granted.sentence) == f"{name} gav samtycke via länken, villkorsversion 2."
    )
    assert d.sentence_text(withdrawn.sentence).startswith(
        f"Anna Berg registrerade att {name} återkallade samtycket ("
    )
    assert label != "Consent granted"
    # ISO-like time in Swedish, minutes at most (no microseconds).
    assert granted.when.count(":") == 1 and granted.when[4] == "-"
