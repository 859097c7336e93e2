"""Browser tests: a live server on committed data, driven by Debian's Chromium via Playwright.

pytest-django's ``live_server`` cannot be used (its flush needs TRUNCATE
rights the runtime role lacks), so this one stands on ``live_db``.
"""

from __future__ import annotations

import os

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.testcases import LiveServerThread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def live_app(live_db):
    """The app on a free port of 127.0.0.1, for one test; yields its base URL.

    Not named ``live_server``: pytest-django hooks that name to request ``transactional_db``.
    """
    thread = LiveServerThread("127.0.0.1", StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium (never playwright install)"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django would refuse the ORM there.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


ASSETS = {"stylesheet", "script", "image", "font"}


def _open_page(browser, live_app, **context_options):
    """A fresh context and page, and a list that collects what must never happen on a page."""
    context = browser.new_context(base_url=live_app, locale="en-GB", **context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = []

    def console(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(message.text)

    def response(r):
        if r.status >= 400 and r.request.resource_type in ASSETS:
            problems.append(f"{r.status} {r.url}")

    page.on("console", console)  # a CSP violation: the page breaks under the policy
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on("response", response)  # a missing asset
    return context, page, problems


@pytest.fixture
def page(browser, live_app):
    context, page, problems = _open_page(browser, live_app)
    yield page
    context.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


@pytest.fixture
def page_without_js(browser, live_app):
    context, page, problems = _open_page(browser, live_app, java_script_enabled=False)
    yield page
    context.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)
