"""Two tabs, two companies (tenancy/url_prefix.py): switching company in one tab does not
change what a form already open in the other acts on. Debian's Chromium via Playwright."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from customers.models import Customer
from tenancy.context import tenant_context
from tenancy.roles import Role
from tests.browser.conftest import _open_page
from tests.factories import MembershipFactory
from tests.personas import PASSWORD

pytestmark = pytest.mark.browser


def _switch_to(page: Page, company: str) -> None:
    page.get_by_label("Company").select_option(label=company)  # submits itself
    # The switch reloads the start page (the dashboard): allow for a busy machine.
    expect(page.get_by_role("heading", level=1)).to_have_text(company, timeout=15_000)


def test_a_form_open_in_one_tab_creates_in_its_company_after_the_other_tab_switched(
    browser, live_app, live_personas
):
    p = live_personas
    MembershipFactory(user=p.alice, tenant=p.tenant_b, role=Role.ADMIN)
    context, tab1, problems = _open_page(browser, live_app)
    try:
        tab1.goto("/accounts/login/")
        tab1.get_by_label("Username").fill("alice")
        tab1.get_by_label("Password").fill(PASSWORD)
        tab1.get_by_role("button", name="Log in").click()
        expect(tab1).to_have_url(re.compile(r"/t/fjordvik/$"))  # the first company by name
        _switch_to(tab1, "Nordljus AB")
        expect(tab1).to_have_url(re.compile(r"/t/nordljus/$"))
        tab1.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
        tab1.get_by_role("link", name="New customer").click()
        tab1.get_by_role("textbox", name="Name", exact=True).fill("Flikkund AB")
        tab1.locator("#id_address-city").fill("Luleå")

        # Tab 2, same browser and session: opens the start page and switches to Fjordvik.
        tab2 = context.new_page()
        tab2.goto("/")
        expect(tab2.get_by_role("heading", level=1)).to_have_text("Nordljus AB")
        _switch_to(tab2, "Fjordvik AS")
        expect(tab2).to_have_url(re.compile(r"/t/fjordvik/$"))

        # Tab 1 sends the form it opened under Nordljus.
        tab1.get_by_role("button", name="Create customer").click()
        expect(tab1).to_have_url(re.compile(r"/t/nordljus/customers/\d+/$"))
        expect(tab1.get_by_role("heading", level=1)).to_contain_text("Flikkund AB")
        expect(tab1).to_have_title(re.compile(r"Nordljus AB$"))
        # Tab 2 stays in Fjordvik, where the customer does not exist.
        tab2.reload()
        expect(tab2.get_by_role("heading", level=1)).to_have_text("Fjordvik AS")
    finally:
        context.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)
    with tenant_context(p.tenant_a):
        assert Customer.objects.filter(name="Flikkund AB").count() == 1
    with tenant_context(p.tenant_b):
        assert not Customer.objects.filter(name="Flikkund AB").exists()
