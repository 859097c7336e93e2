"""Looking companies up in Norway's and Finland's business registries, and applying the result.

The registries are served by ``responses`` from recorded bodies in fixtures/;
nothing here touches the network.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import responses
from django.core.exceptions import ValidationError

from audit.actors import Actor
from audit.models import AuditEvent
from customers import registry_lookup
from customers.models import Address, ChangeRecord, Customer
from customers.registry_lookup import RegistryRecord, RegistryUnavailable, lookup, registry_number
from customers.registry_lookup.services import customer_registry_update, registry_proposals
from customers.services.addresses import address_add
from tenancy.context import tenant_context
from tests.factories import make_customer

SYSTEM = Actor.system("test")
FIXTURES = Path(__file__).parent / "fixtures"
BRREG = "https://data.brreg.no/enhetsregisteret/api/enheter/"
PRH = "https://avoindata.prh.fi/opendata-ytj-api/v3/companies"


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def registry():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(BRREG + "987654325", json=fixture("brreg_enhet_987654325.json"))
        mock.get(BRREG + "123456785", json=fixture("brreg_not_found_123456785.json"), status=404)
        mock.get(BRREG + "987654317", json=fixture("brreg_deleted_987654317.json"), status=410)
        mock.get(
            PRH,
            json=fixture("prh_companies_3141590-3.json"),
            match=[responses.matchers.query_param_matcher({"businessId": "3141590-3"})],
        )
        mock.get(
            PRH,
            json=fixture("prh_companies_empty.json"),
            match=[responses.matchers.query_param_matcher({"businessId": "3141591-1"})],
        )
        yield mock


@pytest.fixture
def tenant_a(personas):
    with tenant_context(personas.tenant_a):
        yield personas


# === The lookup ================================================================================


def test_norway_found(registry):
    record = lookup("NO", "987654325")
    assert record == RegistryRecord(
        registry="brreg",
        number="987654325",
        name="FJORDVIK TRELAST AS",
        line1="Strandkaien 12",
        line2="Bygg B",
        postcode="5003",
        city="BERGEN",
        country="NO",
        email="post@fjordvik-trelast.no",
        website="www.fjordvik-trelast.no",
    )
    request = registry.calls[0].request
    assert request.url == BRREG + "987654325"
    assert request.req_kwargs["timeout"] == 5.0
    assert request.headers["Accept"] == "application/json"


def test_norway_not_found_and_deleted(registry):
    assert lookup("NO", "123456785") is None
    assert lookup("NO", "987654317") is None  # 410 Gone: deleted from the register
    assert lookup("NO", "987654321") is None  # a bad check digit is never sent
    assert len(registry.calls) == 2


def test_finland_found(registry):
    record = lookup("FI", "3141590-3")
    assert record == RegistryRecord(
        registry="prh",
        number="3141590-3",
        name="Revontuli Rakennus Oy",  # the current name, not the ended one or the auxiliary
        line1="Hämeenkatu 14 B",
        line2="",
        postcode="33100",
        city="TAMPERE",
        country="FI",
        email="",  # YTJ publishes none
        website="www.revontulirakennus.fi",
    )
    assert registry.calls[0].request.req_kwargs["timeout"] == 5.0


def test_finland_not_found(registry):
    assert lookup("FI", "3141591-1") is None
    assert lookup("FI", "31415911") is None  # the same number, compact


def test_finland_postal_address_when_there_is_no_visiting_address():
    body = fixture("prh_companies_3141590-3.json")
    company = body["companies"][0]
    company["addresses"] = [a for a in company["addresses"] if a["type"] == 2]
    with responses.RequestsMock() as mock:
        mock.get(PRH, json=body)
        record = lookup("FI", "3141590-3")
    assert (record.line1, record.postcode, record.city) == ("PL 226", "33101", "TAMPERE")


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 503, "body": "Service Unavailable"},
        {"status": 500, "json": {"error": "boom"}},
        {"status": 429, "body": ""},
        {"status": 200, "body": "<html>maintenance</html>"},
        {"body": requests.ConnectTimeout("connect timed out")},
        {"body": requests.ReadTimeout("read timed out")},
        {"body": requests.ConnectionError("connection refused")},
    ],
)
@pytest.mark.parametrize(
    ("country", "number", "url"), [("NO", "987654325", BRREG), ("FI", "3141590-3", PRH)]
)
def test_registry_down_is_unavailable(failure, country, number, url):
    with responses.RequestsMock() as mock:
        mock.get(url + (number if country == "NO" else ""), **failure)
        with pytest.raises(RegistryUnavailable):
            lookup(country, number)


def test_unknown_country_has_no_backend():
    with pytest.raises(ValueError, match="no business registry"):
        lookup("SE", "5560360793")
    assert set(registry_lookup.SUPPORTED_COUNTRIES) == {"NO", "FI"}


@pytest.mark.parametrize(
    ("country", "org_number", "vat_number", "expected"),
    [
        ("NO", "987 654 325", "", "987654325"),
        ("NO", "", "NO987654325MVA", "987654325"),
        ("NO", "", "987654325MVA", "987654325"),
        ("NO", "12345", "", ""),
        ("FI", "3141590-3", "", "3141590-3"),
        ("FI", "", "FI31415903", "3141590-3"),
        ("FI", "", "", ""),
        ("SE", "556036-0793", "SE556036079301", ""),
    ],
)
def test_the_number_to_look_up_comes_from_org_or_vat_number(
    country, org_number, vat_number, expected
):
    customer = Customer(country=country, org_number=org_number, vat_number=vat_number)
    assert registry_number(customer) == expected


# === Applying the record =========================================================================


def _norwegian(**fields) -> Customer:
    defaults = {
        "name": "Fjordvik Trelast AS",
        "country": "NO",
        "org_number": "987654325",
        "email": "gammel@fjordvik.no",
    }
    return make_customer(**(defaults | fields))


def test_proposals_compare_card_and_registry(tenant_a, registry):
    customer = _norwegian(website="https://www.fjordvik-trelast.no/")
    address_add(
        customer=customer, actor=SYSTEM, line1="Gamleveien 1", postcode="5003", city="Bergen"
    )
    proposals = {
        p.field: p for p in registry_proposals(customer=customer, record=lookup("NO", "987654325"))
    }
    assert proposals["name"].changes and proposals["name"].proposed == "FJORDVIK TRELAST AS"
    assert proposals["address"].current == "Gamleveien 1, 5003 Bergen, NO"
    assert proposals["address"].proposed == "Strandkaien 12, Bygg B, 5003 BERGEN, NO"
    assert proposals["email"].changes
    assert not proposals["website"].changes  # the same site, written differently


def test_applying_only_the_chosen_fields(tenant_a, registry):
    customer = _norwegian()
    head = address_add(
        customer=customer, actor=SYSTEM, line1="Gamleveien 1", postcode="5003", city="Bergen"
    )
    record = lookup("NO", "987654325")
    applied = customer_registry_update(
        customer=customer, record=record, fields=["name", "website"], actor=SYSTEM
    )
    assert applied == ["name", "website"]
    customer.refresh_from_db()
    head.refresh_from_db()
    assert customer.name == "FJORDVIK TRELAST AS"
    assert customer.website == "https://www.fjordvik-trelast.no"
    assert customer.email == "gammel@fjordvik.no"
    assert head.line1 == "Gamleveien 1"
    changed = set(ChangeRecord.objects.filter(customer=customer).values_list("field", flat=True))
    assert {"name", "website"} <= changed and "email" not in changed and "line1" not in changed
    event = AuditEvent.objects.get(action="customer.registry_updated")
    assert event.data == {"registry": "brreg", "fields": ["name", "website"]}


def test_applying_the_address_updates_or_creates_the_head_office(tenant_a, registry):
    record = lookup("NO", "987654325")
    with_head = _norwegian(name="A")
    head = address_add(customer=with_head, actor=SYSTEM, line1="Gamleveien 1", city="Bergen")
    customer_registry_update(customer=with_head, record=record, fields=["address"], actor=SYSTEM)
    head.refresh_from_db()
    assert (head.line1, head.line2, head.postcode, head.city, head.country) == (
        "Strandkaien 12",
        "Bygg B",
        "5003",
        "BERGEN",
        "NO",
    )
    assert ChangeRecord.objects.filter(
        customer=with_head, object_type="address", field="line1"
    ).exists()
    without = _norwegian(name="B", org_number="")
    customer_registry_update(customer=without, record=record, fields=["address"], actor=SYSTEM)
    created = Address.objects.get(customer=without)
    assert created.is_head_office and created.line1 == "Strandkaien 12"


def test_a_value_the_registry_lacks_is_never_removed(tenant_a, registry):
    customer = make_customer(
        name="Revontuli", country="FI", org_number="3141590-3", email="info@revontuli.fi"
    )
    record = lookup("FI", "3141590-3")
    proposals = {p.field: p for p in registry_proposals(customer=customer, record=record)}
    assert not proposals["email"].changes
    assert (
        customer_registry_update(customer=customer, record=record, fields=["email"], actor=SYSTEM)
        == []
    )
    customer.refresh_from_db()
    assert customer.email == "info@revontuli.fi"
    assert not AuditEvent.objects.filter(action="customer.registry_updated").exists()


def test_a_bad_registry_value_changes_nothing(tenant_a):
    customer = _norwegian()
    record = RegistryRecord(
        registry="brreg", number="987654325", name="NYTT NAVN AS", email="not an email"
    )
    with pytest.raises(ValidationError) as exc:
        customer_registry_update(
            customer=customer, record=record, fields=["name", "email"], actor=SYSTEM
        )
    assert "email" in exc.value.message_dict
    customer.refresh_from_db()
    assert customer.name == "Fjordvik Trelast AS"
    with pytest.raises(ValidationError) as exc:
        customer_registry_update(customer=customer, record=record, fields=["phone"], actor=SYSTEM)
    assert "fields" in exc.value.message_dict


# === The page ====================================================================================


def _url(customer) -> str:
    return f"/customers/{customer.pk}/update-from-registry/"


def test_page_shows_current_beside_proposed_and_applies_ticked_fields(personas, registry):
    with tenant_context(personas.tenant_a):
        customer = _norwegian()
    client = personas.client(personas.bob)
    page = client.get(_url(customer))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Fjordvik Trelast AS" in html and "FJORDVIK TRELAST AS" in html
    assert 'name="name"' in html and 'name="email"' in html and 'name="address"' in html
    assert f'href="/t/nordljus/customers/{customer.pk}/"' in html
    response = client.post(_url(customer), {"name": "on"})
    assert response.status_code == 302
    assert response["Location"] == f"/t/nordljus/customers/{customer.pk}/"
    with tenant_context(personas.tenant_a):
        customer.refresh_from_db()
        assert customer.name == "FJORDVIK TRELAST AS"
        assert customer.email == "gammel@fjordvik.no" and customer.website == ""
        assert not customer.addresses.exists()


def test_page_with_nothing_ticked_changes_nothing(personas, registry):
    with tenant_context(personas.tenant_a):
        customer = _norwegian()
    response = personas.client(personas.bob).post(_url(customer), {})
    assert response.status_code == 200 and 'class="errorlist"' in response.content.decode()
    with tenant_context(personas.tenant_a):
        customer.refresh_from_db()
        assert customer.name == "Fjordvik Trelast AS"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"country": "SE", "org_number": "5560360793"}, "Norway and Finland only"),
        ({"country": "NO", "org_number": ""}, "organisation number or VAT number"),
        ({"country": "NO", "org_number": "123456785"}, "has no company with the number 123456785"),
        ({"country": "FI", "org_number": "3141591-1"}, "has no company with the number 3141591-1"),
    ],
)
def test_page_explains_when_there_is_nothing_to_look_up(personas, registry, fields, message):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Kund", **fields)
    response = personas.client(personas.alice).get(_url(customer))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert personas.client(personas.alice).post(_url(customer), {"name": "on"}).status_code == 200


def test_page_says_the_registry_is_unavailable(personas):
    with tenant_context(personas.tenant_a):
        customer = _norwegian()
    with responses.RequestsMock() as mock:
        mock.get(BRREG + "987654325", body=requests.ReadTimeout("read timed out"))
        mock.get(BRREG + "987654325", status=502)
        client = personas.client(personas.alice)
        for method in ("get", "post"):
            response = getattr(client, method)(_url(customer), {"name": "on"})
            assert response.status_code == 200
            assert "unavailable" in response.content.decode()
    with tenant_context(personas.tenant_a):
        customer.refresh_from_db()
        assert customer.name == "Fjordvik Trelast AS"


def test_page_needs_registry_edit_and_the_tenant(personas, registry):
    with tenant_context(personas.tenant_a):
        customer = _norwegian()
    assert personas.client(personas.erik).get(_url(customer)).status_code == 403
    assert personas.client(personas.charlie).get(_url(customer)).status_code == 404
    assert personas.client(personas.charlie).post(_url(customer), {"name": "on"}).status_code == 404
    assert len(registry.calls) == 0
