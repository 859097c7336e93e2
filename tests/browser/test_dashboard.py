"""The dashboard in Chromium, in Swedish: the SVG charts render (under the CSP: the page
fixture fails on any violation), the "show as table" toggle opens, and a chart's bar leads
to the customer list filtered by it.

The Swedish texts asserted here were translated before this work (the consent statuses,
"Logga ut"); the dashboard's own new texts are found by ids, so the test does not wait for
the merge of locale/fragments/dashboard.sv.po.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.actors import Actor
from consent.services import consent_record, consent_terms_publish
from customers.models import Customer
from tenancy.context import tenant_context
from tests.browser.test_consent_flow import log_in_in_swedish
from tests.factories import make_customer

pytestmark = pytest.mark.browser
SYSTEM = Actor.system("test")


@pytest.fixture
def customers(live_personas):
    p = live_personas
    now = timezone.now()
    with tenant_context(p.tenant_a):
        consent_terms_publish(language="sv", text="Vi sparar dina uppgifter.", actor=SYSTEM)
        granted = make_customer(name="Östergård Bygg AB", number="1001")
        consent_record(
            customer=granted,
            decision="granted",
            method="manual",
            how="in_person",
            actor=SYSTEM,
            language="sv",
            terms_version=1,
        )
        recent = make_customer(name="Åhléns Handel", number="1002")
        quiet = make_customer(name="Sjöberg Måleri", number="1003")
        Customer.objects.filter(pk=granted.pk).update(last_activity_at=None)
        Customer.objects.filter(pk=recent.pk).update(last_activity_at=now - dt.timedelta(days=5))
        Customer.objects.filter(pk=quiet.pk).update(last_activity_at=now - dt.timedelta(days=400))
    return p


def test_dashboard_in_swedish(page, customers):
    log_in_in_swedish(page, "alice")
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "sv")

    # The charts: server-drawn SVG with a bar (a link) per bucket and per month.
    activity = page.locator("svg#chart-activity")
    expect(activity).to_be_visible()
    expect(activity.locator("rect.chart-bar")).to_have_count(7)
    expect(page.locator("svg#chart-forecast rect.chart-bar")).to_have_count(12)
    consent = page.locator("svg#chart-consent")
    expect(consent).to_be_visible()
    expect(consent.locator("text.chart-legend").first).to_contain_text("Samtycke godkänt: 1")
    expect(consent).to_contain_text("Inget samtycke: 2")

    # The numbers as a table: hidden until its toggle opens it.
    table = page.locator("#table-activity")
    expect(table).to_be_hidden()
    page.locator("#dashboard-activity details summary").click()
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(7)
    expect(table.locator("tbody tr").first.locator("td").nth(1)).to_have_text("1")

    # A chart's segment leads to the list filtered by it.
    consent.locator("a.chart-link").first.click()
    expect(page).to_have_url(re.compile(r"/customers/\?consent=granted$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Kunder")
    expect(page.get_by_role("link", name="Östergård Bygg AB", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Åhléns Handel", exact=True)).to_have_count(0)

    # A bar of the activity chart: quiet for 12 months or more (the 12 to 24 bucket).
    page.go_back()
    page.locator("svg#chart-activity a.chart-link").nth(3).click()
    expect(page).to_have_url(re.compile(r"last_activity_before=\d{4}-\d{2}-\d{2}"))
    expect(page.get_by_role("link", name="Sjöberg Måleri", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Åhléns Handel", exact=True)).to_have_count(0)
