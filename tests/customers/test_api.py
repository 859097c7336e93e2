"""The customers REST API (docs/api.md): lists and search, the card, nested registers, isolation."""

from __future__ import annotations

import pytest

from audit.actors import Actor
from audit.models import AuditEvent
from customers.models import ChangeRecord, Contact, Customer, CustomerStatus
from tenancy.context import tenant_context
from tenancy.models import ReferenceRegister
from tenancy.services import api_key_create
from tests.customers.api_helpers import PROBLEM, URL, errors, send
from tests.factories import ReferenceEntryFactory, make_customer


def names(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [c["name"] for c in response.json()["results"]]


@pytest.fixture
def in_a(personas):
    """Run a block in tenant A: ``with in_a(): ...``."""
    return lambda: tenant_context(personas.tenant_a)


# ---------------------------------------------------------------------------
# The list: search and filters


@pytest.mark.parametrize("query", ["ostergard", "Østergård", "OESTERGAARD", "bygg oster"])
def test_search_is_accent_and_case_insensitive(api_a, in_a, query):
    with in_a():
        make_customer(name="Østergård Bygg AB")
        make_customer(name="Sørensen & Søn ApS")
    response = api_a.get(URL, {"search": query})
    assert names(response) == ["Østergård Bygg AB"]
    assert set(response.json()) == {"results", "next", "previous", "truncated"}


@pytest.mark.parametrize(
    "query", ["070-123 45 67", "0701234567", "+46 70 123 45 67", "+46701234567", "123 45 67"]
)
@pytest.mark.parametrize("param", ["search", "phone"])
def test_phone_is_found_in_any_format(api_a, in_a, param, query):
    with in_a():
        make_customer(name="Telefon AB", phone="070 123 45 67")
        make_customer(name="Annan AB", phone="08-555 000 11")
    assert names(api_a.get(URL, {param: query})) == ["Telefon AB"]


def test_number_and_email_filters(api_a, in_a):
    with in_a():
        volvo = make_customer(name="Volvo", email="inkop@volvo.se", org_number="5560360793")
        make_customer(name="Scania", email="info@scania.se")
    assert names(api_a.get(URL, {"number": volvo.number})) == ["Volvo"]
    assert names(api_a.get(URL, {"email": "INKOP@volvo.se"})) == ["Volvo"]
    assert names(api_a.get(URL, {"email": "inkop@volvo"})) == []
    assert names(api_a.get(URL, {"search": "556036-0793"})) == ["Volvo"]


def test_status_filter_defaults_to_active(api_a, in_a):
    with in_a():
        make_customer(name="Aktiv AB")
        sleeping = make_customer(name="Vilande AB")
        gone = make_customer(name="Borta AB")
        Customer.objects.filter(pk=sleeping.pk).update(status=CustomerStatus.INACTIVE)
        Customer.objects.filter(pk=gone.pk).update(status=CustomerStatus.ANONYMIZED)
    assert names(api_a.get(URL)) == ["Aktiv AB"]
    assert names(api_a.get(URL, {"status": "inactive"})) == ["Vilande AB"]
    assert names(api_a.get(URL, {"status": "anonymized"})) == ["Borta AB"]
    assert names(api_a.get(URL, {"status": "all"})) == ["Aktiv AB", "Borta AB", "Vilande AB"]


def test_reference_and_activity_filters(api_a, in_a):
    from datetime import UTC, datetime

    with in_a():
        north = ReferenceEntryFactory(register=ReferenceRegister.DISTRICT, code="N")
        group = ReferenceEntryFactory(register=ReferenceRegister.CUSTOMER_GROUP, code="G")
        old = make_customer(name="Gammal AB", district=north, groups=[group])
        recent = make_customer(name="Ny AB")
        Customer.objects.filter(pk=old.pk).update(last_activity_at=datetime(2015, 3, 1, tzinfo=UTC))
        Customer.objects.filter(pk=recent.pk).update(last_activity_at=datetime.now(UTC))
        make_customer(name="Aldrig AB")
    assert names(api_a.get(URL, {"district": north.pk})) == ["Gammal AB"]
    assert names(api_a.get(URL, {"group": group.pk})) == ["Gammal AB"]
    assert names(api_a.get(URL, {"last_activity_before": "2020-01-01"})) == [
        "Aldrig AB",
        "Gammal AB",
    ]
    assert names(api_a.get(URL, {"ordering": "-last_activity"})) == [
        "Ny AB",
        "Gammal AB",
        "Aldrig AB",
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"last_activity_before": "yesterday"}, "last_activity_before"),
        ({"last_activity_before": "2024-13-45"}, "last_activity_before"),
        ({"district": "abc"}, "district"),
        ({"group": "-1"}, "group"),
        ({"business_area": "99999999999999999999999"}, "business_area"),
        ({"status": "deleted"}, "status"),
        ({"ordering": "secret"}, "ordering"),
        ({"number": "\x00"}, "number"),
    ],
)
def test_bad_query_parameters_are_field_errors(api_a, params, field):
    assert field in errors(api_a.get(URL, params))


def test_pages_follow_the_cursor(api_a, in_a):
    with in_a():
        for name in ("A", "B", "C", "D", "E"):
            make_customer(name=f"{name} AB")
    seen = []
    for ordering in ("name", "-last_activity", "-number"):
        url, seen = f"{URL}?page_size=2&ordering={ordering}", []
        while url:
            body = api_a.get(url).json()
            seen += [c["name"] for c in body["results"]]
            url = body["next"]
        assert sorted(seen) == ["A AB", "B AB", "C AB", "D AB", "E AB"]
        assert len(seen) == 5
    assert seen == ["E AB", "D AB", "C AB", "B AB", "A AB"]


@pytest.mark.parametrize("cursor", ["garbage", "cD1hYmM=", "cD0lMDA=", "bz05OTk5OTk5OTk5OTk5"])
def test_a_tampered_cursor_is_not_a_500(api_a, in_a, cursor):
    # cD1hYmM= is "p=abc" (not a number for -pk ordering), cD0lMDA= "p=%00".
    with in_a():
        make_customer(name="A AB")
    for ordering in ("name", "-last_activity", "created"):
        response = api_a.get(URL, {"cursor": cursor, "ordering": ordering})
        assert response.status_code in (200, 404), response.content[:300]
        if response.status_code == 404:
            assert response["Content-Type"] == PROBLEM


# ---------------------------------------------------------------------------
# Create and change


def test_create_without_number_takes_the_next_series_number(api_a, in_a):
    first = send(api_a, "post", URL, {"name": "Första AB"})
    second = send(api_a, "post", URL, {"name": "Andra AB", "number": ""})
    assert first.status_code == second.status_code == 201
    assert int(second.json()["number"]) == int(first.json()["number"]) + 1
    body = first.json()
    assert body["status"] == "active" and body["address"] is None
    assert body["consent"] == {
        "status": "none",
        "terms_version": None,
        "decided_at": None,
        "method": None,
    }
    assert body["country"] == "SE" and body["kind"] == "company"
    for field in (
        "id",
        "number",
        "kind",
        "name",
        "org_number",
        "vat_number",
        "email",
        "phone",
        "mobile",
        "language",
        "country",
        "address",
        "status",
        "last_activity_at",
        "retention_years",
        "consent",
        "created_at",
        "updated_at",
    ):
        assert field in body
    with in_a():
        assert AuditEvent.objects.filter(action="customer.created").count() == 2


def test_create_defaults_to_the_tenants_country(api_b):
    response = send(api_b, "post", URL, {"name": "Fjord AS", "org_number": "923609016"})
    assert response.status_code == 201, response.content
    assert response.json()["country"] == "NO"
    assert response.json()["org_number"] == "923 609 016"


def test_create_with_an_address_makes_it_the_head_office(api_a, in_a):
    address = {"line1": "Storgatan 1", "postcode": "111 22", "city": "Stockholm"}
    response = send(api_a, "post", URL, {"name": "Adress AB", "address": address})
    assert response.status_code == 201, response.content
    assert response.json()["address"] == {**address, "line2": "", "country": "SE"}
    addresses = api_a.get(f"{URL}{response.json()['id']}/addresses/").json()["results"]
    # The head office is the flag; no kind says it (issue 14, item 7).
    assert [(a["kind"], a["is_head_office"]) for a in addresses] == [("postal", True)]


def test_a_bad_address_creates_no_customer(api_a, in_a):
    body = {"name": "Halv AB", "address": {"kind": "nonsense", "line1": "x"}}
    assert "address.kind" in errors(send(api_a, "post", URL, body))
    body = {"name": "Halv AB", "address": {"line1": "x" * 300}}
    assert "address.line1" in errors(send(api_a, "post", URL, body))
    with in_a():
        assert not Customer.objects.filter(name="Halv AB").exists()


def test_duplicate_number_is_a_field_error_and_creates_nothing(api_a, in_a):
    assert send(api_a, "post", URL, {"name": "Ett AB", "number": "K-1"}).status_code == 201
    response = send(api_a, "post", URL, {"name": "Två AB", "number": "K-1"})
    assert errors(response) == {"number": "Another customer already has this number."}
    with in_a():
        assert not Customer.objects.filter(name="Två AB").exists()


def test_invalid_org_number_gets_a_field_level_message(api_a, in_a):
    response = send(api_a, "post", URL, {"name": "Fel AB", "org_number": "556036-0794"})
    message = errors(response)["org_number"]
    assert "SE" in message and "556677-8899" in message
    with in_a():
        assert not Customer.objects.filter(name="Fel AB").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"kind": "robot"}, "kind"),
        ({"country": "Sweden"}, "country"),
        ({"name": "x\x00y"}, "name"),
        ({"groups": "1"}, "groups"),
        ({"district": 1.5}, "district"),
        ({"district": True}, "district"),
        ({"district": 10**30}, "district"),
        ({"district": {"id": 1}}, "district"),
    ],
)
def test_bad_fields_are_field_errors(api_a, body, field):
    assert field in errors(send(api_a, "post", URL, {"name": "X AB", **body}))


def test_patch_changes_fields_and_records_history(api_a, in_a):
    with in_a():
        customer = make_customer(name="Gamla AB", phone="08-123 456")
    response = send(
        api_a, "patch", f"{URL}{customer.pk}/", {"name": "Nya AB", "mobile": "0701112233"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Nya AB"
    assert response.json()["phone"] == "+468123456"
    with in_a():
        changes = {
            c.field: (c.old_value, c.new_value)
            for c in ChangeRecord.objects.filter(customer_id=customer.pk)
        }
        assert changes == {"name": ("Gamla AB", "Nya AB"), "mobile": ("", "+46701112233")}
        event = AuditEvent.objects.get(action="customer.updated")
        assert event.data == {"fields": ["name", "mobile"]}
    assert names(api_a.get(URL, {"search": "nya"})) == ["Nya AB"]


def test_patch_status_goes_through_the_status_service(api_a, in_a):
    with in_a():
        customer = make_customer(name="Paus AB")
    url = f"{URL}{customer.pk}/"
    assert send(api_a, "patch", url, {"status": "inactive"}).json()["status"] == "inactive"
    assert names(api_a.get(URL)) == []
    with in_a():
        assert ChangeRecord.objects.filter(customer_id=customer.pk, field="status").exists()
        assert AuditEvent.objects.filter(action="customer.inactive").exists()
        Customer.objects.filter(pk=customer.pk).update(status=CustomerStatus.ANONYMIZED)
    assert "status" in errors(send(api_a, "patch", url, {"status": "active"}))
    assert "status" in errors(send(api_a, "patch", url, {"status": "anonymized"}))


def test_a_failed_patch_changes_nothing(api_a, in_a):
    with in_a():
        customer = make_customer(name="Fast AB")
    body = {"name": "Ändrad AB", "org_number": "123", "status": "inactive"}
    assert "org_number" in errors(send(api_a, "patch", f"{URL}{customer.pk}/", body))
    with in_a():
        customer.refresh_from_db()
        assert (customer.name, customer.status) == ("Fast AB", "active")
        assert not ChangeRecord.objects.filter(customer_id=customer.pk).exists()


def test_reference_entries_must_be_of_the_tenant_and_the_register(personas, in_a):
    bea = personas.client(personas.bea)
    with in_a():
        customer = make_customer(name="Ref AB")
        district = ReferenceEntryFactory(register=ReferenceRegister.DISTRICT, code="N")
        terms = ReferenceEntryFactory(register=ReferenceRegister.PAYMENT_TERMS, code="30")
    with tenant_context(personas.tenant_b):
        foreign = ReferenceEntryFactory(register=ReferenceRegister.DISTRICT, code="N")
    url = f"{URL}{customer.pk}/"
    assert "payment_terms" in errors(send(bea, "patch", url, {"payment_terms": district.pk}))
    message = errors(send(bea, "patch", url, {"district": foreign.pk}))["district"]
    assert "does not exist" in message
    response = send(bea, "patch", url, {"district": district.pk, "payment_terms": terms.pk})
    assert response.status_code == 200
    assert (response.json()["district"], response.json()["payment_terms"]) == (
        district.pk,
        terms.pk,
    )
    assert send(bea, "patch", url, {"district": None}).json()["district"] is None


def test_groups_are_a_list_of_ids(api_a, in_a):
    with in_a():
        customer = make_customer(name="Grupp AB")
        g1 = ReferenceEntryFactory(register=ReferenceRegister.CUSTOMER_GROUP, code="G1")
        g2 = ReferenceEntryFactory(register=ReferenceRegister.CUSTOMER_GROUP, code="G2")
        district = ReferenceEntryFactory(register=ReferenceRegister.DISTRICT, code="D")
    url = f"{URL}{customer.pk}/"
    response = send(api_a, "patch", url, {"groups": [g1.pk, g2.pk]})
    assert sorted(response.json()["groups"]) == sorted([g1.pk, g2.pk])
    assert "groups" in errors(send(api_a, "patch", url, {"groups": [district.pk]}))
    assert "groups" in errors(send(api_a, "patch", url, {"groups": [None]}))
    assert send(api_a, "patch", url, {"groups": []}).json()["groups"] == []


# ---------------------------------------------------------------------------
# Finance fields and other permissions


FINANCE = {"credit_limit_amount": "5000.00", "bankgiro": "5050-1055"}


def test_finance_fields_are_for_the_bookkeeper(personas, in_a):
    with in_a():
        customer = make_customer(name="Kredit AB")
        terms = ReferenceEntryFactory(register=ReferenceRegister.PAYMENT_TERMS, code="30")
    url = f"{URL}{customer.pk}/"
    bea, bob = personas.client(personas.bea), personas.client(personas.bob)
    response = send(bea, "patch", url, {**FINANCE, "payment_terms": terms.pk})
    assert response.status_code == 200, response.content
    assert response.json()["credit_limit_amount"] == "5000.00"
    assert response.json()["payment_terms"] == terms.pk
    for who in (bob, personas.api(personas.key_a)):
        for body in (who.get(url).json(), who.get(URL).json()["results"][0]):
            assert body["name"] == "Kredit AB"
            assert not {"credit_limit_amount", "bankgiro", "payment_terms"} & set(body)
    assert bea.get(URL).json()["results"][0]["bankgiro"] == "5050-1055"


@pytest.mark.parametrize("who", ["bob", "key_a"])
def test_finance_fields_are_refused_on_input(personas, in_a, who):
    client = personas.api(personas.key_a) if who == "key_a" else personas.client(personas.bob)
    with in_a():
        customer = make_customer(name="Kredit AB")
    response = send(client, "patch", f"{URL}{customer.pk}/", {"name": "Ny", **FINANCE})
    assert errors(response) == {
        "bankgiro": "You may not set this field.",
        "credit_limit_amount": "You may not set this field.",
    }
    response = send(client, "post", URL, {"name": "Ny AB", "payment_terms": None})
    assert set(errors(response)) == {"payment_terms"}
    with in_a():
        customer.refresh_from_db()
        assert (customer.name, customer.credit_limit_amount) == ("Kredit AB", None)
        assert not Customer.objects.filter(name="Ny AB").exists()


def test_only_retention_editors_change_the_retention_override(personas, in_a):
    with in_a():
        customer = make_customer(name="Arkiv AB")
    url = f"{URL}{customer.pk}/"
    # Refused by name, not silently dropped (docs/api.md: nothing sent is ignored).
    response = send(personas.client(personas.bob), "patch", url, {"retention_years": 1})
    assert errors(response) == {"retention_years": "You may not set this field."}
    with in_a():
        assert Customer.objects.get(pk=customer.pk).retention_years is None
    response = send(personas.client(personas.alice), "patch", url, {"retention_years": 10})
    assert response.status_code == 200 and response.json()["retention_years"] == 10


def test_the_employee_cannot_use_the_registry(personas, in_a):
    with in_a():
        customer = make_customer(name="Hemlig AB")
    erik = personas.client(personas.erik)
    for response in (
        erik.get(URL),
        erik.get(f"{URL}{customer.pk}/"),
        erik.get(f"{URL}{customer.pk}/contacts/"),
        send(erik, "post", URL, {"name": "Ny AB"}),
    ):
        assert response.status_code == 403
        assert response["Content-Type"] == PROBLEM


def test_a_read_only_key_cannot_write(personas, in_a):
    with in_a():
        customer = make_customer(name="Läs AB")
        _obj, key = api_key_create(name="POS", scopes=["customers:read"], actor=Actor.system())
    api = personas.api(key)
    assert api.get(URL).status_code == 200
    for response in (
        send(api, "post", URL, {"name": "Skriv AB"}),
        send(api, "patch", f"{URL}{customer.pk}/", {"name": "Skriv AB"}),
        send(api, "post", f"{URL}{customer.pk}/contacts/", {"last_name": "Ek"}),
    ):
        assert response.status_code == 403
        assert response["Content-Type"] == PROBLEM
    with in_a():
        assert not Customer.objects.filter(name="Skriv AB").exists()


def test_no_key_is_401(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


# ---------------------------------------------------------------------------
# Isolation


@pytest.fixture
def a_world(personas, in_a, api_a):
    """A customer of tenant A with a contact, two addresses and a consignee; and a sibling."""
    with in_a():
        customer = make_customer(name="Nordljus Kund AB")
        sibling = make_customer(name="Syskon AB")
    base = f"{URL}{customer.pk}"
    contact = send(api_a, "post", f"{base}/contacts/", {"first_name": "Anna", "last_name": "Ek"})
    address = send(api_a, "post", f"{base}/addresses/", {"line1": "Väg 1", "city": "Kiruna"})
    consignee = send(api_a, "post", f"{base}/consignees/", {"name": "Lager"})
    return {
        "customer": customer.pk,
        "sibling": sibling.pk,
        "contact": contact.json()["id"],
        "address": address.json()["id"],
        "consignee": consignee.json()["id"],
    }


def _nested_urls(w, customer_key="customer"):
    base = f"{URL}{w[customer_key]}"
    return [
        f"{base}/contacts/{w['contact']}/",
        f"{base}/addresses/{w['address']}/",
        f"{base}/consignees/{w['consignee']}/",
    ]


def _unchanged(in_a, w):
    with in_a():
        assert Customer.objects.get(pk=w["customer"]).name == "Nordljus Kund AB"
        contact = Contact.objects.get(pk=w["contact"])
        assert contact.first_name == "Anna" and not contact.is_deleted
        assert Customer.objects.get(pk=w["customer"]).addresses.count() == 1
        assert Customer.objects.get(pk=w["customer"]).consignees.count() == 1


@pytest.mark.parametrize("who", ["key_b", "charlie"])
def test_another_tenant_gets_404_for_everything(personas, in_a, a_world, who):
    w = a_world
    other = personas.api(personas.key_b) if who == "key_b" else personas.client(personas.charlie)
    base = f"{URL}{w['customer']}"
    reads = [
        f"{base}/",
        f"{base}/contacts/",
        f"{base}/addresses/",
        f"{base}/consignees/",
        *_nested_urls(w),
    ]
    for url in reads:
        response = other.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == PROBLEM
    writes = [
        ("patch", f"{base}/", {"name": "Kapad"}),
        ("post", f"{base}/contacts/", {"last_name": "Kapad"}),
        ("post", f"{base}/addresses/", {"line1": "Kapad"}),
        ("post", f"{base}/consignees/", {"name": "Kapad"}),
        ("post", f"{base}/addresses/{w['address']}/make-head-office/", None),
        ("post", f"/api/v1/contacts/{w['contact']}/customers/", {"customer": w["customer"]}),
        ("delete", f"/api/v1/contacts/{w['contact']}/customers/{w['customer']}/", None),
    ]
    writes += [("patch", url, {"name": "Kapad", "first_name": "Kapad"}) for url in _nested_urls(w)]
    writes += [("delete", url, None) for url in _nested_urls(w)]
    for method, url, body in writes:
        response = send(other, method, url, body)
        assert response.status_code == 404, (method, url, response.content[:200])
        assert response["Content-Type"] == PROBLEM
    assert w["customer"] not in [
        c["id"] for c in other.get(URL, {"status": "all"}).json()["results"]
    ]
    _unchanged(in_a, w)


def test_nested_objects_of_another_customer_are_404(api_a, in_a, a_world):
    w = a_world
    for url in _nested_urls(w, customer_key="sibling"):
        assert api_a.get(url).status_code == 404
        assert send(api_a, "patch", url, {"name": "X", "first_name": "X"}).status_code == 404
        assert send(api_a, "delete", url).status_code == 404
    _unchanged(in_a, w)


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "1.5", "99999999999999999999999", "\uff11"])
def test_odd_ids_are_404(api_a, a_world, bad_id):
    for url in (
        f"{URL}{bad_id}/",
        f"{URL}{bad_id}/contacts/",
        f"{URL}{a_world['customer']}/contacts/{bad_id}/",
    ):
        response = api_a.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == PROBLEM


# ---------------------------------------------------------------------------
# Nested registers


def test_contacts_round_trip_and_deletion(api_a, in_a, a_world):
    w = a_world
    base = f"{URL}{w['customer']}/contacts/"
    with in_a():
        role = ReferenceEntryFactory(register=ReferenceRegister.CONTACT_ROLE, code="BUY")
        title = ReferenceEntryFactory(register=ReferenceRegister.CONTACT_TITLE, code="VD")
    body = {
        "first_name": "Bertil",
        "last_name": "Berg",
        "email": "bertil@example.test",
        "title": title.pk,
        "roles": [role.pk],
        "keywords": ["golf"],
    }
    created = send(api_a, "post", base, body)
    assert created.status_code == 201, created.content
    contact = created.json()
    assert contact["name"] == "Bertil Berg" and contact["roles"] == [role.pk]
    assert contact["title"] == title.pk and contact["customers"] == [w["customer"]]
    assert contact["number"] > 0 and contact["is_active"] is True

    url = f"{base}{contact['id']}/"
    changed = send(api_a, "patch", url, {"phone": "08-123 45 67", "is_active": False})
    assert changed.json()["phone"] == "+4681234567" and changed.json()["is_active"] is False
    assert "title" in errors(send(api_a, "patch", url, {"title": role.pk}))
    assert "last_name" in errors(send(api_a, "post", base, {"email": "x@example.test"}))

    listed = api_a.get(base).json()["results"]
    assert {c["name"]: c["is_active"] for c in listed} == {"Anna Ek": True, "Bertil Berg": False}

    assert send(api_a, "delete", url).status_code == 204
    gone = api_a.get(url).json()
    assert gone["name"] == "Deleted contact" and gone["is_deleted"] is True
    assert not {"first_name", "last_name", "email", "phone", "title", "roles", "keywords"} & set(
        gone
    )
    listed = {c["id"]: c for c in api_a.get(base).json()["results"]}
    assert listed[contact["id"]]["name"] == "Deleted contact"
    assert "email" not in listed[contact["id"]]
    with in_a():
        assert Contact.objects.get(pk=contact["id"]).email == ""
    # A deleted contact stays deleted.
    assert send(api_a, "patch", url, {"first_name": "Bertil"}).status_code == 400
    assert send(api_a, "delete", url).status_code == 400


def test_contacts_are_linked_and_unlinked(api_a, a_world, api_b):
    w = a_world
    link_url = f"/api/v1/contacts/{w['contact']}/customers/"
    response = send(api_a, "post", link_url, {"customer": w["sibling"]})
    assert response.status_code == 201, response.content
    assert response.json()["customers"] == sorted([w["customer"], w["sibling"]])
    assert send(api_a, "post", link_url, {"customer": w["sibling"]}).status_code == 200
    replay = {"HTTP_IDEMPOTENCY_KEY": "link-1"}
    first = send(api_a, "post", link_url, {"customer": w["customer"]}, **replay)
    again = send(api_a, "post", link_url, {"customer": w["customer"]}, **replay)
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    sibling_contacts = api_a.get(f"{URL}{w['sibling']}/contacts/").json()["results"]
    assert [c["id"] for c in sibling_contacts] == [w["contact"]]

    b_customer = send(api_b, "post", URL, {"name": "Fjord AS"}).json()["id"]
    assert (
        "does not exist"
        in errors(send(api_a, "post", link_url, {"customer": b_customer}))["customer"]
    )
    assert "customer" in errors(send(api_a, "post", link_url, {}))

    assert send(api_a, "delete", f"{link_url}{w['sibling']}/").status_code == 204
    assert send(api_a, "delete", f"{link_url}{w['sibling']}/").status_code == 404
    assert api_a.get(f"{URL}{w['sibling']}/contacts/").json()["results"] == []
    assert api_a.get(f"{URL}{w['sibling']}/contacts/{w['contact']}/").status_code == 404


def test_addresses_round_trip_and_head_office_switching(api_a, in_a, a_world):
    w = a_world
    base = f"{URL}{w['customer']}/addresses/"
    first = api_a.get(f"{base}{w['address']}/").json()
    assert first["is_head_office"] is True and first["kind"] == "postal"
    second = send(
        api_a, "post", base, {"kind": "delivery", "line1": "Lagervägen 9", "country": "no"}
    )
    assert second.status_code == 201, second.content
    second = second.json()
    assert second["is_head_office"] is False and second["country"] == "NO"
    # docs/api.md: without a kind, a later address is a postal one.
    no_kind = send(api_a, "post", base, {"line1": "Utan sort"})
    assert no_kind.status_code == 201 and no_kind.json()["kind"] == "postal"
    assert send(api_a, "delete", f"{base}{no_kind.json()['id']}/").status_code == 204

    response = send(api_a, "post", f"{base}{second['id']}/make-head-office/")
    assert response.status_code == 200 and response.json()["is_head_office"] is True
    assert api_a.get(f"{URL}{w['customer']}/").json()["address"]["line1"] == "Lagervägen 9"
    flags = {a["id"]: a["is_head_office"] for a in api_a.get(base).json()["results"]}
    assert flags == {w["address"]: False, second["id"]: True}

    changed = send(api_a, "patch", f"{base}{w['address']}/", {"city": "Luleå"})
    assert changed.status_code == 200 and changed.json()["city"] == "Luleå"

    assert send(api_a, "delete", f"{base}{second['id']}/").status_code == 204
    customer = api_a.get(f"{URL}{w['customer']}/").json()
    assert customer["address"]["city"] == "Luleå"
    assert send(api_a, "delete", f"{base}{w['address']}/").status_code == 204
    assert api_a.get(f"{URL}{w['customer']}/").json()["address"] is None
    with in_a():
        fields = set(
            ChangeRecord.objects.filter(customer_id=w["customer"]).values_list("field", flat=True)
        )
        assert {"address", "head_office", "city"} <= fields


def test_consignees_round_trip(personas, api_a, in_a, a_world):
    w = a_world
    base = f"{URL}{w['customer']}/consignees/"
    first = api_a.get(f"{base}{w['consignee']}/").json()
    assert first["number"] == "1" and first["country"] == "SE"
    assert "invoice_type" not in first
    with in_a():
        warehouse = ReferenceEntryFactory(register=ReferenceRegister.WAREHOUSE, code="W1")
        invoice_type = ReferenceEntryFactory(register=ReferenceRegister.INVOICE_TYPE, code="E")
    second = send(api_a, "post", base, {"name": "Butik", "warehouse": warehouse.pk})
    assert second.status_code == 201 and second.json()["number"] == "2"
    assert second.json()["warehouse"] == warehouse.pk
    clash = send(api_a, "patch", f"{base}{second.json()['id']}/", {"number": "1"})
    assert "number" in errors(clash)
    assert "invoice_type" in errors(send(api_a, "post", base, {"name": "X", "invoice_type": None}))
    bea = personas.client(personas.bea)
    response = send(bea, "patch", f"{base}{w['consignee']}/", {"invoice_type": invoice_type.pk})
    assert response.json()["invoice_type"] == invoice_type.pk
    assert send(api_a, "delete", f"{base}{w['consignee']}/").status_code == 204
    assert [c["name"] for c in api_a.get(base).json()["results"]] == ["Butik"]


# ---------------------------------------------------------------------------
# Requests themselves


def test_idempotency_key_replays_customer_creation(api_a, in_a):
    body = {"name": "Kassa AB", "address": {"line1": "Torget 1"}}
    first = send(api_a, "post", URL, body, HTTP_IDEMPOTENCY_KEY="till-3-17")
    again = send(api_a, "post", URL, body, HTTP_IDEMPOTENCY_KEY="till-3-17")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    other = send(api_a, "post", URL, {"name": "Annan AB"}, HTTP_IDEMPOTENCY_KEY="till-3-17")
    assert other.status_code == 409 and other["Content-Type"] == PROBLEM
    with in_a():
        assert Customer.objects.filter(name="Kassa AB").count() == 1
        assert not Customer.objects.filter(name="Annan AB").exists()


def test_idempotency_key_on_nested_creation(api_a, in_a, a_world):
    url = f"{URL}{a_world['customer']}/contacts/"
    for _ in range(2):
        response = send(api_a, "post", url, {"last_name": "Lund"}, HTTP_IDEMPOTENCY_KEY="c-1")
        assert response.status_code == 201
    with in_a():
        assert Contact.objects.filter(last_name="Lund").count() == 1


@pytest.mark.parametrize("raw", ["{", "[]", '"x"', "null", "{'name': 1}"])
def test_malformed_json_is_400_problem(api_a, a_world, raw):
    for method, url in (
        ("post", URL),
        ("patch", f"{URL}{a_world['customer']}/"),
        ("post", f"{URL}{a_world['customer']}/contacts/"),
        ("post", f"{URL}{a_world['customer']}/addresses/"),
        ("post", f"/api/v1/contacts/{a_world['contact']}/customers/"),
    ):
        response = getattr(api_a, method)(url, raw, content_type="application/json")
        assert response.status_code == 400, (method, url)
        assert response["Content-Type"] == PROBLEM
        assert response.json()["status"] == 400


def test_unsupported_methods_are_405(api_a, a_world):
    assert api_a.delete(f"{URL}{a_world['customer']}/").status_code == 405
    assert (
        api_a.put(f"{URL}{a_world['customer']}/", "{}", content_type="application/json").status_code
        == 405
    )


def test_list_queries_do_not_grow_with_the_page(api_a, in_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from customers.services.addresses import address_add

    def queries_for(n):
        with in_a():
            group = ReferenceEntryFactory(register=ReferenceRegister.CUSTOMER_GROUP)
            for i in range(n):
                customer = make_customer(name=f"Kund {n}-{i}", groups=[group])
                address_add(customer=customer, actor=Actor.system("test"), line1="Väg 1")
        with CaptureQueriesContext(connection) as queries:
            assert len(api_a.get(URL, {"status": "all"}).json()["results"]) >= n
        return len(queries)

    api_a.get(URL)  # the key's first use records itself once
    assert queries_for(1) == queries_for(6)


# ---------------------------------------------------------------------------
# Every endpoint for every persona (the rows tests/test_permissions.py needs)

WHO = ("alice", "bea", "bob", "erik", "charlie", "key_a", "key_b")
#        alice bea  bob  erik charlie key_a key_b
READ = (200, 200, 200, 403, 404, 200, 404)
MADE = (201, 201, 201, 403, 404, 201, 404)
GONE = (204, 204, 204, 403, 404, 204, 404)
LIST = (200, 200, 200, 403, 200, 200, 200)  # B sees its own (empty) list
NEW = (201, 201, 201, 403, 201, 201, 201)  # B creates its own customer
C = "/api/v1/customers/{customer}"
# fmt: off
MATRIX = [
    ("GET",    "/api/v1/customers/",                         None,                    LIST),
    ("POST",   "/api/v1/customers/",                         {"name": "Ny AB"},       NEW),
    ("GET",    C + "/",                                      None,                    READ),
    ("PATCH",  C + "/",                                      {"name": "Nytt AB"},     READ),
    ("GET",    C + "/contacts/",                             None,                    READ),
    ("POST",   C + "/contacts/",                             {"last_name": "Ek"},     MADE),
    ("GET",    C + "/contacts/{contact}/",                   None,                    READ),
    ("PATCH",  C + "/contacts/{contact}/",                   {"city": "Umeå"},        READ),
    ("DELETE", C + "/contacts/{contact}/",                   None,                    GONE),
    ("POST",   "/api/v1/contacts/{contact}/customers/",      {"customer": "{other}"}, MADE),
    ("DELETE", "/api/v1/contacts/{contact}/customers/{customer}/", None,              GONE),
    ("GET",    C + "/addresses/",                            None,                    READ),
    ("POST",   C + "/addresses/",                            {"kind": "postal"},      MADE),
    ("GET",    C + "/addresses/{address}/",                  None,                    READ),
    ("PATCH",  C + "/addresses/{address}/",                  {"city": "Umeå"},        READ),
    ("DELETE", C + "/addresses/{address}/",                  None,                    GONE),
    ("POST",   C + "/addresses/{address}/make-head-office/", None,                    READ),
    ("GET",    C + "/consignees/",                           None,                    READ),
    ("POST",   C + "/consignees/",                           {"name": "Lager 2"},     MADE),
    ("GET",    C + "/consignees/{consignee}/",               None,                    READ),
    ("PATCH",  C + "/consignees/{consignee}/",               {"city": "Umeå"},        READ),
    ("DELETE", C + "/consignees/{consignee}/",               None,                    GONE),
]
# fmt: on


@pytest.mark.parametrize(
    ("method", "url", "body", "expected"), MATRIX, ids=[f"{m} {u}" for m, u, _b, _e in MATRIX]
)
def test_every_endpoint_for_every_persona(personas, in_a, api_a, method, url, body, expected):
    for who, status in zip(WHO, expected, strict=True):
        with in_a():
            customer = make_customer(name="Matris AB")
            other = make_customer(name="Annan AB")
        base = f"{URL}{customer.pk}"
        ids = {
            "customer": customer.pk,
            "other": other.pk,
            "contact": send(api_a, "post", f"{base}/contacts/", {"last_name": "Ek"}).json()["id"],
            "address": send(api_a, "post", f"{base}/addresses/", {"line1": "V 1"}).json()["id"],
            "consignee": send(api_a, "post", f"{base}/consignees/", {"name": "L"}).json()["id"],
        }
        with in_a():
            before = AuditEvent.objects.count()
        client = (
            personas.api(getattr(personas, who))
            if who.startswith("key_")
            else personas.client(getattr(personas, who))
        )
        data = {k: v.format(**ids) for k, v in body.items()} if body else None
        response = send(client, method.lower(), url.format(**ids), data)
        assert response.status_code == status, (who, response.content[:300])
        if status >= 400:
            assert response["Content-Type"] == PROBLEM
            with in_a():
                assert AuditEvent.objects.count() == before, f"{who}: a refused request wrote"
