"""The customer's consent page on a phone (issue 14, item 9), in Debian's Chromium:
390x844, the company's name in the header, the language picker switches the page and
its terms, and nothing scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from audit.actors import Actor
from consent.services import consent_request_create, consent_terms_publish
from tenancy.context import tenant_context
from tests.factories import make_customer

pytestmark = pytest.mark.browser
SV = "Vi sparar dina uppgifter för att kunna ge dig service. Du kan när som helst återkalla."
DA = "Vi gemmer dine oplysninger for at kunne yde dig service. Du kan altid trække det tilbage."


def test_consent_page_on_a_phone_switches_language(browser, live_app, live_personas):
    actor = Actor.system("browser-test")
    with tenant_context(live_personas.tenant_a):
        consent_terms_publish(language="sv", text=SV, actor=actor)
        consent_terms_publish(language="da", text=DA, actor=actor)
        customer = make_customer(name="Åsa Lind", email="asa@example.test", language="sv")
        _request, token = consent_request_create(customer=customer, channel="email", actor=actor)
    context = browser.new_context(
        base_url=live_app, locale="sv-SE", viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        page.goto(f"/c/{token}")
        header = page.locator("header.public-header")
        expect(header).to_contain_text("Nordljus AB")
        expect(header).not_to_contain_text("Kundreg")
        expect(page.locator("html")).to_have_attribute("lang", "sv")
        expect(page.locator(".consent-terms")).to_contain_text("Vi sparar dina uppgifter")
        picker = page.get_by_role("navigation", name="Språk")
        expect(picker.get_by_role("link", name="Svenska")).to_have_attribute("aria-current", "true")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        picker.get_by_role("link", name="Dansk").click()
        expect(page.locator("html")).to_have_attribute("lang", "da")
        expect(page.locator(".consent-terms")).to_contain_text("Vi gemmer dine oplysninger")
        expect(page.get_by_role("heading", level=1)).to_have_text("Samtykke til Nordljus AB")
        accept = page.get_by_role("button", name="Jeg accepterer")
        expect(accept).to_be_visible()
        # Full-width buttons on a phone: the button spans (nearly) the whole main column.
        assert accept.bounding_box()["width"] > 300
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        accept.click()
        expect(page.get_by_role("status")).to_contain_text("Tak. Dit samtykke er registreret.")
        expect(page.locator("html")).to_have_attribute("lang", "da")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
