"""Label sheets in a real browser: run the "could not reach" report, download its labels."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from audit.actors import Actor
from audit.models import AuditEvent
from customers.services.addresses import address_add
from customers.services.contacts import contact_create
from tenancy.context import tenant_context
from tests.browser.test_customer_list import log_in
from tests.factories import make_customer

pytestmark = pytest.mark.browser


@pytest.fixture
def customers(live_personas):
    p = live_personas
    system = Actor.system("test")
    with tenant_context(p.tenant_a):
        # Never asked, neither email nor mobile: to write to by post.
        soren = make_customer(name="Sørensen & Søn ApS", number="1001", email="", country="DK")
        address_add(
            customer=soren, actor=system, line1="Nørregade 4", postcode="1165", city="København K"
        )
        contact_create(customer=soren, actor=system, first_name="Åsa", last_name="Ørsted")
        contact_create(customer=soren, actor=system, first_name="Nils", last_name="Ek")
        make_customer(name="Östergård Bygg AB", number="1002", email="info@ostergard.se")
    return p


def test_could_not_reach_then_label_sheet(page, customers):
    log_in(page, "bob")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.get_by_role("combobox", name="Report", exact=True).select_option(label="Could not reach")
    page.get_by_label("Start at label position").fill("2")
    page.get_by_role("button", name="Show report").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Could not reach")
    rows = page.locator("#report-rows tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Sørensen & Søn ApS")

    with page.expect_download() as download:
        page.get_by_role("link", name="Label sheet (PDF)").click()
    assert download.value.suggested_filename.startswith("labels-unreachable-")
    with open(download.value.path(), "rb") as file:
        assert file.read(5) == b"%PDF-"
    reader = PdfReader(download.value.path())
    assert len(reader.pages) >= 1
    text = reader.pages[0].extract_text()
    assert "Att: Åsa Ørsted" in text and "Att: Nils Ek" in text
    assert "Östergård" not in text

    with tenant_context(customers.tenant_a):
        event = AuditEvent.objects.filter(action="reports.exported").latest("seq")
    assert event.data["format"] == "labels" and event.data["count"] == 2
