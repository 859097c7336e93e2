"""The customer picker (issue 14, item 12): number and name only, for every role, in the
UI (/customers/pick/) and the API (GET /api/v1/customers/pick/, scope customers:pick)."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.actors import Actor
from customers.models import Customer
from tenancy.context import tenant_context
from tenancy.services import api_key_create
from tests.factories import make_customer


@pytest.fixture
def customers_a(personas):
    with tenant_context(personas.tenant_a):
        berg = make_customer(name="Åberg Måleri AB", email="info@aberg.test", phone="+4640123456")
        lind = make_customer(name="Lind & Söner AB")
        gone = make_customer(name="Åberg Gammal AB")
        Customer.objects.filter(pk=gone.pk).update(status="anonymized")
        many = [make_customer(name=f"Serie Bygg {i:02d} AB") for i in range(25)]
    return {"berg": berg, "lind": lind, "gone": gone, "many": many}


def key_with(personas, tenant, *scopes: str) -> Client:
    with tenant_context(tenant):
        _obj, key = api_key_create(name="Tidrapport", scopes=list(scopes), actor=Actor.system())
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


# --- the page -----------------------------------------------------------------------------


def test_employee_picks_by_name_without_accents_and_sees_number_and_name_only(
    personas, customers_a
):
    client = personas.client(personas.erik)
    assert client.get("/customers/").status_code == 403  # still no browsing
    response = client.get("/customers/pick/", {"q": "aberg"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Åberg Måleri AB" in html and customers_a["berg"].number in html
    assert "Åberg Gammal AB" not in html  # anonymized: left out
    assert "Lind &amp; Söner AB" not in html
    assert "info@aberg.test" not in html and "40123456" not in html
    assert f"/customers/{customers_a['berg'].pk}/" not in html  # no link into the card


def test_picker_finds_by_number(personas, customers_a):
    number = customers_a["lind"].number
    html = personas.client(personas.erik).get("/customers/pick/", {"q": number}).content.decode()
    assert "Lind &amp; Söner AB" in html


def test_an_empty_search_lists_nobody(personas, customers_a):
    html = personas.client(personas.erik).get("/customers/pick/").content.decode()
    assert "Åberg Måleri AB" not in html and "<table" not in html
    html = personas.client(personas.erik).get("/customers/pick/", {"q": " "}).content.decode()
    assert "<table" not in html


def test_at_most_twenty(personas, customers_a):
    html = personas.client(personas.erik).get("/customers/pick/", {"q": "serie bygg"}).content
    assert html.decode().count('<td class="customer-number">') == 20


def test_htmx_gets_the_results_only(personas, customers_a):
    response = personas.client(personas.erik).get(
        "/customers/pick/", {"q": "lind"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "Lind &amp; Söner AB" in html and "<html" not in html


def test_another_tenants_member_finds_none_of_ours(personas, customers_a):
    html = personas.client(personas.charlie).get("/customers/pick/", {"q": "aberg"}).content
    assert "Åberg" not in html.decode()


def test_a_too_long_search_is_a_field_error(personas):
    response = personas.client(personas.erik).get("/customers/pick/", {"q": "x" * 201})
    assert response.status_code == 200
    assert "Ensure this value has at most 200 characters" in response.content.decode()


# --- the API ------------------------------------------------------------------------------


def test_pick_scope_answers_number_and_name(personas, customers_a):
    client = key_with(personas, personas.tenant_a, "customers:pick")
    response = client.get("/api/v1/customers/pick/", {"q": "aberg"})
    assert response.status_code == 200
    berg = customers_a["berg"]
    assert response.json() == [{"id": berg.pk, "number": berg.number, "name": berg.name}]
    # The pick scope opens nothing else of the registry.
    assert client.get("/api/v1/customers/").status_code == 403
    assert client.get(f"/api/v1/customers/{berg.pk}/").status_code == 403


def test_read_scope_may_pick_too_but_write_alone_may_not(personas, customers_a):
    reader = key_with(personas, personas.tenant_a, "customers:read")
    assert reader.get("/api/v1/customers/pick/", {"q": "lind"}).json()[0]["name"] == (
        "Lind & Söner AB"
    )
    writer = key_with(personas, personas.tenant_a, "consent:write")
    assert writer.get("/api/v1/customers/pick/", {"q": "lind"}).status_code == 403


def test_api_caps_at_twenty_and_leaves_anonymized_out(personas, customers_a):
    client = key_with(personas, personas.tenant_a, "customers:pick")
    assert len(client.get("/api/v1/customers/pick/", {"q": "serie"}).json()) == 20
    names = [c["name"] for c in client.get("/api/v1/customers/pick/", {"q": "åberg"}).json()]
    assert names == ["Åberg Måleri AB"]
    assert client.get("/api/v1/customers/pick/", {"q": ""}).json() == []


def test_api_refuses_unknown_parameters_and_a_missing_q(personas, customers_a):
    client = key_with(personas, personas.tenant_a, "customers:pick")
    response = client.get("/api/v1/customers/pick/", {"q": "lind", "email": "x"})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["email"]
    response = client.get("/api/v1/customers/pick/")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["q"]


def test_another_tenants_key_finds_none_of_ours(personas, customers_a):
    client = key_with(personas, personas.tenant_b, "customers:pick")
    assert client.get("/api/v1/customers/pick/", {"q": "aberg"}).json() == []


def test_employee_session_may_pick_through_the_api(personas, customers_a):
    response = personas.client(personas.erik).get("/api/v1/customers/pick/", {"q": "lind"})
    assert response.status_code == 200 and response.json()[0]["name"] == "Lind & Söner AB"


def test_the_employees_menu_leads_to_the_picker(personas):
    html = personas.client(personas.erik).get("/").content.decode()
    assert 'href="/t/nordljus/customers/pick/"' in html or 'customers/pick/"' in html
    staff = personas.client(personas.bob).get("/").content.decode()
    assert "customers/pick/" not in staff  # staff have the whole list
