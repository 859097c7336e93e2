"""Consent from the customer card, end to end, in Debian's Chromium with a Swedish UI.

An office user requests consent by email on the card; a real Celery worker sends the
email through Django's SMTP backend to an aiosmtpd server (fixture ``smtp_server``,
tests/smtp.py); the customer opens the link from that email, accepts, and the card shows
"Samtycke godkänt"; the same link then withdraws it.

The Swedish texts asserted here were translated before this work ("Samtycke begärt",
"Samtycke godkänt", "Samtycke återkallat", the consent page's buttons); the panel's own
new controls are found by their ids, so the test does not wait for the merge of
locale/fragments/card.sv.po.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from audit.actors import Actor
from consent.models import ConsentDecision, ConsentRequest
from consent.services import consent_request_create, consent_terms_publish
from tenancy.context import tenant_context
from tests.factories import make_customer
from tests.personas import PASSWORD

pytestmark = pytest.mark.browser
TERMS = "Vi sparar dina uppgifter för att kunna ge dig service.\nDu kan när som helst återkalla."
LINK = re.compile(r"https?://\S+/c/[A-Za-z0-9_-]+")


def log_in_in_swedish(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/$"))
    # The select submits itself from app.js (deferred): a change before it ran did nothing.
    page.wait_for_load_state("load")
    page.get_by_label("Language").select_option(label="svenska")
    expect(page.locator("html")).to_have_attribute("lang", "sv")


def sent_mail(smtp_server, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not smtp_server.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert smtp_server.messages, "the worker sent no email"
    return smtp_server.messages[0]


def test_the_consent_page_can_be_answered_in_chromium(browser, live_app, live_personas):
    with tenant_context(live_personas.tenant_a):
        consent_terms_publish(language="sv", text=TERMS, actor=Actor.system("browser-test"))
        customer = make_customer(name="Åsa Lind", email="asa@example.test", language="sv")
        _request, token = consent_request_create(
            customer=customer, channel="email", actor=Actor.system("browser-test")
        )
    context = browser.new_context(base_url=live_app, locale="sv-SE")
    try:
        page = context.new_page()
        page.goto(f"/c/{token}")
        page.get_by_role("button", name="Jag godkänner").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Tack. Ditt samtycke har registrerats.", timeout=3000
        )
    finally:
        context.close()


def test_request_by_email_accept_through_the_link_then_withdraw(
    page,
    browser,
    live_app,
    live_personas,
    celery_worker,
    smtp_server,
    settings,
):
    settings.SITE_URL = live_app  # the link in the email points at this server
    with tenant_context(live_personas.tenant_a):
        consent_terms_publish(language="sv", text=TERMS, actor=Actor.system("browser-test"))
        customer = make_customer(name="Åsa Lind", email="asa@example.test", language="sv")
    card = f"/customers/{customer.pk}/"

    log_in_in_swedish(page, "bob")
    page.goto(card)
    panel = page.locator("#consent")
    expect(panel.locator("#consent-status")).to_have_text("Inget samtycke")
    panel.locator("#consent-request summary").click()
    panel.locator("#id_consent-request-channel").select_option("email")
    expect(panel.locator("#id_consent-request-language")).to_have_value("sv")
    panel.locator("#consent-request-form button[type=submit]").click()

    expect(page).to_have_url(re.compile(rf"{card}#consent$"))
    expect(page.locator("#consent-status")).to_have_text("Samtycke begärt")
    expect(page.locator(".card-header .consent-badge")).to_have_text("Samtycke begärt")
    expect(panel.locator("table.consent-requests")).to_contain_text("a***@example.test")

    # The real worker sends the email over SMTP; the customer opens its link.
    recipients, mail = sent_mail(smtp_server)
    assert recipients == ["asa@example.test"]
    body = mail.get_content()
    assert "Åsa Lind" in body
    link = LINK.search(body).group(0)
    assert link.startswith(live_app + "/c/")

    customer_side = browser.new_context(locale="sv-SE")
    try:
        link_page = customer_side.new_page()
        link_page.goto(link)
        expect(link_page.locator(".consent-terms")).to_contain_text("Vi sparar dina uppgifter")
        link_page.get_by_role("button", name="Jag godkänner").click()
        expect(link_page.get_by_role("status")).to_contain_text(
            "Tack. Ditt samtycke har registrerats."
        )

        page.goto(card)
        expect(page.locator(".card-header .consent-badge")).to_have_text("Samtycke godkänt")
        expect(page.locator("#consent-status")).to_have_text("Samtycke godkänt")
        expect(page.locator("table.consent-requests")).to_have_count(0)  # answered

        # Withdrawing is as easy as giving: the same link.
        link_page.goto(link)
        link_page.get_by_role("button", name="Återkalla mitt samtycke").click()
        expect(link_page.get_by_role("status")).to_contain_text("Ditt samtycke har återkallats.")
    finally:
        customer_side.close()

    page.goto(card)
    expect(page.locator(".card-header .consent-badge")).to_have_text("Samtycke återkallat")
    expect(page.locator("#consent-status")).to_have_text("Samtycke återkallat")
    page.locator("#consent-history summary").click()
    rows = page.locator("table.consent-decisions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Samtycke återkallat")
    expect(rows.nth(1)).to_contain_text("Samtycke givet")
    with tenant_context(live_personas.tenant_a):
        assert ConsentRequest.objects.get(customer=customer).status == "accepted"
        decisions = list(
            ConsentDecision.objects.filter(customer=customer).values_list("decision", "method")
        )
    assert decisions == [("withdrawn", "link"), ("granted", "link")]
    assert len(smtp_server.messages) == 1  # one request, one email
