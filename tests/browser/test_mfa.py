"""Two-factor sign-in in Chromium (issue 14, item 13): a bookkeeper whose company requires
it is sent to set it up, scans (reads) the key, confirms with a code, keeps the recovery
codes, and next time signs in with the password and a code from the app."""

from __future__ import annotations

import re
import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from tenancy.models import Tenant
from tests.browser.test_ui import log_in

pytestmark = pytest.mark.browser


def _code(secret: str, at: float) -> str:
    """What an authenticator app shows for the key the page gave, at time ``at``."""
    totp = TOTP(b32decode(secret.replace(" ", "")))
    totp.time = at
    return f"{totp.token():06d}"


def test_enrol_then_sign_in_with_a_code(page: Page, live_personas):
    Tenant.objects.filter(pk=live_personas.tenant_a.pk).update(require_mfa=True)
    log_in(page, "bea")
    # Every company page sends her to set it up first, and says why.
    expect(page).to_have_url(re.compile(r"/t/nordljus/settings/two-factor/$"))
    expect(page.get_by_role("alert")).to_contain_text("Nordljus AB requires two-factor sign-in")
    page.get_by_role("button", name="Set up two-factor sign-in").click()

    expect(page.locator(".mfa-qr svg")).to_be_visible()  # inline SVG: nothing for the CSP
    secret = page.locator("#mfa-secret").inner_text()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#id_code_error")).to_contain_text("That code is not right")
    time.sleep(1.1)  # django-otp waits a second after a wrong code
    page.get_by_label("Code").fill(_code(secret, time.time()))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator("#mfa-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator("#mfa-status")).to_contain_text("10 recovery codes left.")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Customers"))

    page.get_by_role("button", name="Log out").click()
    log_in(page, "bea")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    # The code of the next period: the one just used for the set-up is never taken twice.
    page.get_by_label("Code").fill(_code(secret, time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nordljus AB")
