"""The UI in a real browser: login, language, API keys. Strict CSP, so no inline code."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from audit.actors import Actor
from audit.services import audit_record
from tenancy.context import tenant_context
from tenancy.models import ApiKey
from tests.personas import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_login_shows_the_tenant(page, live_personas):
    log_in(page, "alice")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Nordljus AB")
    expect(page).to_have_title("Kundreg · Nordljus AB")


def test_failed_login_shows_the_error_at_the_form(page, live_personas):
    log_in(page, "alice", "wrong password")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    error = page.locator("form").get_by_role("alert")
    expect(error).to_contain_text("Please enter a correct username and password")
    expect(page.get_by_label("Username")).to_have_value("alice")
    expect(page.get_by_label("Password")).to_have_value("")


def test_language_select_submits_itself(page, live_personas):
    log_in(page, "alice")
    # The fallback button is only visually hidden: screen readers still find it.
    expect(page.get_by_role("button", name="Change")).to_have_class(re.compile("visually-hidden"))
    page.get_by_label("Language").select_option(label="svenska")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nordljus AB")


def test_language_button_works_without_javascript(page_without_js, live_personas):
    page = page_without_js
    log_in(page, "alice")
    page.get_by_label("Language").select_option(label="svenska")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()


def test_api_key_is_shown_once_then_revoked(page, live_personas):
    log_in(page, "alice")
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="API keys").click()
    page.get_by_role("textbox", name="Name").fill("Webshop")
    page.get_by_label("Read customers").check()
    page.get_by_role("button", name="Create key").click()

    secret = page.locator("#new-api-key").inner_text()
    prefix, _dot, rest = secret.partition(".")
    assert prefix and rest
    row = page.get_by_role("row").filter(has_text="Webshop")
    expect(row).to_contain_text(prefix)
    expect(row).to_contain_text("Read customers")

    page.goto("/settings/api-keys/")
    expect(page.locator("#new-api-key")).to_have_count(0)
    assert rest not in page.content()
    row = page.get_by_role("row").filter(has_text="Webshop")
    expect(row).to_contain_text(prefix)

    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text(f"The key {prefix} is revoked.")
    row = page.get_by_role("row").filter(has_text="Webshop")
    expect(row).to_contain_text("Revoked")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
    with tenant_context(live_personas.tenant_a):
        assert ApiKey.objects.get(prefix=prefix).revoked


def test_audit_filter_updates_the_rows_with_htmx(page, live_personas):
    with tenant_context(live_personas.tenant_a):
        audit_record(action="api_key.created", actor=Actor.system("tests"), object_id="k1")
        audit_record(action="reference_entry.created", actor=Actor.system("tests"))
    log_in(page, "alice")
    page.get_by_role("link", name="Audit log").click()
    rows = page.locator("#audit-rows tbody tr")
    expect(rows).to_have_count(2)
    # A select of known actions by their labels (issue 14, item 10); a change filters.
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.get_by_label("Action").select_option(label="API key created")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("created the API key")
    expect(rows).to_contain_text("api_key.created")  # the stored entry, under Details
    expect(page).to_have_url(re.compile(r"/audit/\?.*action=api_key"))
    expect(page.get_by_role("heading", level=1)).to_have_count(1)  # rows swapped, not nested
