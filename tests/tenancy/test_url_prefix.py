"""The company travels with the URL: /t/<slug>/… (tenancy/url_prefix.py).

Alice is a member of both tenants here. Her session's company is what unprefixed URLs
fall back on; a prefixed URL acts on its own company whatever the session says.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.db import close_old_connections
from django.test import Client, RequestFactory
from django.urls import get_script_prefix, set_script_prefix

from customers.models import Customer
from tenancy.context import tenant_context
from tenancy.middleware import SESSION_KEY
from tenancy.models import Membership
from tenancy.roles import Role
from tenancy.url_prefix import is_public_path
from tests.factories import MembershipFactory, TenantFactory, make_customer

A = "/t/nordljus"
B = "/t/fjordvik"


@pytest.fixture
def two(personas):
    """Alice (admin of A) is also admin of B; each tenant has one customer."""
    MembershipFactory(user=personas.alice, tenant=personas.tenant_b, role=Role.ADMIN)
    with tenant_context(personas.tenant_a):
        make_customer(name="Kund i Nordljus AB")
    with tenant_context(personas.tenant_b):
        make_customer(name="Kunde i Fjordvik AS")
    return personas


def _alice(p, session_tenant) -> Client:
    """A plain browser (no automatic prefix), signed in, its session on ``session_tenant``."""
    client = Client()
    client.force_login(p.alice)
    session = client.session
    session[SESSION_KEY] = session_tenant.pk
    session.save()
    return client


def _names(tenant) -> set[str]:
    with tenant_context(tenant):
        return set(Customer.objects.values_list("name", flat=True))


def test_an_export_link_of_a_acts_on_a_after_the_session_switched_to_b(two):
    client = _alice(two, two.tenant_a)
    # Tab 2 switches the session to B...
    assert client.post("/settings/tenant/switch/", {"tenant": two.tenant_b.pk}).status_code == 302
    assert client.session[SESSION_KEY] == two.tenant_b.pk
    # ...the export link tab 1 got while in A still exports A.
    response = client.get(f"{A}/customers/export/csv/")
    assert response.status_code == 200
    body = response.getvalue().decode("utf-8-sig")
    assert "Kund i Nordljus AB" in body
    assert "Fjordvik" not in body
    # The URL's company was for that request only: the session still says B.
    assert client.session[SESSION_KEY] == two.tenant_b.pk
    assert "Kunde i Fjordvik AS" in client.get(f"{B}/customers/export/csv/").getvalue().decode()


def test_a_form_of_a_creates_in_a_after_the_session_switched_to_b(two):
    client = _alice(two, two.tenant_b)
    response = client.post(
        f"{A}/customers/new/", {"kind": "company", "name": "Ny Kund AB", "country": "SE"}
    )
    assert response.status_code == 302
    # Redirects stay in the form's company: reverse() inside the request carries the prefix.
    assert response["Location"].startswith(f"{A}/customers/")
    assert "Ny Kund AB" in _names(two.tenant_a)
    assert "Ny Kund AB" not in _names(two.tenant_b)


def test_pages_link_inside_their_own_company(two):
    client = _alice(two, two.tenant_b)
    html = client.get(f"{A}/customers/").content.decode()
    assert "<h1>" in html and "Kund i Nordljus AB" in html and "Fjordvik AS" in html
    links = re.findall(r'(?:href|action|hx-get|hx-post)="(/[^"]*)"', html)
    tenant_links = [u for u in links if not u.startswith(("/static/", "/accounts/", "/i18n/"))]
    assert tenant_links and all(u.startswith(f"{A}/") for u in tenant_links), tenant_links


def test_the_card_and_its_parts_link_inside_their_own_company(two):
    client = _alice(two, two.tenant_b)
    with tenant_context(two.tenant_a):
        pk = Customer.objects.get().pk
    for part in ("", "consignees/", "keys/", "files/", "history/", "settings/", "delete/"):
        html = client.get(f"{A}/customers/{pk}/{part}").content.decode()
        assert "Kund i Nordljus AB" in html, part
        links = re.findall(r'(?:href|action|hx-get|hx-post)="(/[^"]*)"', html)
        strays = [u for u in links if not u.startswith((f"{A}/", "/static/"))]
        assert not strays, (part, strays)


# 500.html is rendered without a request; its "/" goes on to the session's company.
UNPREFIXABLE = {"500.html"}


def test_no_template_hard_codes_a_tenant_page():
    """Links must come from {% url %} (or reverse()): only those carry the company."""
    attribute = re.compile(r'(?:href|action|hx-(?:get|post|put|patch|delete))="(/[^"{?#]*)')
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        if path.name in UNPREFIXABLE:
            continue
        for url in attribute.findall(path.read_text(encoding="utf-8")):
            if is_public_path(url) is False:
                offenders.append(f"{path.relative_to(settings.BASE_DIR)}: {url}")
    assert not offenders


@pytest.mark.parametrize("path", ["/customers/", "/customers/export/csv/", "/settings/company/"])
def test_a_company_the_user_is_not_a_member_of_is_404(personas, path):
    bob = personas.client(personas.bob)
    for prefix in (B, "/t/no-such-company"):
        response = bob.get(prefix + path)
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()
        # The 404 page's links lead back to Bob's own company, not the one he asked for.
        assert f'href="{B}/' not in response.content.decode()


def test_an_inactive_membership_is_404(two):
    Membership.objects.filter(user=two.alice, tenant=two.tenant_b).update(is_active=False)
    client = _alice(two, two.tenant_a)
    assert client.get(f"{B}/customers/").status_code == 404


def test_an_unprefixed_get_redirects_to_the_sessions_company(two):
    client = _alice(two, two.tenant_b)
    response = client.get("/customers/?q=Kund&sort=name")
    assert response.status_code == 302
    assert response["Location"] == f"{B}/customers/?q=Kund&sort=name"
    assert client.get("/")["Location"] == f"{B}/"
    # An address without a page is no company's: a plain 404.
    assert client.get("/no-such-page/").status_code == 404


def test_an_unprefixed_post_is_refused_and_changes_nothing(two):
    client = _alice(two, two.tenant_b)
    before = (_names(two.tenant_a), _names(two.tenant_b))
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(
            "/customers/new/",
            {"kind": "company", "name": "Vems Kund AB", "country": "SE"},
            headers=headers,
        )
        assert response.status_code == 400
        assert "Which company was this for?" in response.content.decode()
    assert (_names(two.tenant_a), _names(two.tenant_b)) == before


def test_anonymous_prefixed_page_goes_to_login_and_back(personas):
    response = Client().get(f"{A}/customers/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Ft%2Fnordljus%2Fcustomers%2F"
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "correct-horse-battery", "next": f"{A}/customers/"},
    )
    assert response["Location"] == f"{A}/customers/"


def test_public_pages_have_no_prefix(two):
    client = _alice(two, two.tenant_a)
    # A prefixed GET of a public page goes to the page itself.
    response = client.get(f"{A}/accounts/password-reset/?x=1")
    assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/?x=1"
    # The forms a tenant page posts to public pages (reverse() gives them the page's prefix)
    # are served as unprefixed requests: what they redirect to or send has no prefix.
    html = client.get(f"{A}/").content.decode()
    for name in ("/settings/tenant/switch/", "/i18n/setlang/", "/accounts/logout/"):
        assert f'action="{A}{name}"' in html, name
    response = client.post(f"{A}/i18n/setlang/", {"language": "sv", "next": f"{A}/customers/"})
    assert response.status_code == 302 and response["Location"] == f"{A}/customers/"
    response = client.post(f"{A}/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_an_email_sent_from_a_tenant_page_has_no_prefix(live_personas):
    # Committed data: the welcome email goes out when the request's transaction commits,
    # which is while the prefixed page is being answered.
    p = live_personas
    client = _alice(p, p.tenant_a)
    response = client.post(
        f"{A}/settings/members/", {"email": "nils@example.test", "role": "staff"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{A}/settings/members/"
    (message,) = mail.outbox
    assert f"{settings.SITE_URL}/accounts/reset/" in message.body
    assert "/t/" not in message.body
    assert Membership.objects.filter(user__email="nils@example.test", tenant=p.tenant_a).exists()


def test_the_script_prefix_is_restored_after_a_prefixed_request(two):
    client = _alice(two, two.tenant_a)
    assert client.get(f"{A}/customers/").status_code == 200
    assert get_script_prefix() == "/"
    assert client.get(f"{B}/no-such-page/").status_code == 404
    assert get_script_prefix() == "/"


def _wsgi_get(client: Client, script_name: str, path_info: str) -> tuple[str, dict, str]:
    """GET through Django's real WSGI handler (the test client ignores SCRIPT_NAME)."""
    environ = RequestFactory()._base_environ(
        PATH_INFO=path_info,
        SCRIPT_NAME=script_name,
        HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}",
    )
    answer = {}

    def start_response(status, headers):
        answer.update(status=status, headers=dict(headers))

    # As the test client does: a request must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    try:
        body = b"".join(WSGIHandler()(environ, start_response)).decode()
    finally:
        request_started.connect(close_old_connections)
        set_script_prefix("/")
    return answer["status"], answer["headers"], body


def test_under_a_wsgi_script_name(two):
    client = _alice(two, two.tenant_a)
    status, _headers, html = _wsgi_get(client, "/kundreg", f"{A}/customers/")
    assert status.startswith("200")
    assert 'href="/kundreg/t/nordljus/customers/new/"' in html
    assert 'action="/kundreg/t/nordljus/settings/tenant/switch/"' in html
    status, headers, _html = _wsgi_get(client, "/kundreg", "/customers/")
    assert status.startswith("302")
    assert headers["Location"] == "/kundreg/t/nordljus/customers/"


def test_switching_company_goes_to_the_new_companys_home(two):
    client = _alice(two, two.tenant_a)
    response = client.post(
        f"{A}/settings/tenant/switch/", {"tenant": two.tenant_b.pk, "next": f"{A}/customers/"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{B}/"
    assert client.session[SESSION_KEY] == two.tenant_b.pk
    page = client.get(response["Location"]).content.decode()
    assert "<h1>Fjordvik AS</h1>" in page


def test_the_slug_without_a_slash_is_the_home(two):
    client = _alice(two, two.tenant_a)
    response = client.get(A)
    assert response.status_code == 302 and response["Location"] == f"{A}/"


def test_a_user_without_a_company_is_not_redirected(db):
    client = Client()
    client.force_login(MembershipFactory(tenant=TenantFactory()).user)
    Membership.objects.all().delete()
    response = client.get("/customers/")
    assert response.status_code == 404
