"""The customer card in Debian's Chromium: creating a customer with two addresses and
switching the head office; one contact on two customers, deleted; tabs with and
without JavaScript. The page fixtures fail a test on any console error (CSP included)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from audit.actors import Actor
from customers.models import Customer
from customers.services.addresses import address_add
from customers.services.contacts import contact_create
from tenancy.context import tenant_context
from tests.factories import make_customer
from tests.personas import PASSWORD

pytestmark = pytest.mark.browser
SYSTEM = Actor.system("browser-test")


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def address_card(page: Page, text: str):
    """The address whose own lines (not its head-office choices) show ``text``."""
    return page.locator("li.address").filter(has=page.locator(".address-text", has_text=text))


def test_create_a_customer_with_two_addresses_and_switch_the_head_office(page, live_personas):
    log_in(page, "bob")
    page.goto("/customers/new/")
    page.get_by_role("textbox", name="Name", exact=True).fill("Sjöberg Snickeri AB")
    page.get_by_label("Organisation number").fill("5560360793")
    page.locator("#id_address-line1").fill("Box 7")
    page.locator("#id_address-postcode").fill("931 21")
    page.locator("#id_address-city").fill("Skellefteå")
    page.get_by_role("button", name="Create customer").click()

    expect(page).to_have_url(re.compile(r"/customers/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sjöberg Snickeri AB")
    expect(page.get_by_role("status").first).to_contain_text("was created")
    expect(address_card(page, "Box 7")).to_contain_text("Head office")

    page.get_by_role("link", name="Add an address").click()
    page.get_by_label("Kind").select_option(label="Visiting address")
    page.get_by_label("Address line 1").fill("Storgatan 9")
    page.get_by_label("Postcode").fill("931 30")
    page.get_by_label("City").fill("Skellefteå")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("li.address")).to_have_count(2)
    expect(address_card(page, "Storgatan 9")).not_to_contain_text("Head office")
    # "Change" next to the head office folds out the other addresses.
    head_office = address_card(page, "Box 7")
    head_office.get_by_text("Change head office").click()
    head_office.get_by_label(re.compile("Storgatan 9")).check()
    head_office.get_by_role("button", name="Make head office").click()

    expect(page.get_by_role("status").first).to_contain_text("The head office was changed.")
    expect(address_card(page, "Storgatan 9").locator(".badge")).to_have_text("Head office")
    expect(address_card(page, "Box 7").locator(".badge")).to_have_count(0)
    with tenant_context(live_personas.tenant_a):
        customer = Customer.objects.get(name="Sjöberg Snickeri AB")
        assert customer.head_office.line1 == "Storgatan 9"
        assert customer.org_number == "556036-0793"

    # The change is in the history tab (an htmx tab switch that updates the URL).
    page.get_by_role("link", name="History").click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/history/$"))
    expect(page.get_by_role("link", name="History")).to_have_attribute("aria-current", "page")
    # A sentence: "bob made Storgatan 9, … the head office instead of Box 7, …".
    expect(page.locator("table.history")).to_contain_text("the head office instead of Box 7")
    expect(page.locator("table.history")).to_contain_text("bob")


def test_one_contact_on_two_customers_deleted_shows_deleted_contact_on_both(page, live_personas):
    with tenant_context(live_personas.tenant_a):
        first = make_customer(name="Östergård Bygg AB")
        second = make_customer(name="Berg & Son AB")
        address_add(customer=first, actor=SYSTEM, line1="Box 12", city="Umeå")
        contact = contact_create(
            customer=first, actor=SYSTEM, first_name="Åsa", last_name="Lind", mobile="070-111 22 33"
        )
    log_in(page, "bob")
    page.goto(f"/customers/{second.pk}/")
    page.get_by_label("Contact number").fill(str(contact.number))
    page.get_by_role("button", name="Link existing contact").click()
    expect(page.locator("tr.contact").filter(has_text="Åsa Lind")).to_be_visible()

    # The contact's page lists both customers it is linked to.
    page.get_by_role("link", name="Åsa Lind").click()
    links = page.locator("table.linked-customers")
    expect(links).to_contain_text("Östergård Bygg AB")
    expect(links).to_contain_text("Berg & Son AB")

    page.get_by_role("link", name="Delete contact").click()
    expect(page.get_by_role("alert")).to_contain_text("This cannot be undone.")
    page.get_by_role("button", name="Delete for good").click()

    expect(page).to_have_url(re.compile(rf"/customers/{second.pk}/$"))
    expect(page.locator("tr.contact")).to_contain_text("Deleted contact")
    expect(page.locator("table.contacts")).not_to_contain_text("Åsa")
    page.goto(f"/customers/{first.pk}/")
    expect(page.locator("tr.contact")).to_contain_text("Deleted contact")
    expect(page.locator("table.contacts")).not_to_contain_text("Åsa")


def test_settings_sections_fold_and_save(page, live_personas):
    with tenant_context(live_personas.tenant_a):
        customer = make_customer(name="Fält AB")
    log_in(page, "bea")
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/settings/$"))
    credit = page.get_by_label("Credit limit", exact=True)
    expect(credit).to_be_hidden()  # its section is folded
    page.locator("summary", has_text="Invoicing and credit").click()
    credit.fill("25000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved.")
    with tenant_context(live_personas.tenant_a):
        assert Customer.objects.get(pk=customer.pk).credit_limit_amount == 25000


def test_tabs_and_actions_work_without_javascript(page_without_js, live_personas):
    page = page_without_js
    with tenant_context(live_personas.tenant_a):
        customer = make_customer(name="Utan Skript AB")
    log_in(page, "bob")
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_role("link", name="Consignees").click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/consignees/$"))
    page.get_by_role("link", name="Add a consignee").click()
    page.get_by_role("textbox", name="Name", exact=True).fill("Lagret")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("table.consignees")).to_contain_text("Lagret")
    # Deactivate from the menu, then reactivate from the banner.
    page.locator("summary", has_text="Actions").click()
    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".banner")).to_contain_text("This customer is inactive")
    page.locator(".banner").get_by_role("button", name="Reactivate").click()
    expect(page.locator(".banner")).to_have_count(0)
    expect(page.locator(".card-title .badge")).to_have_text("Active")
