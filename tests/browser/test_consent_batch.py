"""Consent to many customers from the customer list, end to end, in Debian's Chromium.

Office user bob opens the customer list, clicks "Request consent", picks the email channel
(each choice says how many customers it reaches) and starts. The progress page is opened
while the batch still waits in the queue; only then does a real Celery worker start, so the
page must get to "Done" through its own htmx polling, never a reload. The customer without
email or mobile is then on the "could not reach" list.
"""

from __future__ import annotations

import re
from contextlib import ExitStack

import pytest
from playwright.sync_api import Page, expect

from audit.actors import Actor
from consent.models import BatchStatus, ConsentBatch, ConsentRequest
from consent.services import consent_terms_publish
from tenancy.context import tenant_context
from tests.factories import make_customer
from tests.personas import PASSWORD

pytestmark = pytest.mark.browser
TERMS = "We keep your details to serve you.\nYou may withdraw at any time."
SLOW = 30_000  # ms: the worker's start and a few 2 s polls fit well within it
PROGRESS = re.compile(r"/consent/batches/(\d+)/$")


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


@pytest.fixture
def start_celery_worker(live_db):
    """Start a real worker (like ``celery_worker``) when the test says so, not before."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with ExitStack() as stack:

        def start():
            stack.enter_context(
                start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING")
            )

        yield start


def count_of(page: Page, term: str):
    """The number next to ``term`` in the progress page's counts."""
    return (
        page.locator("#batch-progress dl.batch-counts > div")
        .filter(has=page.locator("dt").get_by_text(term, exact=True))
        .locator("dd")
    )


def test_request_consent_from_the_list_progress_polls_to_done(
    page, live_personas, start_celery_worker
):
    tenant = live_personas.tenant_a
    with tenant_context(tenant):
        consent_terms_publish(language="sv", text=TERMS, actor=Actor.system("browser-test"))
        make_customer(name="Anna Epost", email="anna@example.test", language="sv")
        make_customer(name="Bertil Epost", email="bertil@example.test", language="sv")
        make_customer(name="Cilla Brev", language="sv")  # neither email nor mobile

    log_in(page, "bob")
    page.goto("/customers/")
    expect(page.locator("#customer-results tbody tr")).to_have_count(3, timeout=SLOW)
    page.locator(".result-actions").get_by_role("link", name="Request consent").click()

    # The confirmation page: who the list holds, and whom each channel reaches.
    expect(page).to_have_url(re.compile(r"/consent/batches/new/\?"), timeout=SLOW)
    expect(page.get_by_role("heading", level=1)).to_have_text("Request consent")
    expect(page.locator("table.reach caption")).to_have_text("3 customers")
    email = page.get_by_role("radio", name="Email: 2 customers", exact=True)
    expect(email).to_be_visible()
    expect(page.get_by_role("radio", name="SMS: 0 customers", exact=True)).to_be_visible()
    email.check()
    page.get_by_role("button", name="Start").click()

    # The progress page, shown while the batch still waits for a worker.
    expect(page).to_have_url(PROGRESS, timeout=SLOW)
    batch_pk = int(PROGRESS.search(page.url).group(1))
    progress = page.locator("#batch-progress")
    bar = progress.locator("progress")
    expect(progress).to_contain_text("Waiting to start")
    expect(progress).to_have_attribute("hx-trigger", "every 2s")
    expect(bar).to_have_attribute("max", "3")
    expect(bar).to_have_attribute("value", "0")

    navigations = []
    polls = []
    page.on("framenavigated", lambda f: f == page.main_frame and navigations.append(f.url))
    page.on("request", lambda r: r.headers.get("hx-request") and polls.append(r.url))
    start_celery_worker()

    # No reload: htmx swaps the progress in until the batch is done, then stops polling.
    expect(progress.locator("strong")).to_have_text("Done", timeout=SLOW)
    expect(count_of(page, "Requested")).to_have_text("2")
    expect(count_of(page, "Skipped, no address for the channel")).to_have_text("1")
    expect(count_of(page, "Failed")).to_have_text("0")
    expect(bar).to_have_attribute("value", "3")
    assert bar.evaluate("b => b.value === b.max && b.position === 1")
    expect(progress.locator("label")).to_have_text("3 of 3 customers handled")
    expect(progress).not_to_have_attribute("hx-trigger", re.compile(".*"))
    assert navigations == [], f"the page navigated instead of polling: {navigations}"
    assert polls and all(PROGRESS.search(url) for url in polls)
    with tenant_context(tenant):
        batch = ConsentBatch.objects.get(pk=batch_pk)
        assert (batch.status, batch.sent, batch.skipped, batch.failed) == (
            BatchStatus.DONE,
            2,
            1,
            0,
        )
        assert ConsentRequest.objects.filter(batch=batch).count() == 2

    # The customer the email could not reach, with the reason.
    progress.get_by_role("link", name="Customers the request could not reach").click()
    expect(page).to_have_url(
        re.compile(rf"/consent/batches/{batch_pk}/unreachable/$"), timeout=SLOW
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Customers the request could not reach"
    )
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link")).to_have_text("Cilla Brev")
    expect(rows.first).to_contain_text("No email address")
