"""Issue 10's run in Debian's Chromium: an admin ticks two eligible customers on the
Anonymization page, types the confirmation phrase, watches the run finish (a real Celery
worker), opens it from the log and downloads the erasure report."""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from anonymization.models import RetentionPolicy
from customers.models import Customer, CustomerStatus
from tenancy.context import tenant_context
from tests.anonymization.test_eligibility import customer
from tests.browser.test_anonymization_flow import log_in

pytestmark = pytest.mark.browser


def test_select_two_type_the_phrase_watch_the_run_and_download_the_report(
    page, live_app, live_personas, celery_worker
):
    p = live_personas
    with tenant_context(p.tenant_a):
        RetentionPolicy.objects.create(customer_years=5, prospect_years=2)
        first = customer("Gammal Ett AB", last=dt.date(2014, 5, 1), email="ett@example.test")
        second = customer("Gammal Två AB", last=dt.date(2014, 6, 1), email="tva@example.test")
        kept = customer("Gammal Tre AB", last=dt.date(2014, 7, 1))

    log_in(page, "alice")
    page.goto("/t/nordljus/anonymization/")
    expect(page.locator("#customers-count")).to_have_text("3")
    page.locator(f"#tick-{first.pk}").check()
    page.locator(f"#tick-{second.pk}").check()
    form = page.locator("#run-form")
    expect(form.get_by_label("Name", exact=True)).to_be_checked()  # every kind of data by default
    form.get_by_label("Note", exact=True).fill("Yearly clean-up")
    # A wrong phrase first: refused, nothing happens, the ticks stay.
    form.get_by_label("Confirmation").fill("I understand")
    form.get_by_role("button", name="Anonymize").click()
    expect(page.locator("#id_phrase_error")).to_contain_text("I understand anonymization")
    expect(page.locator(f"#tick-{first.pk}")).to_be_checked()
    page.locator("#run-form").get_by_label("Confirmation").fill("I understand anonymization")
    page.locator("#run-form").get_by_role("button", name="Anonymize").click()

    expect(page).to_have_url(re.compile(r"/t/nordljus/anonymization/runs/\d+/$"))
    expect(page.locator("#run-status")).to_have_text("Done", timeout=60_000)
    expect(page.locator("#run-anonymized")).to_have_text("2")
    page.screenshot(path=str(Path(tempfile.gettempdir()) / "anonymization_run.png"), full_page=True)

    page.goto("/t/nordljus/anonymization/runs/")
    log = page.locator("#run-log")
    expect(log).to_contain_text("Yearly clean-up")
    log.get_by_role("link").first.click()
    with page.expect_download() as pdf:
        page.get_by_role("link", name="Erasure report (PDF)").click()
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
    with page.expect_download() as js:
        page.get_by_role("link", name="Erasure report (JSON)").click()
    report = json.loads(Path(js.value.path()).read_text())
    assert report["customers"]["anonymized"] == 2

    with tenant_context(p.tenant_a):
        states = dict(Customer.objects.values_list("pk", "status"))
    assert states[first.pk] == states[second.pk] == CustomerStatus.ANONYMIZED
    assert states[kept.pk] == CustomerStatus.ACTIVE
