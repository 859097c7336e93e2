"""The customer list and the own selection in a real browser (fixtures: conftest.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from audit.actors import Actor
from customers.services.addresses import address_add
from tenancy.context import tenant_context
from tests.factories import make_customer
from tests.personas import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


@pytest.fixture
def customers(live_personas):
    p = live_personas
    with tenant_context(p.tenant_a):
        oster = make_customer(name="Östergård Bygg AB", number="1003", phone="070-123 45 67")
        address_add(customer=oster, actor=Actor.system("test"), city="Malmö")
        make_customer(name="Sørensen & Søn ApS", number="1001")
        make_customer(name="Åhléns Handel", number="1002")
    with tenant_context(p.tenant_b):
        make_customer(name="Østergaard Fjord AS", number="1003", country="NO")
    return p


def results(page: Page):
    return page.locator("#customer-results tbody tr")


def test_search_with_and_without_accents(page, customers):
    log_in(page, "bob")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
    search = page.get_by_role("searchbox", name="Search")
    expect(search).to_be_focused()  # autofocus: type straight away
    expect(results(page)).to_have_count(3)
    # htmx binds its handlers when the deferred script has run; keys typed before that
    # would go unheard (on a busy CI machine this raced).
    page.wait_for_load_state("load")

    # Typing re-renders only the results (htmx) and puts the search in the address bar.
    page.keyboard.type("ostergard")
    expect(results(page)).to_have_count(1, timeout=15_000)
    expect(results(page).first).to_contain_text("Östergård Bygg AB")
    expect(results(page).first).to_contain_text("Malmö")
    expect(page).to_have_url(re.compile(r"/customers/\?.*q=ostergard"))
    expect(page.locator("#result-live")).to_have_text("1 customer")  # read out by screen readers
    expect(search).to_be_focused()

    search.fill("")
    page.keyboard.type("ØSTERGÅRD")
    expect(results(page)).to_have_count(1)
    expect(results(page).first).to_contain_text("Östergård Bygg AB")
    # Tenant B's Østergaard never shows up in tenant A.
    expect(page.get_by_text("Østergaard Fjord AS")).to_have_count(0)

    search.fill("+46 70 123 45 67")
    search.press("Enter")
    expect(results(page)).to_have_count(1)
    expect(results(page).first).to_contain_text("1003")

    search.fill("nobody-like-this")
    search.press("Enter")
    expect(page.locator("#result-count")).to_have_text("0 customers")


def test_search_works_without_javascript(page_without_js, customers):
    page = page_without_js
    log_in(page, "bob")
    page.goto("/customers/")
    page.get_by_role("searchbox", name="Search").fill("østergård")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page).to_have_url(re.compile(r"q=%C3%B8sterg%C3%A5rd"))
    expect(results(page)).to_have_count(1)
    expect(results(page).first).to_contain_text("Östergård Bygg AB")


def test_sorting_by_column_header(page, customers):
    log_in(page, "bob")
    page.goto("/customers/")
    page.get_by_role("link", name="Number").click()
    number = page.get_by_role("columnheader", name="Number")
    expect(number).to_have_attribute("aria-sort", "ascending")
    expect(results(page).first).to_contain_text("1001")
    page.get_by_role("link", name="Number").click()
    expect(number).to_have_attribute("aria-sort", "descending")
    expect(results(page).first).to_contain_text("1003")


def test_add_to_and_remove_from_own_selection(page, customers):
    log_in(page, "bob")
    page.goto("/customers/")
    page.get_by_label("Add to my selection: 1003 Östergård Bygg AB").check()
    page.get_by_label("Add to my selection: 1001 Sørensen & Søn ApS").check()
    page.get_by_role("button", name="Add selected to my selection").click()
    expect(page.locator(".messages")).to_contain_text("2 customers were added to your selection.")
    # Those rows are marked as already in the selection.
    expect(page.get_by_label("Add to my selection: 1003 Östergård Bygg AB")).to_have_count(0)

    page.get_by_role("link", name="My selection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My selection")
    expect(page.locator("tbody tr")).to_have_count(2)

    # Add one more by its number, and try one that does not exist.
    page.get_by_label("Customer numbers").fill("1002, 9999")
    page.get_by_role("button", name="Add to selection").click()
    expect(page.locator(".field-error")).to_contain_text("No customer has the number 9999.")
    expect(page.get_by_label("Customer numbers")).to_have_value("9999")
    expect(page.locator("tbody tr")).to_have_count(3)

    # Remove two at once.
    page.get_by_label("Remove from my selection: 1003 Östergård Bygg AB").check()
    page.get_by_label("Remove from my selection: 1002 Åhléns Handel").check()
    page.get_by_role("button", name="Remove selected").click()
    expect(page.locator(".messages")).to_contain_text("2 customers were removed")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr").first).to_contain_text("Sørensen & Søn ApS")

    # Clearing asks for confirmation first.
    page.get_by_role("link", name="Clear selection").click()
    expect(page.get_by_text("Remove the 1 customer from your selection?")).to_be_visible()
    page.get_by_role("button", name="Yes, clear my selection").click()
    expect(page.locator("#result-count")).to_have_text("0 customers in your selection")


def test_tick_all_rows_with_the_header_box(page, customers):
    log_in(page, "bob")
    page.goto("/customers/")
    page.get_by_label("Tick all rows").check()
    page.get_by_role("button", name="Add selected to my selection").click()
    expect(page.locator(".messages")).to_contain_text("3 customers were added to your selection.")
