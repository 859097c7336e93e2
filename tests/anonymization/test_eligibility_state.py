"""The eligibility columns the database keeps on the customer row (anonymization migration
0002) equal the rules computed from scratch (``eligibility_computed``), after every kind of
write: posts and re-posts through the service, ORM creates, updates and deletes of
documents, a bulk create, legal holds set and lifted, activity moved, an override, the
policy and the fiscal-year end changed, and in a tenant without a policy (its country's
preset)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from anonymization.eligibility import (
    eligibility_annotate,
    eligibility_computed,
    eligible_customers,
)
from anonymization.models import PRESETS, RetentionPolicy
from anonymization.services import legal_hold_lift, legal_hold_set, retention_policy_update
from audit.actors import Actor
from customers.models import Customer
from sales.models import SalesDocument
from sales.services import sales_document_post
from tenancy.context import tenant_context
from tests.factories import make_customer

TODAY = dt.date(2026, 11, 30)
ACTOR = Actor.system("tests")
FIELDS = (
    "is_prospect",
    "has_open_documents",
    "balance",
    "on_hold",
    "retention_period",
    "period_ends_on",
    "eligible_on",
    "is_eligible",
)


def assert_stored_equals_computed() -> int:
    stored = {
        row["pk"]: row
        for row in eligibility_annotate(Customer.objects.all(), today=TODAY).values("pk", *FIELDS)
    }
    computed = {
        row["pk"]: row
        for row in eligibility_computed(Customer.objects.all(), today=TODAY).values("pk", *FIELDS)
    }
    assert stored == computed
    return len(stored)


def post(customer, kind, number, *, status="open", amount="100.00", balance=None, day=None):
    return sales_document_post(
        customer=customer,
        kind=kind,
        number=number,
        date=day or dt.date(2016, 5, 1),
        status=status,
        amount=Decimal(amount),
        balance=Decimal(amount if balance is None else balance),
        actor=ACTOR,
    )


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


@pytest.fixture
def world(personas):
    """Customers of every kind in tenant A, and one in tenant B."""
    with tenant_context(personas.tenant_a) as tenant:
        RetentionPolicy.objects.create(customer_years=6, prospect_years=2)
        names = ["none", "prospect", "buyer", "credit", "held", "override", "old", "cancel"]
        c = {name: make_customer(name=name) for name in names}
        for i, name in enumerate(names):
            Customer.objects.filter(pk=c[name].pk).update(
                last_activity_at=at(dt.date(2014 + i, 1 + i, 1)),
                created_at=at(dt.date(2012, 12, 31)),
            )
        post(c["prospect"], "quote", "Q1", day=dt.date(2019, 12, 31))
        post(c["buyer"], "quote", "Q2")
        post(c["buyer"], "invoice", "I1", amount="250.00")
        post(c["credit"], "credit_note", "C1", amount="-40.00")
        post(c["cancel"], "invoice", "I2", amount="70.00")
        post(c["cancel"], "credit_note", "C2", amount="-70.00")
        post(c["old"], "order", "O1", status="closed", balance="0.00")
        legal_hold_set(customer=c["held"], reason="Tvist", actor=ACTOR)
        Customer.objects.filter(pk=c["override"].pk).update(retention_years=3)
        yield tenant, c


def test_after_posts_holds_and_overrides(world):
    assert assert_stored_equals_computed() == 8


def test_reposts_change_status_and_balance(world):
    _tenant, c = world
    post(c["buyer"], "invoice", "I1", status="closed", amount="250.00", balance="0.00")
    post(c["credit"], "credit_note", "C1", status="closed", amount="-40.00", balance="-10.00")
    post(c["prospect"], "order", "O2", status="closed", balance="0.00")  # no longer a prospect
    assert assert_stored_equals_computed() == 8
    assert not eligibility_annotate(Customer.objects.filter(pk=c["prospect"].pk)).get().is_prospect


def test_orm_writes_of_documents(world):
    tenant, c = world
    doc = SalesDocument.objects.create(
        customer=c["none"],
        kind="case",
        number="K1",
        date=dt.date(2020, 1, 1),
        status="open",
        amount=Decimal("0"),
        balance=Decimal("5.00"),
        currency="SEK",
    )
    assert assert_stored_equals_computed() == 8
    SalesDocument.objects.filter(pk=doc.pk).update(status="closed")
    assert assert_stored_equals_computed() == 8
    SalesDocument.objects.filter(pk=doc.pk).update(customer=c["old"])  # moved to another
    assert assert_stored_equals_computed() == 8
    SalesDocument.objects.filter(customer=c["cancel"]).delete()
    SalesDocument.objects.bulk_create(
        [
            SalesDocument(
                tenant=tenant,  # bulk_create bypasses save(), which sets it
                customer=c[name],
                kind=kind,
                number=f"B{n}",
                date=dt.date(2018, 1, 1),
                status="open",
                amount=Decimal("10"),
                balance=Decimal("10"),
                currency="SEK",
            )
            for n, (name, kind) in enumerate(
                [("none", "quote"), ("none", "quote"), ("held", "delivery"), ("old", "invoice")]
            )
        ]
    )
    assert assert_stored_equals_computed() == 8


def test_holds_lifted_and_set_again(world):
    _tenant, c = world
    hold = legal_hold_set(customer=c["buyer"], reason="Revision", actor=ACTOR)
    assert assert_stored_equals_computed() == 8
    legal_hold_lift(hold=hold, actor=ACTOR)
    from anonymization.models import LegalHold

    legal_hold_lift(hold=LegalHold.objects.get(customer=c["held"]), actor=ACTOR)
    assert assert_stored_equals_computed() == 8
    legal_hold_set(customer=c["held"], reason="Igen", actor=ACTOR)
    assert assert_stored_equals_computed() == 8


def test_activity_creation_and_override_changes(world):
    _tenant, c = world
    Customer.objects.filter(pk=c["old"].pk).update(last_activity_at=at(dt.date(2025, 7, 1)))
    Customer.objects.filter(pk=c["none"].pk).update(
        last_activity_at=None, created_at=at(dt.date(2017, 3, 3))
    )
    Customer.objects.filter(pk=c["override"].pk).update(retention_years=None)
    Customer.objects.filter(pk=c["prospect"].pk).update(retention_years=12)
    assert assert_stored_equals_computed() == 8
    # A full save of a customer read before the columns changed keeps them (not fields).
    stale = Customer.objects.get(pk=c["buyer"].pk)
    post(c["buyer"], "case", "K9")
    stale.name = "Köpare AB"
    stale.save()
    assert assert_stored_equals_computed() == 8


def test_policy_and_fiscal_year_changes(world):
    tenant, _c = world
    retention_policy_update(
        actor=ACTOR,
        customer_years=9,
        prospect_years=1,
        fiscal_year_end_month=6,
        fiscal_year_end_day=30,
    )
    assert assert_stored_equals_computed() == 8
    tenant.fiscal_year_end_month, tenant.fiscal_year_end_day = 2, 28
    tenant.save(update_fields=["fiscal_year_end_month", "fiscal_year_end_day"])
    assert assert_stored_equals_computed() == 8
    tenant.time_zone = "America/New_York"
    tenant.save(update_fields=["time_zone"])
    assert assert_stored_equals_computed() == 8
    RetentionPolicy.objects.all().delete()  # back to the country's preset
    assert assert_stored_equals_computed() == 8


@pytest.mark.parametrize("country", [*sorted(PRESETS), "IS"])
def test_a_tenant_without_policy_gets_its_country_preset(personas, country):
    with tenant_context(personas.tenant_b) as tenant:
        tenant.country = country
        tenant.save(update_fields=["country"])
        a = make_customer(name="A")
        b = make_customer(name="B")
        post(b, "quote", "Q1")
        Customer.objects.filter(pk=a.pk).update(last_activity_at=at(dt.date(2019, 6, 1)))
        assert assert_stored_equals_computed() == 2


def test_rebuild_from_scratch_equals_the_triggers(world):
    """What bulk loads call after loading with the triggers off."""
    tenant, _c = world
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pk, elig_open_documents, elig_balance, elig_quotes, elig_other_documents, "
            "elig_on_hold, elig_eligible_on FROM (SELECT id AS pk, * FROM customers_customer) x "
            "ORDER BY pk"
        )
        before = cursor.fetchall()
        cursor.execute(
            "UPDATE customers_customer SET elig_open_documents = 0, elig_balance = 0, "
            "elig_quotes = 0, elig_other_documents = 0, elig_on_hold = false"
        )
        cursor.execute("SELECT anonymization_eligibility_rebuild(%s)", [tenant.pk])
        cursor.execute(
            "SELECT pk, elig_open_documents, elig_balance, elig_quotes, elig_other_documents, "
            "elig_on_hold, elig_eligible_on FROM (SELECT id AS pk, * FROM customers_customer) x "
            "ORDER BY pk"
        )
        assert cursor.fetchall() == before


def test_the_stored_columns_inside_a_subquery(world):
    """The columns are read from the query's base table whatever its alias (U0 inside)."""
    _tenant, _c = world
    ids = eligible_customers(today=TODAY).values("pk")
    outer = set(Customer.objects.filter(pk__in=ids).values_list("name", flat=True))
    assert outer == set(eligible_customers(today=TODAY).values_list("name", flat=True))
    assert outer  # something to compare
