"""The design pass in Chromium (issue 14, item 11 and "Done means"): the customer list, the
card with each of its tabs, the customer's consent page and the settings pages, at
1366x900 and on a phone (390x844). On every page axe-core reports no serious or critical
accessibility violation, nothing scrolls sideways on the phone, and a full-page screenshot
is written to docs/screenshots/<page>-<width>.png (linked from the README).

axe-core is the npm package's axe.min.js, kept in tests/browser/vendor/ and never served by
the app: it is injected as an init script, which Chromium runs outside the page's strict
CSP (a <script> tag added to the page would be refused by script-src 'self').
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from audit.actors import Actor
from consent.services import consent_request_create, consent_terms_publish
from customers.services.addresses import address_add
from customers.services.contacts import contact_create
from tenancy.context import tenant_context
from tests.browser.conftest import _open_page
from tests.browser.test_ui import log_in
from tests.factories import make_customer

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = [DESKTOP, PHONE]
ACTOR = Actor.system("design-test")
TERMS_SV = "Vi sparar dina uppgifter för att kunna ge dig service. Du kan när som helst återkalla."


def _axe_violations(page) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now, one line each."""
    results = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            const where = (n) => n.target.join(" ") + " — " + n.failureSummary;
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(where)}));
        }"""
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in results
        if v["impact"] in ("serious", "critical")
    ]


def _check(page, name: str, viewport: dict) -> list[str]:
    """Screenshot, sideways-scroll check on the phone and axe; returns what is wrong."""
    page.wait_for_load_state("networkidle")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport['width']}.png"), full_page=True)
    problems = []
    if viewport is PHONE:
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            # Name the widest culprits: elements that end past the right edge, innermost first.
            culprits = page.evaluate(
                """() => {
                  const out = (e) => e.getBoundingClientRect().right > window.innerWidth + 1;
                  const clipped = (e) => {
                    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
                      if (getComputedStyle(a).overflowX !== "visible") return true;
                    }
                    return false;
                  };
                  return [...document.querySelectorAll("body *")]
                    .filter(e => out(e) && !clipped(e) && ![...e.children].some(out))
                    .slice(0, 5)
                    .map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")
                        + " " + Math.round(e.getBoundingClientRect().right));
                }"""
            )
            problems.append(
                f"{name}: the page scrolls sideways ({scroll} > {inner} px): {culprits}"
            )
    problems += [f"{name} at {viewport['width']} px: {v}" for v in _axe_violations(page)]
    return problems


def _session(browser, live_app, viewport):
    context, page, browser_problems = _open_page(browser, live_app, viewport=viewport)
    context.add_init_script(path=str(AXE))
    return context, page, browser_problems


@pytest.fixture
def office(live_personas):
    """A customer that looks like an office's: two addresses, contacts, long phone numbers."""
    with tenant_context(live_personas.tenant_a):
        customer = make_customer(
            name="Östergård & Åberg Bygg och Fastighetsförvaltning AB",
            email="info@ostergard-aberg.example.test",
            phone="+46701234567",
            org_number="5560360793",
        )
        address_add(
            customer=customer, actor=ACTOR, line1="Hamnvägen 5", postcode="211 22", city="Malmö"
        )
        address_add(
            customer=customer,
            actor=ACTOR,
            kind="delivery",
            line1="Industrigatan 12",
            postcode="931 30",
            city="Skellefteå",
        )
        contact_create(
            customer=customer,
            actor=ACTOR,
            first_name="Åsa",
            last_name="Lind-Mårtensson",
            mobile="+46701112233",
            email="asa.lind@example.test",
        )
        for n, city in enumerate(["Umeå", "Göteborg", "Luleå", "Örebro", "Västerås"]):
            make_customer(name=f"Nordisk Kyl & Frys {city} AB", phone=f"+4670555{n:04d}", email="")
    return customer


def test_list_card_and_tabs_look_right_and_pass_axe(browser, live_app, live_personas, office):
    problems = []
    for viewport in VIEWPORTS:
        context, page, browser_problems = _session(browser, live_app, viewport)
        try:
            log_in(page, "bob")
            page.goto("/customers/")
            expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
            # Numbers, phones and badges stay on one line in the list.
            phone_cell = page.locator("table.customers td.phone").first
            expect(phone_cell).to_have_css("white-space", "nowrap")
            problems += _check(page, "customer-list", viewport)

            page.goto(f"/customers/{office.pk}/")
            expect(page.get_by_role("heading", level=1)).to_contain_text("Östergård")
            problems += _check(page, "customer-card", viewport)
            tabs = page.get_by_role("navigation", name="Customer card")
            for tab, label in [
                ("consignees", "Consignees"),
                ("keys", "Keys and cards"),
                ("files", "Files"),
                ("sales", "Sales"),
                ("history", "History"),
                ("settings", "Settings"),
            ]:
                link = tabs.get_by_role("link", name=label, exact=True)
                if not link.count():
                    continue  # a tab this role does not get
                link.click()
                # Every tab, keys and files included, stays inside the card's tab bar.
                expect(tabs.locator('a[aria-current="page"]')).to_have_text(label)
                expect(page.get_by_role("heading", level=1)).to_contain_text("Östergård")
                problems += _check(page, f"customer-card-{tab}", viewport)
        finally:
            context.close()
        problems += browser_problems
    assert not problems, "\n".join(problems)


def test_contact_tab_folds_the_activity_form_away(page, live_personas, office):
    log_in(page, "bob")
    page.goto(f"/customers/{office.pk}/")
    note = page.get_by_label("Subject").first
    expect(note).to_be_hidden()
    page.locator("summary", has_text="Quick add").click()
    expect(note).to_be_visible()


def test_dates_read_the_language_way(page, live_personas, office):
    log_in(page, "bob")
    page.goto(f"/customers/{office.pk}/")
    created = page.locator(".card-facts dd").nth(1)
    # English: "1 Dec 2026 03:40", never "12/01/2026 3:40 a.m.".
    expect(created).to_contain_text(re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2},"))
    page.get_by_label("Language", exact=True).select_option(label="svenska")
    expect(page.locator("html")).to_have_attribute("lang", "sv")  # the switch has landed
    page.goto(f"/customers/{office.pk}/")
    expect(page.locator(".card-facts dd").nth(1)).to_contain_text(
        re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2},")
    )


def test_phone_menu_folds_and_opens(browser, live_app, live_personas):
    context, page, browser_problems = _session(browser, live_app, PHONE)
    try:
        log_in(page, "alice")
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_hidden()
        toggle = page.get_by_role("button", name="Menu")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(nav.get_by_role("link", name="Customers")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        problems = _check(page, "menu-open", PHONE)
    finally:
        context.close()
    assert not problems + browser_problems, "\n".join(problems + browser_problems)


def test_phone_menu_without_javascript_is_open(browser, live_app, live_personas):
    context, page, browser_problems = _open_page(
        browser, live_app, viewport=PHONE, java_script_enabled=False
    )
    try:
        log_in(page, "alice")
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Customers")).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()
    assert not browser_problems, "\n".join(browser_problems)


def test_consent_page_looks_right_and_passes_axe(browser, live_app, live_personas):
    with tenant_context(live_personas.tenant_a):
        consent_terms_publish(language="sv", text=TERMS_SV, actor=ACTOR)
        customer = make_customer(name="Åsa Lind", email="asa@example.test", language="sv")
        _request, token = consent_request_create(customer=customer, channel="email", actor=ACTOR)
    problems = []
    for viewport in VIEWPORTS:
        context, page, browser_problems = _session(browser, live_app, viewport)
        try:
            page.goto(f"/c/{token}")
            expect(page.locator("header.public-header")).to_contain_text("Nordljus AB")
            problems += _check(page, "consent-page", viewport)
        finally:
            context.close()
        problems += browser_problems
    assert not problems, "\n".join(problems)


SETTINGS_PAGES = [
    ("settings", "/settings/"),
    ("settings-company", "/settings/company/"),
    ("settings-consent-texts", "/settings/consent/"),
    ("settings-sms", None),  # reached through the menu
    ("settings-users", "/settings/members/"),
    ("settings-api-keys", "/settings/api-keys/"),
]


def test_settings_pages_look_right_and_pass_axe(browser, live_app, live_personas):
    problems = []
    for viewport in VIEWPORTS:
        context, page, browser_problems = _session(browser, live_app, viewport)
        try:
            log_in(page, "alice")
            for name, url in SETTINGS_PAGES:
                if url is None:
                    page.goto("/settings/")
                    menu = page.get_by_role("navigation", name="Settings")
                    menu.get_by_role("link", name="SMS", exact=True).click()
                else:
                    page.goto(url)
                expect(page.get_by_role("heading", level=1)).to_be_visible()
                problems += _check(page, name, viewport)
            # The other areas an office worker opens from the menu.
            for name, url in [("home", "/"), ("audit-log", "/audit/"), ("reports", "/reports/")]:
                page.goto(url)
                problems += _check(page, name, viewport)
        finally:
            context.close()
        problems += browser_problems
    assert not problems, "\n".join(problems)
