"""The card's history tab in Chromium, as a Swedish user (issue 14, item 10): each entry a
Swedish sentence with the person's name, the field's label and an ISO-like time, and the
consent decision and contact link among them.

Before: rows of internal names ("Customeridcard", "Block_code"), raw values, "User 1", and
no consent decision or contact link at all."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from audit.actors import Actor
from customers.services.addresses import address_add
from customers.services.contacts import contact_create, contact_link
from customers.services.customers import customer_update
from tenancy.context import tenant_context
from tests.factories import consent_granted_by_link, make_customer
from tests.personas import PASSWORD

pytestmark = pytest.mark.browser


def test_the_history_tab_reads_as_swedish_sentences(
    browser,
    live_app,
    live_personas,
):
    p = live_personas
    p.bob.first_name, p.bob.last_name = "Anna", "Berg"
    p.bob.save()
    anna = Actor.user(p.bob)
    with tenant_context(p.tenant_a):
        customer = make_customer(name="Östergård Bygg AB")
        address_add(
            customer=customer,
            actor=anna,
            user=p.bob,
            kind="delivery",
            line1="Hamnvägen 5",
            postcode="211 22",
            city="Malmö",
            country="SE",
        )
        other = make_customer(name="Berg & Son AB")
        contact = contact_create(customer=other, actor=anna, first_name="Åsa", last_name="Lind")
        contact_link(contact=contact, customer=customer, actor=anna)
        consent_granted_by_link(customer, language="sv", texts=("Villkor",))
        customer_update(customer=customer, actor=anna, user=p.bob, reference_required=True)

    context = browser.new_context(base_url=live_app, locale="sv-SE")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/accounts/login/")
        page.locator("#id_username").fill("bob")
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        expect(page).to_have_url(re.compile(r"/$"))
        page.goto(f"/customers/{customer.pk}/")
        expect(page.locator("html")).to_have_attribute("lang", "sv")
        page.get_by_role("link", name="Historik").click()
        expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/history/$"))

        history = page.locator("table.history")
        expect(history).to_contain_text(
            "Anna Berg lade till en leveransadress: Hamnvägen 5, 211 22, Malmö."
        )
        expect(history).to_contain_text(
            f"Anna Berg kopplade kontakten Åsa Lind ({contact.number}) till kunden "
            f"{customer.number} Östergård Bygg AB."
        )
        expect(history).to_contain_text(
            f"{customer.number} Östergård Bygg AB gav samtycke via länken, villkorsversion 1."
        )
        expect(history).to_contain_text("Anna Berg ändrade ")
        expect(history).to_contain_text(" från Nej till Ja.")
        # Times ISO-like, to the minute; nothing internal or raw.
        first_time = history.locator("tbody tr td time").first
        expect(first_time).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"))
        text = history.inner_text()
        for raw in ("Customeridcard", "User 1", "True", "False", "{'", "customer_id"):
            assert raw not in text, raw
        # The customer in a sentence links to its card.
        link = history.get_by_role("link", name=f"{customer.number} Östergård Bygg AB").first
        expect(link).to_have_attribute("href", re.compile(rf"/customers/{customer.pk}/$"))
        assert not errors, errors
    finally:
        context.close()
