"""Posting sales documents: the idempotent upsert, last activity, balance and prospects."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from customers.models import Customer
from customers.services.addresses import address_add
from sales.models import SalesDocument
from sales.selectors import customer_balance, documents_of, is_prospect, prospects
from sales.services import sales_document_post
from tenancy.context import tenant_context, tenant_scope
from tests.factories import make_customer

SYSTEM = Actor.system("test")
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


def post(customer, number="F1", kind="invoice", **fields):
    values = {
        "date": dt.date(2026, 3, 1),
        "status": "open",
        "amount": Decimal("100.00"),
        "balance": Decimal("100.00"),
        **fields,
    }
    return sales_document_post(customer=customer, kind=kind, number=number, actor=SYSTEM, **values)


@pytest.fixture
def in_a(personas):
    with tenant_context(personas.tenant_a) as tenant:
        yield tenant


@pytest.fixture
def customer(in_a):
    customer = make_customer(name="Nordkund AB")
    address_add(
        customer=customer, actor=SYSTEM, line1="Storgatan 1", postcode="97231", city="Luleå"
    )
    return customer


def test_first_post_creates_with_snapshot_and_default_currency(customer):
    document, created = post(customer)
    assert created
    assert document.currency == "SEK"  # tenant A is Swedish
    assert (document.customer_name, document.line1, document.postcode, document.city) == (
        "Nordkund AB",
        "Storgatan 1",
        "97231",
        "Luleå",
    )
    assert document.country == "SE"


def test_snapshot_sent_by_the_caller_wins(customer):
    document, _created = post(customer, customer_name="Nordkund AB (gammalt)", city="Boden")
    assert document.customer_name == "Nordkund AB (gammalt)"
    assert document.city == "Boden"
    assert document.line1 == "Storgatan 1"  # not sent: from the head office


def test_the_snapshot_does_not_follow_the_customer(customer):
    document, _created = post(customer)
    Customer.objects.filter(pk=customer.pk).update(name="Nytt Namn AB")
    document.refresh_from_db()
    assert document.customer_name == "Nordkund AB"


def test_norwegian_tenant_defaults_to_nok(personas):
    with tenant_context(personas.tenant_b):
        document, _created = post(make_customer(name="Fjordkunde AS"))
    assert document.currency == "NOK"


def test_second_post_same_kind_and_number_updates_one_row(customer):
    first, created = post(customer)
    second, created_again = post(
        customer,
        status="closed",
        balance=Decimal("0.00"),
        amount=Decimal("120.00"),
        date=dt.date(2026, 3, 5),
    )
    assert created and not created_again
    assert second.pk == first.pk
    assert SalesDocument.objects.count() == 1
    second.refresh_from_db()
    assert (second.status, second.balance, second.amount, second.date) == (
        "closed",
        Decimal("0.00"),
        Decimal("120.00"),
        dt.date(2026, 3, 5),
    )
    actions = list(
        AuditEvent.objects.filter(object_type="sales_document")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["sales.document_created", "sales.document_updated"]


def test_same_number_of_another_kind_is_another_document(customer):
    post(customer, kind="invoice")
    post(customer, kind="order")
    assert SalesDocument.objects.count() == 2


def test_the_number_of_another_customers_document_is_refused(customer):
    post(customer)
    other = make_customer(name="Annan AB")
    with pytest.raises(ValidationError) as exc:
        post(other, status="closed")
    assert "number" in exc.value.message_dict
    assert SalesDocument.objects.get().customer_id == customer.pk


def test_audit_holds_no_name_or_address(customer):
    post(customer)
    event = AuditEvent.objects.get(object_type="sales_document")
    assert set(event.data) == {"customer", "kind", "number", "status"}
    post(customer, status="closed")
    update = AuditEvent.objects.filter(action="sales.document_updated").get()
    assert update.data["changed"] == ["status"]
    assert "Nordkund" not in str(event.data) and "Storgatan" not in str(event.data)


def _activity(customer) -> dt.date | None:
    customer.refresh_from_db()
    value = customer.last_activity_at
    return value.astimezone(STOCKHOLM).date() if value else None


def test_last_activity_moves_forward_never_back(customer):
    post(customer, number="1", date=dt.date(2026, 3, 1))
    assert _activity(customer) == dt.date(2026, 3, 1)
    post(customer, number="2", date=dt.date(2026, 5, 1))
    assert _activity(customer) == dt.date(2026, 5, 1)
    post(customer, number="3", date=dt.date(2025, 1, 1))
    assert _activity(customer) == dt.date(2026, 5, 1)
    post(customer, number="2", date=dt.date(2026, 1, 1))  # an update moving its date back
    assert _activity(customer) == dt.date(2026, 5, 1)


def test_last_activity_later_than_the_document_stays(customer):
    later = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(last_activity_at=later)
    post(customer, date=dt.date(2026, 1, 1))
    customer.refresh_from_db()
    assert customer.last_activity_at == later


def test_balance_sums_open_balances_of_open_documents(customer):
    post(customer, number="1", balance=Decimal("100.50"))
    post(customer, number="2", balance=Decimal("40.00"))
    post(customer, number="3", balance=Decimal("999.00"), status="closed")
    post(
        customer,
        number="4",
        kind="credit_note",
        amount=Decimal("-20.00"),
        balance=Decimal("-20.00"),
    )
    assert customer_balance(customer) == Decimal("120.50")
    assert [d.number for d in documents_of(customer)] == ["4", "3", "2", "1"]


def test_balance_of_a_customer_without_documents_is_zero(customer):
    assert customer_balance(customer) == Decimal("0.00")


def test_prospect_has_only_quotes(customer):
    assert not is_prospect(customer)  # no documents: not a prospect
    post(customer, number="Q1", kind="quote")
    post(customer, number="Q2", kind="quote")
    assert is_prospect(customer)
    assert list(prospects(Customer.objects.all())) == [customer]
    post(customer, number="O1", kind="order")
    assert not is_prospect(customer)
    assert list(prospects(Customer.objects.all())) == []


BAD = [
    ({"balance": Decimal("-1.00")}, "balance"),
    ({"amount": Decimal("-1.00")}, "amount"),
    ({"amount": Decimal("1.001")}, "amount"),
    ({"amount": Decimal("1e13")}, "amount"),
    ({"currency": "sek1"}, "currency"),
    ({"currency": "SE"}, "currency"),
    ({"date": dt.date.today() + dt.timedelta(days=3)}, "date"),
    ({"status": "paid"}, "status"),
    ({"kind": "receipt"}, "kind"),
    ({"number": "  "}, "number"),
    ({"number": "x" * 41}, "number"),
    ({"customer_name": "x" * 201}, "customer_name"),
]


@pytest.mark.parametrize(("fields", "field"), BAD)
def test_bad_input_is_a_field_error_and_changes_nothing(customer, fields, field):
    post(customer, number="KEEP")
    before = list(SalesDocument.objects.values())
    customer.refresh_from_db()
    activity, audits = customer.last_activity_at, AuditEvent.objects.count()
    values = {"number": "KEEP", **fields}
    with pytest.raises(ValidationError) as exc:
        post(customer, **values)
    assert field in exc.value.message_dict
    assert list(SalesDocument.objects.values()) == before
    customer.refresh_from_db()
    assert customer.last_activity_at == activity
    assert AuditEvent.objects.count() == audits


@pytest.mark.parametrize("kind", ["credit_note", "payment"])
def test_credit_notes_and_payments_may_be_negative(customer, kind):
    document, _created = post(
        customer, kind=kind, amount=Decimal("-50.00"), balance=Decimal("-50.00")
    )
    assert document.balance == Decimal("-50.00")


def test_tomorrow_is_allowed(customer):
    tomorrow = timezone.now().astimezone(STOCKHOLM).date() + dt.timedelta(days=1)
    document, _created = post(customer, date=tomorrow)
    assert document.date == tomorrow


def test_anonymized_customer_gets_no_documents(customer):
    Customer.objects.filter(pk=customer.pk).update(status="anonymized")
    customer.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        post(customer)
    assert "customer" in exc.value.message_dict
    assert not SalesDocument.objects.exists()


def test_concurrent_first_posts_make_one_document(live_personas):
    """Two workers post the same numbers at the same time: one row each, one "created"."""
    tenant = live_personas.tenant_a
    with tenant_context(tenant):
        customer = make_customer(name="Samtidig AB")
    numbers = [f"C{i}" for i in range(15)]
    results: list[tuple[str, bool]] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker():
        try:
            with tenant_scope(tenant):
                barrier.wait()
                for number in numbers:
                    document, created = post(customer, number=number)
                    results.append((document.number, created))
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    with tenant_context(tenant):
        assert SalesDocument.objects.count() == len(numbers)
    assert sorted(n for n, created in results if created) == sorted(numbers)
    assert len(results) == 2 * len(numbers)


def test_an_insert_that_loses_the_race_updates_the_winner(customer, monkeypatch):
    """The row appeared between the lookup and the insert: the unique constraint refuses
    the insert, and the post updates that row instead (deterministic twin of the above)."""
    first, _created = post(customer)
    monkeypatch.setattr("sales.services._locked", lambda kind, number: None)
    document, created = post(customer, status="closed", balance=Decimal("0.00"))
    assert not created
    assert document.pk == first.pk
    assert SalesDocument.objects.get().status == "closed"


def test_a_customer_with_documents_cannot_be_deleted(customer):
    from customers.services.customers import CustomerInUse, customer_delete

    post(customer)
    with pytest.raises(CustomerInUse) as exc:
        customer_delete(customer=customer, actor=SYSTEM)
    assert "sales documents" in exc.value.reasons
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_the_customer_lists_last_activity_filter_sees_posted_documents(customer, personas):
    post(customer, date=dt.date(2026, 3, 1))
    client = personas.api(personas.key_a)
    url = "/api/v1/customers/"
    before = client.get(url, {"last_activity_before": "2026-03-02"}).json()["results"]
    same_day = client.get(url, {"last_activity_before": "2026-03-01"}).json()["results"]
    assert customer.pk in [c["id"] for c in before]
    assert customer.pk not in [c["id"] for c in same_day]
