"""Signing in and out, password reset, lockout, language and tenant switching."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from tenancy.middleware import SESSION_KEY
from tenancy.roles import Role
from tests.factories import MembershipFactory, TenantFactory
from tests.personas import PASSWORD
from tests.tenant_urls import in_company

LOGIN = "/accounts/login/"


def _login(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def _heading(response) -> str:
    match = re.search(r"<h1>(.*?)</h1>", response.content.decode(), re.S)
    assert match, "the page has no <h1>"
    return match.group(1).strip()


def test_login_page_has_labelled_fields(db):
    response = Client().get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("username", "password"):
        assert f'name="{name}"' in html
        assert f'<label for="id_{name}">' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_login_lands_on_home_with_the_tenant_name(personas):
    client = Client()
    response = _login(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/", follow=True)  # on to the company's own /t/<slug>/
    assert home.status_code == 200
    assert _heading(home) == "Nordljus AB"


def test_login_follows_a_safe_next_but_not_an_open_redirect(personas):
    client = Client()
    response = client.post(
        LOGIN, {"username": "alice", "password": PASSWORD, "next": "/settings/registers/"}
    )
    assert response["Location"] == "/settings/registers/"
    client = Client()
    response = client.post(
        LOGIN, {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_wrong_password_shows_an_error_and_signs_nobody_in(personas):
    client = Client()
    response = _login(client, "alice", "wrong")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errorlist" role="alert"' in html
    assert "Please enter a correct username and password" in html
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith(LOGIN)


def test_login_with_empty_fields_shows_field_errors(db):
    response = Client().post(LOGIN, {"username": "", "password": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_username_error"' in html
    assert 'id="id_password_error"' in html


def test_lockout_after_too_many_failures_refuses_even_the_right_password(personas):
    assert settings.AXES_FAILURE_LIMIT == 3
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "alice", "wrong").status_code == 200
    locked = _login(client, "alice", "wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    right = _login(client, "alice", PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith(LOGIN)


def test_password_reset_mails_a_working_link_on_site_url(personas):
    # The link must not come from the Host header (password-reset poisoning).
    client = Client(HTTP_HOST="localhost")
    response = client.post("/accounts/password-reset/", {"email": "alice@example.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.test"]
    link = re.search(r"https?://\S+", message.body).group(0)
    assert link.startswith(settings.SITE_URL + "/accounts/reset/")

    # Django swaps the token for a session marker and redirects to the form.
    form_page = client.get(link.removeprefix(settings.SITE_URL), follow=True)
    assert form_page.status_code == 200
    assert 'name="new_password1"' in form_page.content.decode()
    new = "a-brand-new-passphrase"
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert done["Location"] == "/accounts/reset/done/"

    assert _login(Client(), "alice", PASSWORD).status_code == 200  # the old one is gone
    assert _login(Client(), "alice", new)["Location"] == "/"
    # The link works once.
    again = client.get(link.removeprefix(settings.SITE_URL), follow=True)
    assert "This link is invalid" in again.content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(db):
    response = Client().post("/accounts/password-reset/", {"email": "nobody@example.test"})
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


def test_logout_is_post_only(personas):
    client = personas.client(personas.alice)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.get("/")["Location"].startswith(LOGIN)


def test_language_switch_makes_the_next_page_swedish(personas):
    client = personas.client(personas.alice)
    assert "Log out" in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "sv", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="sv">' in html
    assert "Logga ut" in html
    assert "Log out" not in html


def test_language_switch_refuses_an_open_redirect(db):
    response = Client().post("/i18n/setlang/", {"language": "da", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.fixture
def alice_in_two(personas):
    MembershipFactory(user=personas.alice, tenant=personas.tenant_b, role=Role.STAFF)
    return personas


def test_tenant_switcher_changes_the_active_tenant(alice_in_two):
    p = alice_in_two
    client = p.client(p.alice)
    # Tenants are listed by name; the first one is active until the user picks.
    assert _heading(client.get("/")) == "Fjordvik AS"
    response = client.post("/settings/tenant/switch/", {"tenant": p.tenant_a.pk, "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == in_company(p.tenant_a, "/")
    assert _heading(client.get("/")) == "Nordljus AB"
    # Her role follows the tenant: admin in A, staff in B.
    assert client.get("/settings/registers/").status_code == 200
    client.post("/settings/tenant/switch/", {"tenant": p.tenant_b.pk})
    assert _heading(client.get("/")) == "Fjordvik AS"
    assert client.get("/settings/registers/").status_code == 403


def test_tenant_switcher_is_offered_only_to_members_of_several(alice_in_two):
    p = alice_in_two
    html = p.client(p.alice).get("/").content.decode()
    assert 'id="tenant-select"' in html
    assert "Nordljus AB" in html
    assert 'id="tenant-select"' not in p.client(p.bob).get("/").content.decode()


@pytest.mark.parametrize(
    "tenant",
    ["other", "", "not-a-number"],
)
def test_switching_to_a_tenant_one_is_not_a_member_of_is_404(alice_in_two, tenant):
    p = alice_in_two
    if tenant == "other":
        tenant = TenantFactory(name="Outsider Oy").pk
    client = p.client(p.alice)
    client.post("/settings/tenant/switch/", {"tenant": p.tenant_a.pk})
    response = client.post("/settings/tenant/switch/", {"tenant": tenant})
    assert response.status_code == 404
    assert client.session[SESSION_KEY] == p.tenant_a.pk
    assert _heading(client.get("/")) == "Nordljus AB"


def test_switching_to_an_inactive_membership_is_404(alice_in_two):
    p = alice_in_two
    p.alice.memberships.filter(tenant=p.tenant_b).update(is_active=False)
    client = p.client(p.alice)
    assert client.post("/settings/tenant/switch/", {"tenant": p.tenant_b.pk}).status_code == 404
    assert _heading(client.get("/")) == "Nordljus AB"


def test_tenant_switch_is_post_only(alice_in_two):
    client = alice_in_two.client(alice_in_two.alice)
    assert (
        client.get(f"/settings/tenant/switch/?tenant={alice_in_two.tenant_a.pk}").status_code == 405
    )


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_tenant_switch_refuses_an_open_redirect(alice_in_two, target):
    p = alice_in_two
    client = p.client(p.alice)
    response = client.post("/settings/tenant/switch/", {"tenant": p.tenant_a.pk, "next": target})
    assert response.status_code == 302
    assert response["Location"] == in_company(p.tenant_a, "/")


def test_tenant_switch_goes_to_the_new_companys_home(alice_in_two):
    # Not to ``next``: that page is the old company's (tests/tenancy/test_url_prefix.py).
    p = alice_in_two
    client = p.client(p.alice)
    response = client.post(
        "/settings/tenant/switch/", {"tenant": p.tenant_a.pk, "next": "/audit/?page=2"}
    )
    assert response["Location"] == in_company(p.tenant_a, "/")
