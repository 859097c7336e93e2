"""The Reports page in a real browser: pick a report and a filter, see it, download the CSV."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from audit.actors import Actor
from audit.models import AuditEvent
from customers.models import Customer
from customers.services.addresses import address_add
from tenancy.context import tenant_context
from tests.browser.test_customer_list import log_in
from tests.factories import ReferenceEntryFactory, make_customer

pytestmark = pytest.mark.browser


@pytest.fixture
def customers(live_personas):
    p = live_personas
    with tenant_context(p.tenant_a):
        norr = ReferenceEntryFactory(register="district", code="N", name="Norr")
        oster = make_customer(
            name="Östergård Bygg AB", number="1003", phone="08-123 45 67", district=norr
        )
        address_add(customer=oster, actor=Actor.system("test"), city="Malmö")
        make_customer(
            name="Sørensen & Søn ApS", number="1001", mobile="070-765 43 21", district=norr
        )
        # Typed before numbers were checked: a formula the exports must defuse.
        legacy = make_customer(name="Åhléns Handel", number="1002")
        Customer.objects.filter(pk=legacy.pk).update(phone="=1+1")
    with tenant_context(p.tenant_b):
        make_customer(name="Østergaard Fjord AS", number="1003", country="NO")
    return p


def test_phone_list_for_a_filter_then_csv(page, customers):
    log_in(page, "bob")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")

    page.get_by_role("combobox", name="Report", exact=True).select_option(label="Phone list")
    page.get_by_label("District").select_option(label="N Norr")
    page.get_by_role("button", name="Show report").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Phone list")
    rows = page.locator("#report-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Sørensen & Søn ApS")
    expect(rows.first).to_contain_text("070-765 43 21")
    expect(rows.nth(1)).to_contain_text("Östergård Bygg AB")
    expect(rows.nth(1)).to_contain_text("Malmö")
    expect(page.get_by_text("Åhléns Handel")).to_have_count(0)  # another district
    expect(page.get_by_text("Østergaard Fjord AS")).to_have_count(0)  # another tenant

    # Sort by number: a header link.
    page.locator("#report-rows thead").get_by_role("link", name="Customer number").click()
    expect(rows.first).to_contain_text("1001")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export to CSV").click()
    assert download.value.suggested_filename.startswith("phones-")
    with open(download.value.path(), encoding="utf-8-sig") as file:
        content = file.read()
    table = list(csv.reader(io.StringIO(content)))
    assert table[0] == ["Customer number", "Name", "Phone", "Mobile", "Email", "City"]
    assert [r[1] for r in table[1:]] == ["Sørensen & Søn ApS", "Östergård Bygg AB"]

    with tenant_context(customers.tenant_a):
        event = AuditEvent.objects.filter(action="reports.exported").latest("seq")
    assert event.data["count"] == 2 and event.data["complete"] is True
    assert event.data["filters"] == ["district"]
