"""The settings area in Chromium (issue 14, items 2 and 3): an admin reaches every settings
page from the navigation in two clicks and switches SMS on; roles without settings see no
entry and are refused; another company's settings do not exist."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from notifications.selectors import notification_settings
from tenancy.context import tenant_context
from tests.browser.test_ui import log_in

pytestmark = pytest.mark.browser

# Menu label → the page's heading.
PAGES = {
    "Company": "Company settings",
    "Numbering": "Numbering",
    "Registers": "Reference registers",
    "Consent texts": "Consent terms",
    "SMS": "SMS",
    "Retention": "Retention",
    "Reports": "Reports",
    "Users": "Users",
    "API keys": "API keys",
    "Webhooks": "Webhooks",
}


def _menu(page: Page):
    return page.get_by_role("navigation", name="Settings")


def test_an_admin_reaches_every_settings_page_in_two_clicks_and_switches_sms_on(
    page, live_personas
):
    log_in(page, "alice")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nordljus AB")
    for label, heading in PAGES.items():
        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Settings", exact=True
        ).click()  # 1
        expect(page).to_have_url(re.compile(r"/t/nordljus/settings/$"))
        _menu(page).get_by_role("link", name=label, exact=True).click()  # 2
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        # The page shows the same menu, with itself marked current.
        current = _menu(page).locator('a[aria-current="page"]')
        expect(current).to_have_text(label)
        expect(_menu(page).get_by_role("link")).to_have_count(len(PAGES))

    # The consent text's languages are tabs: a row without bullets.
    _menu(page).get_by_role("link", name="Consent texts").click()
    tabs = page.get_by_role("navigation", name="Language").locator("ul")
    expect(tabs).to_have_css("display", "flex")
    expect(tabs).to_have_css("list-style-type", "none")

    # SMS: off until an administrator switches it on.
    _menu(page).get_by_role("link", name="SMS", exact=True).click()
    expect(page.locator("#sms-status")).to_contain_text("Off")
    page.get_by_label("Send SMS").check()
    page.get_by_label("Sender name or number").fill("Nordljus AB1")  # 12 characters
    page.get_by_label("Most SMS per month").fill("250")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("at most 11 characters")
    page.get_by_label("Sender name or number").fill("Nordljus")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("SMS is switched on.")
    expect(page.locator("#sms-status")).to_contain_text("0 SMS of at most 250 sent this month.")
    with tenant_context(live_personas.tenant_a):
        settings = notification_settings()
        assert (settings.sms_enabled, settings.sms_sender, settings.sms_monthly_cap) == (
            True,
            "Nordljus",
            250,
        )


@pytest.mark.parametrize("who", ["bob", "erik"])
def test_staff_and_employees_see_no_settings_and_are_refused(page, live_personas, who):
    log_in(page, who)
    expect(page.get_by_role("heading", level=1)).to_have_text("Nordljus AB")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    for path in ("/settings/", "/settings/sms/", "/settings/numbering/", "/settings/api-keys/"):
        response = page.goto(f"/t/nordljus{path}")
        assert response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
        expect(_menu(page)).to_have_count(0)


def test_another_companys_admin_finds_no_settings_there(page, live_personas):
    log_in(page, "charlie")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fjordvik AS")
    for path in ("/settings/", "/settings/sms/"):
        response = page.goto(f"/t/nordljus{path}")
        assert response.status == 404, path
        expect(page.locator("body")).not_to_contain_text("Nordljus")
    page.goto("/t/fjordvik/settings/")
    expect(_menu(page).get_by_role("link", name="SMS", exact=True)).to_have_attribute(
        "href", "/t/fjordvik/settings/sms/"
    )
