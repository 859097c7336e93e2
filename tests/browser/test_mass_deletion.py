"""Issue 10 item 5 in Debian's Chromium: a bookkeeper opens Mass deletion, gets the proposal
for customers without activity since a date, sees the one used in a sales document struck
out with the reason, types the phrase, executes, and watches the job finish (a real Celery
worker)."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tenancy.context import tenant_context
from tests.anonymization.test_eligibility import customer, document
from tests.browser.test_anonymization_flow import log_in

pytestmark = pytest.mark.browser


def test_get_a_proposal_see_the_struck_out_row_execute_and_watch_it_finish(
    page, live_app, live_personas, celery_worker
):
    p = live_personas
    with tenant_context(p.tenant_a):
        first = customer("Gammal Ett AB", last=dt.date(2014, 5, 1))
        second = customer("Gammal Två AB", last=dt.date(2014, 6, 1))
        sold = customer("Såld AB", last=dt.date(2014, 7, 1))
        document(sold, "invoice")
        recent = customer("Ny AB", last=dt.date.today())

    log_in(page, "bea")
    page.goto("/t/nordljus/anonymization/")
    page.get_by_role("link", name="Mass deletion").click()
    expect(page).to_have_url(re.compile(r"/t/nordljus/anonymization/deletion/$"))
    filters = page.locator("#deletion-filters")
    filters.get_by_label("Last activity before").fill("2020-01-01")
    filters.get_by_role("button", name="Get proposal").click()

    expect(page.locator("#deletable-count")).to_have_text("2")
    expect(page.locator("#undeletable-count")).to_have_text("1")
    struck = page.locator(f"#kept-{sold.pk}")
    expect(struck.locator("del").first).to_have_text(sold.number)
    expect(struck).to_contain_text("Used in sales documents")
    expect(page.locator(f"#deletable-{recent.pk}")).to_have_count(0)
    shot = Path(tempfile.gettempdir()) / "mass_deletion_proposal.png"
    page.screenshot(path=str(shot), full_page=True)

    form = page.locator("#deletion-form")
    form.get_by_label("Note", exact=True).fill("Yearly clean-up")
    form.get_by_label("Confirmation").fill("Delete")
    form.get_by_role("button", name="Execute deletion").click()
    expect(page.locator("#id_phrase_error")).to_contain_text("Delete customers")
    page.locator("#deletion-form").get_by_label("Confirmation").fill("Delete customers")
    page.locator("#deletion-form").get_by_role("button", name="Execute deletion").click()

    expect(page).to_have_url(re.compile(r"/t/nordljus/anonymization/deletion/runs/\d+/$"))
    expect(page.locator("#run-status")).to_have_text("Done", timeout=60_000)
    expect(page.locator("#run-deleted")).to_have_text("2")
    expect(page.locator("#run-excluded")).to_have_text("1")
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "mass_deletion.png"), full_page=True)

    page.get_by_role("link", name="Deletion log").click()
    expect(page.locator("#deletion-log")).to_contain_text("Yearly clean-up")

    with tenant_context(p.tenant_a):
        left = set(Customer.objects.values_list("pk", flat=True))
    assert first.pk not in left and second.pk not in left
    assert {sold.pk, recent.pk} <= left
