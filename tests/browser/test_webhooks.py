"""Settings → Webhooks in Chromium: an admin adds an endpoint and sees its secret once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tenancy.context import tenant_context
from tests.browser.test_ui import log_in
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.browser


def test_an_admin_adds_an_endpoint_and_sees_the_secret_once(page, live_personas):
    log_in(page, "alice")
    page.goto("/settings/")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    expect(page.get_by_text("No webhook endpoints yet.")).to_be_visible()

    # A private address is refused at the field.
    page.get_by_label("URL").fill("http://10.0.0.1/hook")
    page.get_by_label("Customer created").check()
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_text("private or local network")).to_be_visible()

    page.get_by_label("URL").fill("https://93.184.215.14/hooks/kundreg")
    page.get_by_label("Description").fill("ERP")
    page.get_by_label("Customer created").check()
    page.get_by_label("Consent withdrawn").check()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#new-webhook-secret")
    expect(secret).to_have_text(re.compile(r"^whsec_[A-Za-z0-9+/=]{32}$"))
    shown = secret.inner_text()
    with tenant_context(live_personas.tenant_a):
        endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == shown and endpoint.description == "ERP"
    assert endpoint.event_types == ["consent.withdrawn", "customer.created"]

    # Once only: the list and the endpoint's page never show it again.
    page.goto("/settings/webhooks/")
    expect(page.locator("#new-webhook-secret")).to_have_count(0)
    page.get_by_role("link", name="https://93.184.215.14/hooks/kundreg").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("https://93.184.215.14/hooks/kundreg")
    expect(page.get_by_text("Nothing sent yet.")).to_be_visible()
    assert shown not in page.content()

    # Switch it off and on again.
    page.get_by_role("button", name="Switch off").click()
    expect(page.get_by_role("button", name="Switch on")).to_be_visible()
    page.get_by_role("button", name="Switch on").click()
    expect(page.get_by_role("button", name="Switch off")).to_be_visible()
