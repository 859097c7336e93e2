"""The error pages wear the product's look (issue 14, item 11): 400, 403 and 404 inside the
layout (Tabler and app.css, the navigation for a signed-in user), the 500 page on its own
without the request or the database, and never Django's technical page with DEBUG off."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = [pytest.mark.urls("tests.web.urls_error_pages")]

LOOK = ["vendor/tabler/tabler.min.css", "css/app.css", 'class="error-page"']


@pytest.mark.parametrize(
    ("status", "heading"),
    [(400, "Bad request"), (403, "Not allowed"), (404, "Page not found")],
)
def test_4xx_pages_render_in_the_product_look(personas, status, heading):
    response = personas.client(personas.alice).get(f"/__tests__/error/{status}/")
    assert response.status_code == status
    html = response.content.decode()
    for part in LOOK:
        assert part in html
    assert f"<h1>{heading}</h1>" in html
    assert "Traceback" not in html and "Request Method" not in html


def test_404_page_for_a_signed_in_user_has_the_navigation(personas):
    html = personas.client(personas.alice).get("/customers/999999/").content.decode()
    assert 'aria-label="Main"' in html
    assert "Page not found" in html


def test_404_page_for_an_anonymous_visitor(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="error-page"' in html and 'aria-label="Main"' not in html


@override_settings(DEBUG=False)
def test_500_page_renders_without_the_request_context(personas):
    client = personas.client(personas.alice)
    client.raise_request_exception = False
    response = client.get("/__tests__/error/500/")
    assert response.status_code == 500
    html = response.content.decode()
    for part in LOOK:
        assert part in html
    assert "Something went wrong" in html
    assert "RuntimeError" not in html and "Traceback" not in html


def test_500_page_in_swedish(personas):
    client = personas.client(personas.alice)
    client.raise_request_exception = False
    response = client.get("/__tests__/error/500/", headers={"accept-language": "sv"})
    assert response.status_code == 500
    assert 'lang="sv"' in response.content.decode()
