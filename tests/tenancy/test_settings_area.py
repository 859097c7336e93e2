"""One settings area (issue 14, item 3): a "Settings" entry in the navigation, an index
listing every settings page the role may open, the same menu beside every settings page,
and the consent text's languages as tabs."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from audit.models import AuditEvent
from tenancy.context import tenant_context
from tenancy.models import NumberSeries
from tests.factories import make_customer

# Every settings page, its menu label, and its h1.
PAGES = [
    ("/settings/company/", "Company", "Company settings"),
    ("/settings/numbering/", "Numbering", "Numbering"),
    ("/settings/registers/", "Registers", "Reference registers"),
    ("/settings/consent/", "Consent texts", "Consent terms"),
    ("/settings/sms/", "SMS", "SMS"),
    ("/settings/retention/", "Retention", "Retention"),
    ("/reports/settings/", "Reports", "Reports"),  # the label sheet (tests/reports/)
    ("/settings/members/", "Users", "Users"),
    ("/settings/api-keys/", "API keys", "API keys"),
    ("/settings/webhooks/", "Webhooks", "Webhooks"),  # tests/webhooks/
]
A = "/t/nordljus"


def _main_nav(html: str) -> str:
    return html.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]


def _settings_menu(html: str) -> dict[str, str]:
    menu = html.split('class="settings-menu"', 1)[1].split("</nav>", 1)[0]
    return dict(
        (label.strip(), href)
        for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', menu)
    )


def test_the_admin_has_one_settings_entry_leading_to_every_settings_page(personas):
    alice = personas.client(personas.alice)
    nav = _main_nav(alice.get("/").content.decode())
    assert f'href="{A}/settings/"' in nav and ">Settings<" in nav
    for gone in ("Company settings", "Registers", "Retention", "Users", "API keys"):
        assert f">{gone}<" not in nav  # in the settings menu now
    index = alice.get("/settings/")
    assert index.status_code == 200
    assert _settings_menu(index.content.decode()) == {
        label: f"{A}{url}" for url, label, _h1 in PAGES
    }


@pytest.mark.parametrize(("url", "label", "h1"), PAGES)
def test_every_settings_page_shows_the_settings_menu_with_itself_current(personas, url, label, h1):
    html = personas.client(personas.alice).get(url).content.decode()
    assert f"<h1>{h1}</h1>" in html
    menu = _settings_menu(html)
    assert menu == {lb: f"{A}{u}" for u, lb, _h1 in PAGES}
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', html.split("settings-menu")[1])
    assert current[0] == f"{A}{url}"


@pytest.mark.parametrize("who", ["bea", "bob", "erik"])
def test_roles_without_settings_see_no_entry_and_get_403(personas, who):
    client = personas.client(getattr(personas, who))
    nav = _main_nav(client.get("/").content.decode())
    assert "/settings/" not in nav and ">Settings<" not in nav
    assert client.get("/settings/").status_code == 403
    for url, _label, _h1 in PAGES:
        assert client.get(url).status_code == 403, url


def test_another_companys_settings_do_not_exist_for_charlie(personas):
    charlie = personas.client(personas.charlie)
    for url in ["/settings/", *(u for u, _l, _h in PAGES)]:
        assert charlie.get(f"{A}{url}").status_code == 404, url
    # His own settings area lists his company's pages.
    html = charlie.get("/settings/").content.decode()
    assert "/t/fjordvik/settings/sms/" in html and "nordljus" not in html


def test_the_settings_index_needs_a_login():
    response = Client().get("/settings/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_consent_text_languages_are_tabs_not_a_bullet_list(personas):
    html = personas.client(personas.alice).get("/settings/consent/?language=en").content.decode()
    # app.css styles ``.tabs ul`` as tabs: the class belongs on the nav around the list.
    tabs = re.search(r'<nav class="tabs" aria-label="Language"><ul>(.*?)</ul></nav>', html, re.S)
    assert tabs is not None, html
    assert re.search(r'aria-current="page" lang="en">English<', tabs.group(1))
    assert "ul class=" not in tabs.group(0)


def test_numbering_shows_and_sets_the_next_numbers(personas):
    alice = personas.client(personas.alice)
    form = alice.get("/settings/numbering/").context["form"]
    assert form.initial == {"customer_next": 1000, "contact_next": 1}
    response = alice.post("/settings/numbering/", {"customer_next": "5000", "contact_next": "1"})
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        assert NumberSeries.objects.get(key="customer").next_value == 5000
        assert not NumberSeries.objects.filter(key="contact").exists()  # unchanged, not saved
        assert [e.data for e in AuditEvent.objects.filter(action="number_series.changed")] == [
            {"next_value": 5000}
        ]
        assert make_customer().number == "5000"
    for bad in ("0", "-1", "x", "1.5", "9" * 20):
        response = alice.post("/settings/numbering/", {"customer_next": bad, "contact_next": "1"})
        assert response.status_code == 200 and "customer_next" in response.context["form"].errors
