"""A big export in Chromium (issue 11): the Reports page's export becomes a job (a tiny
inline threshold), a real Celery worker writes the file, the progress bar finishes, and
the download link hands over the file; the job is listed under My exports."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tenancy.context import tenant_context
from tests.browser.test_customer_list import log_in
from tests.factories import make_customer

pytestmark = pytest.mark.browser


def test_a_big_export_runs_as_a_job_and_is_downloaded(
    page, live_app, live_personas, celery_worker, settings
):
    settings.REPORTS_EXPORT_INLINE_MAX_ROWS = 2  # the live server runs in this process
    p = live_personas
    with tenant_context(p.tenant_a):
        for n in range(5):
            make_customer(name=f"Kund {n} Åkesson", phone=f"08-123 45 6{n}")

    log_in(page, "bob")
    page.goto("/t/nordljus/reports/")
    page.get_by_role("combobox", name="Report", exact=True).select_option(label="Phone list")
    page.get_by_role("button", name="Show report").click()
    page.get_by_role("link", name="Export to CSV").click()

    expect(page).to_have_url(re.compile(r"/t/nordljus/reports/exports/\d+/$"))
    bar = page.locator("#export-progress progress")
    expect(bar).to_be_visible()
    expect(page.locator("#export-status")).to_have_text("Ready", timeout=60_000)
    expect(bar).to_have_attribute("value", "100")
    expect(page.locator("#export-progress")).to_contain_text("5 rows written (5 customers)")

    with page.expect_download() as download:
        page.locator("#export-download").click()
    assert re.fullmatch(r"phones-\d{4}-\d\d-\d\d\.csv", download.value.suggested_filename)
    text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    names = sorted(row[1] for row in list(csv.reader(io.StringIO(text)))[1:])
    assert names == [f"Kund {n} Åkesson" for n in range(5)]

    page.goto("/t/nordljus/reports/")
    mine = page.locator("#my-exports")
    expect(mine).to_contain_text("phones.csv")
    expect(mine).to_contain_text("Ready")
