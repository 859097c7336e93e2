"""Issue 9's flow in Debian's Chromium: the Swedish retention preset, two sales documents
posted through the HTTP API with a plain HTTP client, and the Anonymization page showing
one customer eligible, one blocked by its open invoice and balance, and the forecast chart.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from tenancy.context import tenant_context
from tests.factories import make_customer
from tests.personas import PASSWORD

pytestmark = pytest.mark.browser
SALES_API = "/api/v1/sales-documents/"


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/t/nordljus/$"))


def post_document(live_app: str, key: str, idempotency_key: str, **fields) -> dict:
    response = requests.post(
        live_app + SALES_API,
        json={"kind": "invoice", "currency": "SEK", **fields},
        headers={"Authorization": f"Api-Key {key}", "Idempotency-Key": idempotency_key},
        timeout=30,
    )
    assert response.status_code == 201, response.text[:500]
    return response.json()


def test_swedish_preset_api_documents_and_the_anonymization_page(page, live_app, live_personas):
    p = live_personas

    # 1. The admin applies the Swedish preset on the retention settings page.
    log_in(page, "alice")
    page.goto("/t/nordljus/settings/retention/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Retention")
    page.get_by_role("radio", name=re.compile(r"Sweden: 7 years for customers")).check()
    page.get_by_role("button", name="Apply preset").click()
    expect(page).to_have_url(re.compile(r"/t/nordljus/settings/retention/$"))
    expect(page.get_by_text("Preset applied.")).to_be_visible()
    expect(page.locator("#retention-preset")).to_contain_text("Sweden")
    expect(page.locator("#retention-preset")).to_contain_text("Bokföringslagen")
    expect(page.locator("#retention-default")).to_have_count(0)  # saved now
    expect(page.get_by_label("Retention for customers (years)")).to_have_value("7")
    page.screenshot(
        path=str(Path(tempfile.gettempdir()) / "retention_settings.png"), full_page=True
    )

    # 2. Two customers; their invoices come in through the API, ten years back.
    with tenant_context(p.tenant_a):
        paid_up = make_customer(name="Gammal Kund AB")
        owing = make_customer(name="Skuldsatt Kund AB")
    ten_years_ago = dt.date(dt.date.today().year - 10, 6, 15).isoformat()
    closed = post_document(
        live_app,
        p.key_a,
        "anon-flow-1",
        customer=paid_up.pk,
        number="F-1001",
        date=ten_years_ago,
        status="closed",
        amount="1200.00",
        balance="0.00",
    )
    assert (closed["status"], closed["balance"]) == ("closed", "0.00")
    open_ = post_document(
        live_app,
        p.key_a,
        "anon-flow-2",
        customer=owing.pk,
        number="F-1002",
        date=ten_years_ago,
        status="open",
        amount="800.00",
        balance="800.00",
    )
    assert (open_["status"], open_["balance"]) == ("open", "800.00")

    # 3. The Anonymization page: one eligible, one blocked and why, and the forecast chart.
    page.goto("/t/nordljus/anonymization/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anonymization")
    eligible = page.locator("#customers")
    expect(eligible.locator("#customers-count")).to_have_text("1")
    row = eligible.locator(f"#customers-{paid_up.pk}")
    expect(row).to_contain_text("Gammal Kund AB")
    expect(row).to_contain_text("7 years")
    expect(eligible).not_to_contain_text("Skuldsatt Kund AB")

    blocked = page.locator("#blocked")
    expect(blocked.locator("#blocked-count")).to_have_text("1")
    blocked_row = blocked.locator(f"#blocked-{owing.pk}")
    expect(blocked_row).to_contain_text("Skuldsatt Kund AB")
    reasons = blocked_row.locator("ul.reasons li")
    expect(reasons).to_contain_text(
        ["Open orders, deliveries, invoices or cases", "Balance is not zero"]
    )
    expect(blocked).not_to_contain_text("Gammal Kund AB")

    chart = page.locator("#forecast svg#forecast-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.chart-bar")).to_have_count(12)

    shot = Path(tempfile.gettempdir()) / "anonymization_flow.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0
