"""The card's history tab reads as sentences and tells what the change records did not
(issue 14, item 10): consent decisions, contacts linked, unlinked and deleted.

Before: rows of "Customeridcard | Block_code | True | False", raw timestamps, "User 1",
and no consent decision, contact deletion or contact link at all."""

from __future__ import annotations

import re

import pytest

from audit.actors import Actor
from customers.services.addresses import address_add
from customers.services.contacts import contact_create, contact_delete, contact_link
from customers.services.customers import customer_update
from tenancy.context import tenant_context
from tests.factories import consent_granted_by_link, make_customer


@pytest.fixture
def card(personas):
    alice = personas.alice
    alice.first_name, alice.last_name = "Anna", "Berg"
    alice.save()
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Östergård Bygg AB", country="SE")
        other = make_customer(name="Berg & Son AB")
        address_add(
            customer=customer,
            actor=Actor.user(alice),
            user=alice,
            kind="delivery",
            line1="Hamnvägen 5",
            postcode="211 22",
            city="Malmö",
            country="SE",
        )
        shared = contact_create(
            customer=other,
            actor=Actor.user(alice),
            user=alice,
            first_name="Åsa",
            last_name="Lind",
        )
        contact_link(contact=shared, customer=customer, actor=Actor.user(alice))
        gone = contact_create(
            customer=customer,
            actor=Actor.user(alice),
            user=alice,
            first_name="Per",
            last_name="Holm",
        )
        contact_delete(contact=gone, actor=Actor.user(personas.bob), user=personas.bob)
        consent_granted_by_link(customer, language="en", texts=("Terms", "Terms 2"))
        customer_update(
            customer=customer, actor=Actor.user(alice), user=alice, credit_limit_amount=50000
        )
        customer_update(
            customer=customer, actor=Actor.user(alice), user=alice, reference_required=True
        )
    return customer, shared, gone


def _text(response) -> str:
    body = response.content.decode()
    body = body[body.index('class="table history"') :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_history_reads_as_sentences_with_decisions_links_and_deletions(personas, card):
    customer, shared, gone = card
    response = personas.client(personas.bea).get(f"/customers/{customer.pk}/history/")
    assert response.status_code == 200
    text = _text(response)
    name = f"{customer.number} Östergård Bygg AB"
    assert "Anna Berg added the delivery address Hamnvägen 5, 211 22, Malmö." in text
    assert f"Anna Berg linked the contact Åsa Lind ({shared.number}) to the customer" in text
    assert f"bob deleted the contact contact {gone.number} for good." in text
    assert f"{name} granted consent through the link, terms version 2." in text
    assert "Anna Berg set credit limit to 50,000.00." in text
    assert "Anna Berg changed your reference required from No to Yes." in text
    # Actors by name, no internal names, no raw values, no microseconds.
    for raw in ("Customeridcard", "User 1", "True", "False", "{'", "customer_id", "+00:00"):
        assert raw not in text, raw
    assert not re.search(r"\d\d:\d\d:\d\d\.\d+", text)
    # Newest first: the last change leads, the customer's creation is last.
    assert (
        text.index("from No to Yes")
        < text.index("granted consent")
        < text.index("created the customer")
    )


def test_the_customer_link_goes_to_the_card_under_the_company_prefix(personas, card):
    customer, _shared, _gone = card
    body = personas.client(personas.bea).get(f"/customers/{customer.pk}/history/").content
    assert f'href="/t/nordljus/customers/{customer.pk}/"'.encode() in body


def test_finance_stays_hidden_from_staff(personas, card):
    customer, _shared, _gone = card
    text = _text(personas.client(personas.bob).get(f"/customers/{customer.pk}/history/"))
    assert "credit limit" not in text and "50,000" not in text
    assert "granted consent" in text  # the rest is there


def test_another_tenant_sees_nothing(personas, card):
    customer, _shared, _gone = card
    assert (
        personas.client(personas.charlie).get(f"/customers/{customer.pk}/history/").status_code
        == 404
    )


def test_merged_pages_keep_time_order(personas, card):
    customer, _shared, _gone = card
    with tenant_context(personas.tenant_a):
        for n in range(55):
            customer_update(customer=customer, actor=Actor.system("t"), phone=f"070-12{n:05d}")
    bea = personas.client(personas.bea)
    first = bea.get(f"/customers/{customer.pk}/history/")
    second = bea.get(f"/customers/{customer.pk}/history/?page=2")
    rows = first.context["rows"] + second.context["rows"]
    assert len(first.context["rows"]) == 50
    stamps = [row.at for row in rows]
    assert stamps == sorted(stamps, reverse=True)
    assert any("granted consent" in str(row.sentence) for row in second.context["rows"])


def test_history_in_swedish(personas, card):
    customer, shared, _gone = card
    client = personas.client(personas.bea)
    client.cookies["django_language"] = "sv"
    text = _text(client.get(f"/customers/{customer.pk}/history/", HTTP_ACCEPT_LANGUAGE="sv"))
    assert "Anna Berg lade till en leveransadress: Hamnvägen 5" in text
    assert f"Anna Berg kopplade kontakten Åsa Lind ({shared.number}) till kunden" in text
    assert "gav samtycke via länken, villkorsversion 2." in text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", text)  # ISO-like, minutes
