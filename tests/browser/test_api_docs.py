"""/api/docs/ (Swagger UI) and /api/redoc/ (ReDoc) render in Chromium under the app's CSP.

The pages load only served assets (drf-spectacular-sidecar and static/js/api-docs-*.js),
no inline script; the ``page`` fixture fails on any CSP report in the console, and the
page's own ``securitypolicyviolation`` events are collected as well.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Runs before the page's scripts (Playwright injects it; the page's CSP does not apply).
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def _violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_swagger_ui_renders_the_operations_under_the_csp(page):
    page.add_init_script(COLLECT_VIOLATIONS)
    response = page.goto("/api/docs/")
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, policy
    expect(page.locator(".opblock-tag-section").first).to_be_visible(timeout=60_000)
    expect(page.locator("#operations-Customers-customers_list")).to_be_visible()
    page.locator("#operations-Customers-customers_create .opblock-summary").click()
    expect(page.get_by_text("A company with its head office").first).to_be_attached()
    assert _violations(page) == []


def test_redoc_renders_the_operations_under_the_csp(page):
    # ReDoc lays out the whole schema before it shows anything: seconds on a loaded machine.
    page.add_init_script(COLLECT_VIOLATIONS)
    response = page.goto("/api/redoc/")
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, policy
    expect(page.get_by_role("heading", name="Find customers").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Ask a customer for consent (email or SMS)").first).to_be_attached()
    assert _violations(page) == []
