"""Issue 14.6: countries chosen from a list, phone numbers checked and stored in E.164,
company slugs that keep their Nordic letters as letters."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from audit.actors import Actor
from customers.forms import CountryField
from customers.models import Contact, Customer
from customers.phones import phone_clean, phone_display
from customers.services.contacts import contact_create, contact_update
from customers.services.customers import customer_create, customer_update
from tenancy.context import tenant_context
from tenancy.models import Tenant
from tenancy.services import tenant_create, tenant_slug
from tests.customers.api_helpers import URL, errors, send
from tests.factories import make_customer

SYSTEM = Actor.system("test")


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("070-123 45 67", "SE", "+46701234567"),
        ("0701234567", "SE", "+46701234567"),
        ("+46 70 123 45 67", "DK", "+46701234567"),
        ("0046 70 123 45 67", "NO", "+46701234567"),
        ("412 34 567", "NO", "+4741234567"),
        ("20 12 34 56", "DK", "+4520123456"),
        ("08-123 456 78", "SE", "+46812345678"),
        ("", "SE", ""),
    ],
)
def test_a_number_is_read_for_the_country_and_stored_in_e164(typed, country, stored):
    assert phone_clean(typed, country=country) == stored


@pytest.mark.parametrize("typed", ["abc", "123", "070-123", "+99 123 456"])
def test_what_is_no_phone_number_is_refused_with_an_example(typed):
    with pytest.raises(ValidationError) as raised:
        phone_clean(typed, country="SE")
    assert "070-123 45 67" in raised.value.messages[0]


def test_a_stored_number_reads_nationally_at_home_and_internationally_abroad():
    assert phone_display("+46701234567", country="SE") == "070-123 45 67"
    assert phone_display("+4741234567", country="SE") == "+47 41 23 45 67"
    # Typed before the check existed: shown as it was typed.
    assert phone_display("ring växeln", country="SE") == "ring växeln"


@pytest.mark.django_db
def test_the_services_store_e164_and_name_the_bad_field(personas):
    with tenant_context(personas.tenant_a):
        customer = customer_create(
            actor=SYSTEM, kind="person", name="Åsa Öberg", phone="08-123 456 78", mobile=""
        )
        assert customer.phone == "+46812345678"
        with pytest.raises(ValidationError) as raised:
            customer_update(customer=customer, actor=SYSTEM, mobile="abc")
        assert set(raised.value.message_dict) == {"mobile"}
        customer.refresh_from_db()
        assert customer.mobile == ""
        contact = contact_create(
            customer=customer, actor=SYSTEM, last_name="Berg", mobile="070 111 22 33"
        )
        assert contact.mobile == "+46701112233"
        with pytest.raises(ValidationError) as raised:
            contact_update(contact=contact, actor=SYSTEM, phone="+99 1")
        assert set(raised.value.message_dict) == {"phone"}


@pytest.mark.django_db
def test_a_number_stored_before_the_check_stays_until_it_is_edited(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Gammal AB")
        Customer.objects.filter(pk=customer.pk).update(phone="ring växeln")
        customer.refresh_from_db()
        customer_update(customer=customer, actor=SYSTEM, phone="ring växeln", name="Gammal HB")
        customer.refresh_from_db()
        assert (customer.name, customer.phone) == ("Gammal HB", "ring växeln")


def test_the_country_list_speaks_the_ui_language_and_refuses_what_is_no_country():
    field = CountryField()
    with translation.override("sv"):
        names = dict(field.choices)
        assert names["SE"] == "Sverige" and names["DK"] == "Danmark"
        # The Nordic countries come first.
        assert [code for code, _name in field.choices[1:5]] == ["SE", "NO", "DK", "FI"]
        for bad in ("XX", "Sverige", "SV1"):
            with pytest.raises(ValidationError):
                field.clean(bad)
    assert field.clean("se") == "SE"
    with translation.override("nb"):
        assert dict(CountryField().choices)["SE"] == "Sverige"
    with translation.override("da"):
        assert dict(CountryField().choices)["NO"] == "Norge"


@pytest.mark.django_db
def test_the_create_form_offers_countries_by_name_and_stores_e164(personas):
    bob = personas.client(personas.bob)
    page = bob.get("/customers/new/").content.decode()
    assert '<select name="country"' in page and ">Sweden</option>" in page
    response = bob.post(
        "/customers/new/",
        {"kind": "person", "name": "Nils Holm", "country": "XX", "phone": "abc"},
    )
    assert response.status_code == 200
    assert {"country", "phone"} <= set(response.context["form"].errors)
    response = bob.post(
        "/customers/new/",
        {"kind": "person", "name": "Nils Holm", "country": "SE", "mobile": "070-765 43 21"},
    )
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        customer = Customer.objects.get(name="Nils Holm")
    assert customer.mobile == "+46707654321"
    card = bob.get(response["Location"]).content.decode()
    assert "070-765 43 21" in card and "+46707654321" not in card
    listing = bob.get("/customers/?q=Holm").content.decode()
    assert "070-765 43 21" in listing


@pytest.mark.django_db
def test_the_api_refuses_a_bad_number_by_field_and_stores_e164(personas):
    api = personas.api(personas.key_a)
    bad = send(
        api, "post", URL, {"kind": "person", "name": "Nils Holm", "phone": "abc", "country": "SE"}
    )
    assert list(errors(bad)) == ["phone"]
    good = send(
        api,
        "post",
        URL,
        {"kind": "person", "name": "Nils Holm", "mobile": "0707654321", "country": "SE"},
    )
    assert good.status_code == 201, good.content
    assert good.json()["mobile"] == "+46707654321"
    with tenant_context(personas.tenant_a):
        assert Customer.objects.filter(name="Nils Holm").count() == 1
        assert not Contact.objects.filter(phone="abc").exists()


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Kæde ApS", "kaede-aps"),
        ("Østergård Bygg", "oestergaard-bygg"),
        ("Åhléns Ängelholm AB", "aahlens-aengelholm-ab"),
        ("Café Möller", "cafe-moeller"),
    ],
)
def test_a_company_slug_transliterates_nordic_letters(name, slug):
    assert tenant_slug(name) == slug


@pytest.mark.django_db
def test_a_new_company_gets_the_transliterated_slug():
    tenant = tenant_create(name="Kæde ApS", country="DK")
    assert Tenant.objects.get(pk=tenant.pk).slug == "kaede-aps"
