"""Legal hold (issue 9 item 5): set and lift, audited by id only, one active hold per
customer, the card panel, who may act, and isolation in the ORM and in raw SQL."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from anonymization.models import LegalHold
from anonymization.selectors import active_hold_of, customers_on_hold
from anonymization.services import legal_hold_lift, legal_hold_set
from audit.actors import Actor
from audit.models import AuditEvent
from customers.models import Customer, CustomerStatus
from tenancy.context import tenant_context
from tests.factories import make_customer

REASON = "Tvist om faktura 4711 med Sven Svensson"


@pytest.fixture
def customer(personas):
    with tenant_context(personas.tenant_a):
        return make_customer(name="Tvistig AB")


def _set_url(pk):
    return f"/anonymization/customers/{pk}/legal-hold/"


def _lift_url(pk, hold_pk):
    return f"/anonymization/customers/{pk}/legal-hold/{hold_pk}/lift/"


def test_set_and_lift_are_audited_without_the_reason(personas, customer):
    actor = Actor.user(personas.bea)
    with tenant_context(personas.tenant_a):
        hold = legal_hold_set(customer=customer, reason=f"  {REASON} ", actor=actor)
        assert hold.reason == REASON and hold.set_by == personas.bea and hold.is_active
        assert list(customers_on_hold()) == [customer]
        assert active_hold_of(customer) == hold
        lifted = legal_hold_lift(hold=hold, actor=Actor.user(personas.alice))
        assert lifted.lifted_by == personas.alice and not lifted.is_active
        assert not customers_on_hold().exists()
        events = list(AuditEvent.objects.filter(action__startswith="legal_hold.").order_by("seq"))
    assert [e.action for e in events] == ["legal_hold.set", "legal_hold.lifted"]
    for event in events:
        assert event.object_id == str(customer.pk) and event.data == {"hold": hold.pk}
        assert "Svensson" not in str(event.data) and "Tvist" not in str(event.data)


def test_only_one_active_hold_per_customer(personas, customer):
    actor = Actor.system("tests")
    with tenant_context(personas.tenant_a):
        first = legal_hold_set(customer=customer, reason="A", actor=actor)
        with pytest.raises(ValidationError):
            legal_hold_set(customer=customer, reason="B", actor=actor)
        # The database refuses a second active hold too.
        with pytest.raises(IntegrityError), transaction.atomic():
            LegalHold.objects.create(customer=customer, reason="C", set_at=first.set_at)
        legal_hold_lift(hold=first, actor=actor)
        with pytest.raises(ValidationError):
            legal_hold_lift(hold=first, actor=actor)  # already lifted
        second = legal_hold_set(customer=customer, reason="D", actor=actor)
        assert LegalHold.objects.filter(customer=customer).count() == 2
        assert active_hold_of(customer) == second
        assert AuditEvent.objects.filter(action="legal_hold.set").count() == 2


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_bad_reason_changes_nothing(personas, customer, reason):
    with tenant_context(personas.tenant_a):
        with pytest.raises(ValidationError) as caught:
            legal_hold_set(customer=customer, reason=reason, actor=Actor.system("tests"))
        assert "reason" in caught.value.message_dict
        assert not LegalHold.objects.exists()


def test_an_anonymized_customer_gets_no_hold(personas, customer):
    with tenant_context(personas.tenant_a):
        Customer.objects.filter(pk=customer.pk).update(status=CustomerStatus.ANONYMIZED)
        with pytest.raises(ValidationError):
            legal_hold_set(customer=customer, reason="A", actor=Actor.system("tests"))
        assert not LegalHold.objects.exists()


def test_the_card_shows_the_panel_and_its_actions(personas, customer):
    card = f"/customers/{customer.pk}/"
    bea = personas.client(personas.bea)
    html = bea.get(card).content.decode()
    assert 'id="legal-hold"' in html and _set_url(customer.pk) in html
    response = bea.post(_set_url(customer.pk), {"hold-reason": REASON})
    assert response.status_code == 302 and response["Location"].endswith("#legal-hold")
    with tenant_context(personas.tenant_a):
        hold = LegalHold.objects.get(customer=customer)
    html = bea.get(card).content.decode()
    assert REASON in html and _lift_url(customer.pk, hold.pk) in html
    # Office staff see the hold but get no actions.
    html = personas.client(personas.bob).get(card).content.decode()
    assert REASON in html and _lift_url(customer.pk, hold.pk) not in html
    # A second hold: the card again, with the message, nothing saved.
    response = bea.post(_set_url(customer.pk), {"hold-reason": "Igen"})
    assert response.status_code == 200
    assert "already on legal hold" in response.content.decode()
    response = personas.client(personas.alice).post(_lift_url(customer.pk, hold.pk))
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        assert LegalHold.objects.get(pk=hold.pk).lifted_at is not None


def test_an_empty_reason_shows_the_field_error(personas, customer):
    response = personas.client(personas.alice).post(_set_url(customer.pk), {"hold-reason": " "})
    assert response.status_code == 200
    assert "hold-reason" in response.content.decode()
    with tenant_context(personas.tenant_a):
        assert not LegalHold.objects.exists()


def test_staff_have_no_panel_without_a_hold(personas, customer):
    html = personas.client(personas.bob).get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="legal-hold"' not in html


@pytest.mark.parametrize("who", ["bob", "erik"])
def test_staff_and_employees_may_not_set_or_lift(personas, customer, who):
    with tenant_context(personas.tenant_a):
        hold = legal_hold_set(customer=customer, reason="A", actor=Actor.system("tests"))
    client = personas.client(getattr(personas, who))
    assert client.post(_set_url(customer.pk), {"hold-reason": "B"}).status_code == 403
    assert client.post(_lift_url(customer.pk, hold.pk)).status_code == 403
    with tenant_context(personas.tenant_a):
        assert LegalHold.objects.get().is_active


def test_another_tenant_gets_404(personas, customer):
    with tenant_context(personas.tenant_a):
        hold = legal_hold_set(customer=customer, reason="A", actor=Actor.system("tests"))
    charlie = personas.client(personas.charlie)
    assert charlie.post(_set_url(customer.pk), {"hold-reason": "B"}).status_code == 404
    assert charlie.post(_lift_url(customer.pk, hold.pk)).status_code == 404
    with tenant_context(personas.tenant_b):
        own = make_customer(name="Fjord Kunde AS")
    # A's hold under B's own customer is no hold of B's either.
    assert charlie.post(_lift_url(own.pk, hold.pk)).status_code == 404
    with tenant_context(personas.tenant_a):
        assert LegalHold.objects.get().is_active and LegalHold.objects.count() == 1


def test_raw_sql_sees_and_writes_no_hold_of_another_tenant(personas, customer):
    with tenant_context(personas.tenant_a):
        hold = legal_hold_set(customer=customer, reason="A", actor=Actor.system("tests"))
    with tenant_context(personas.tenant_b), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM anonymization_legalhold")
        assert cursor.fetchone() == (0,)
        cursor.execute("UPDATE anonymization_legalhold SET lifted_at = now()")
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM anonymization_legalhold")
        assert cursor.rowcount == 0
    with tenant_context(personas.tenant_a):
        assert LegalHold.objects.get(pk=hold.pk).is_active


def test_the_database_refuses_a_hold_for_another_tenants_customer(personas, customer):
    sql = (
        "INSERT INTO anonymization_legalhold (tenant_id, customer_id, reason, set_at)"
        " VALUES (%s, %s, 'x', now())"
    )
    with (
        tenant_context(personas.tenant_b),
        pytest.raises(IntegrityError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [personas.tenant_b.pk, customer.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_hold_blocks_deleting_the_customer(personas, customer):
    from customers.services.customers import CustomerInUse, customer_delete

    with tenant_context(personas.tenant_a):
        legal_hold_set(customer=customer, reason="A", actor=Actor.system("tests"))
        with pytest.raises(CustomerInUse):
            customer_delete(customer=customer, actor=Actor.system("tests"))
        assert Customer.objects.filter(pk=customer.pk).exists()


def test_the_card_says_why_an_anonymized_customer_gets_no_hold(personas, customer):
    with tenant_context(personas.tenant_a):
        Customer.objects.filter(pk=customer.pk).update(status=CustomerStatus.ANONYMIZED)
    response = personas.client(personas.alice).post(_set_url(customer.pk), {"hold-reason": "A"})
    assert response.status_code == 200
    assert "anonymized and cannot be changed" in response.content.decode()
    with tenant_context(personas.tenant_a):
        assert not LegalHold.objects.exists()
