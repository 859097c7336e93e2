"""One notion of head office (issue 14, item 7): the flag, never an address kind.

Before the fix an address's kind could say "Head office" while another address was the
head office: the first address got kind head_office, and "make head office" moved only
the flag, so the card showed the old head office's kind "Head office" beside the new one's
"Head office" badge.
"""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, connection, transaction

from audit.actors import Actor
from customers.models import Address, AddressKind
from customers.services.addresses import address_add, address_update, head_office_change
from tenancy.context import tenant_context
from tests.factories import make_customer

SYSTEM = Actor.system("test")


def _addresses_section(html: str) -> str:
    return html.split('id="addresses-heading"', 1)[1].split("</section>", 1)[0]


def test_after_make_head_office_the_card_names_one_head_office(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Huvudkontor AB")
        # No kind: the first address becomes the head office.
        old = address_add(customer=customer, actor=SYSTEM, line1="Box 7", city="Umeå")
        new = address_add(customer=customer, actor=SYSTEM, kind="delivery", line1="Storgatan 9")
        head_office_change(address=new, actor=SYSTEM)
    response = personas.client(personas.bob).get(f"/customers/{customer.pk}/")
    section = _addresses_section(response.content.decode())
    assert len(re.findall(r">\s*Head office\s*<", section)) == 1, section
    old_card = section.split(f'id="address-{old.pk}"', 1)[1].split("</li>", 1)[0]
    new_card = section.split(f'id="address-{new.pk}"', 1)[1].split("</li>", 1)[0]
    assert "Head office" not in old_card and "Postal address" in old_card
    assert "badge-head-office" in new_card and "Delivery address" in new_card


def test_no_address_kind_says_head_office(personas):
    assert "head_office" not in AddressKind.values
    with tenant_context(personas.tenant_a):
        customer = make_customer()
        first = address_add(customer=customer, actor=SYSTEM, line1="Box 1")
        assert first.is_head_office and first.kind == AddressKind.POSTAL
        second = address_add(customer=customer, actor=SYSTEM, kind="visiting", line1="Gata 2")
        head_office_change(address=second, actor=SYSTEM)
        kinds = dict(Address.objects.values_list("line1", "kind"))
        flags = dict(Address.objects.values_list("line1", "is_head_office"))
    assert kinds == {"Box 1": "postal", "Gata 2": "visiting"}
    assert flags == {"Box 1": False, "Gata 2": True}


def test_a_head_office_kind_is_refused_with_a_field_error(personas):
    from django.core.exceptions import ValidationError

    with tenant_context(personas.tenant_a):
        customer = make_customer()
        first = address_add(customer=customer, actor=SYSTEM, line1="Box 1")
        with pytest.raises(ValidationError) as exc:
            address_update(address=first, actor=SYSTEM, kind="head_office")
        assert "kind" in exc.value.message_dict


def test_the_database_refuses_a_head_office_kind(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer()
        address = address_add(customer=customer, actor=SYSTEM, line1="Box 1")
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE customers_address SET kind = 'head_office' WHERE id = %s", [address.pk]
            )


def test_the_migration_turns_stored_head_office_kinds_into_postal(live_personas):
    """Data from before the fix: a first address of kind head_office, and a former head
    office still of that kind beside the new one (flag on a delivery address)."""
    from django.core.management import call_command
    from django.db import connections

    tenant = live_personas.tenant_a
    with tenant_context(tenant):
        customer = make_customer(name="Gammal Data AB")
        first = address_add(customer=customer, actor=SYSTEM, line1="Box 7")
        second = address_add(customer=customer, actor=SYSTEM, kind="delivery", line1="Gata 9")
        other = make_customer(name="Annan AB")
        only = address_add(customer=other, actor=SYSTEM, line1="Väg 1")
    call_command("migrate", "customers", "0008", verbosity=0)
    try:
        owner = connections["owner"]
        with transaction.atomic(using="owner"), owner.cursor() as cursor:
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
            cursor.execute(
                "UPDATE customers_address SET kind = 'head_office' WHERE id = ANY(%s)",
                [[first.pk, only.pk]],
            )
            cursor.execute(
                "UPDATE customers_address SET is_head_office = (id = %s) WHERE customer_id = %s",
                [second.pk, customer.pk],
            )
    finally:
        # Every app: going back to customers 0008 also unapplied what depends on 0009.
        call_command("migrate", verbosity=0)
    with tenant_context(tenant):
        rows = {
            a.pk: (a.kind, a.is_head_office)
            for a in Address.objects.filter(pk__in=[first.pk, second.pk, only.pk])
        }
    assert rows == {
        first.pk: ("postal", False),
        second.pk: ("delivery", True),
        only.pk: ("postal", True),
    }
