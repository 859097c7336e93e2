"""Customers, addresses and contacts through their services."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from audit.actors import Actor
from customers.models import ChangeRecord, Contact, Customer
from customers.selectors import customer_list
from customers.services.addresses import address_add, address_delete, head_office_change
from customers.services.contacts import (
    contact_create,
    contact_delete,
    contact_link,
    contact_unlink,
)
from customers.services.customers import customer_set_status, customer_update
from tenancy.context import tenant_context
from tests.factories import make_customer

SYSTEM = Actor.system("test")


@pytest.fixture
def tenant_a(personas):
    with tenant_context(personas.tenant_a):
        yield personas


def test_numbers_come_from_the_series_and_can_be_given(tenant_a):
    first, second = make_customer(name="A"), make_customer(name="B")
    assert int(second.number) == int(first.number) + 1
    assert make_customer(name="C", number="K-77").number == "K-77"
    with pytest.raises(ValidationError) as exc:
        make_customer(name="D", number="K-77")
    assert "number" in exc.value.message_dict


def test_org_and_vat_numbers_are_validated_per_country(tenant_a):
    ok = make_customer(name="Volvo", org_number="5560360793", vat_number="se556036079301")
    assert ok.org_number == "556036-0793" and ok.vat_number == "SE556036079301"
    with pytest.raises(ValidationError) as exc:
        make_customer(name="Bad", org_number="556036-0794", vat_number="SE123")
    assert set(exc.value.message_dict) == {"org_number", "vat_number"}
    assert "SE" in exc.value.message_dict["org_number"][0]
    assert make_customer(name="Fjord", country="NO", org_number="923609016").org_number == (
        "923 609 016"
    )


@pytest.mark.parametrize(
    "query", ["ostergard", "oestergaard", "østergård", "ÖSTERGÅRD", "bygg oster"]
)
def test_search_is_accent_insensitive_and_nordic(tenant_a, query):
    make_customer(name="Östergård Bygg AB")
    make_customer(name="Sørensen & Søn ApS")
    assert [c.name for c in customer_list(search=query)] == ["Östergård Bygg AB"]


@pytest.mark.parametrize("query", ["sorensen", "soerensen", "Sørensen"])
def test_search_finds_sorensen(tenant_a, query):
    make_customer(name="Sørensen & Søn ApS")
    assert customer_list(search=query).count() == 1


def test_search_aalborg_finds_alborg(tenant_a):
    make_customer(name="Ålborg Maskin")
    assert customer_list(search="aalborg").count() == 1


@pytest.mark.parametrize("query", ["070-123 45 67", "0701234567", "+46 70 123 45 67", "1234567"])
def test_search_by_phone_in_any_format(tenant_a, query):
    make_customer(name="Telefon AB", phone="070 123 45 67")
    assert customer_list(search=query).count() == 1


def test_search_by_number_email_and_org_number(tenant_a):
    c = make_customer(name="Volvo", email="inkop@volvo.se", org_number="5560360793")
    for query in (c.number, "inkop@volvo", "556036-0793", "5560360793"):
        assert list(customer_list(search=query)) == [c], query


def test_inactive_customers_leave_the_list(tenant_a):
    c = make_customer(name="Vilande AB")
    customer_set_status(customer=c, status="inactive", actor=SYSTEM)
    assert c not in customer_list()
    assert c in customer_list(status="inactive")
    customer_set_status(customer=c, status="active", actor=SYSTEM)
    assert c in customer_list()


def test_update_records_history(tenant_a):
    c = make_customer(name="Gammalt Namn AB")
    customer_update(customer=c, actor=SYSTEM, name="Nytt Namn AB", email="a@b.se")
    rows = {r.field: (r.old_value, r.new_value) for r in ChangeRecord.objects.filter(customer=c)}
    assert rows == {"name": ("Gammalt Namn AB", "Nytt Namn AB"), "email": ("", "a@b.se")}
    assert customer_list(search="nytt namn").count() == 1


def test_first_address_is_head_office_and_can_be_changed(tenant_a):
    c = make_customer()
    first = address_add(customer=c, actor=SYSTEM, kind="postal", line1="Box 1", city="Malmö")
    second = address_add(customer=c, actor=SYSTEM, kind="visiting", line1="Storg. 2")
    assert first.is_head_office and not second.is_head_office
    head_office_change(address=second, actor=SYSTEM)
    first.refresh_from_db()
    assert not first.is_head_office
    assert Customer.objects.get(pk=c.pk).head_office == second
    address_delete(address=second, actor=SYSTEM)
    first.refresh_from_db()
    assert first.is_head_office


def test_contact_shared_by_two_customers_and_deleted(tenant_a):
    a, b = make_customer(name="A AB"), make_customer(name="B AB")
    contact = contact_create(
        customer=a, actor=SYSTEM, first_name="Åsa", last_name="Lind", email="asa@lind.se"
    )
    contact_link(contact=contact, customer=b, actor=SYSTEM)
    assert set(contact.customers.all()) == {a, b}
    contact_unlink(contact=contact, customer=b, actor=SYSTEM)
    contact_link(contact=contact, customer=b, actor=SYSTEM)
    contact_delete(contact=contact, actor=SYSTEM)
    contact = Contact.objects.get(pk=contact.pk)
    assert str(contact) == "Deleted contact"
    assert contact.email == "" and contact.first_name == ""
    assert set(contact.customers.all()) == {a, b}
    with pytest.raises(ValidationError):
        contact_link(contact=contact, customer=a, actor=SYSTEM)


def test_contact_numbers_come_from_their_own_series(tenant_a):
    c = make_customer()
    one = contact_create(customer=c, actor=SYSTEM, last_name="Ett")
    two = contact_create(customer=c, actor=SYSTEM, last_name="Två")
    assert two.number == one.number + 1


def test_tenant_b_sees_none_of_a(personas):
    with tenant_context(personas.tenant_a):
        make_customer(name="Hemlig AB")
    with tenant_context(personas.tenant_b):
        assert Customer.objects.count() == 0
        assert customer_list(search="hemlig").count() == 0
