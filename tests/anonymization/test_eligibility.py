"""Eligibility (issue 9 item 4): the fiscal-year rule at its edges, each blocker alone and
together, prospects against customers, the per-customer override, no activity, the
forecast, and another tenant's customers never counted."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from anonymization.eligibility import (
    Blocker,
    blocked_customers,
    eligibility_annotate,
    eligibility_forecast,
    eligibility_of,
    eligible_customers,
    reasons_of,
    waiting_count,
)
from anonymization.models import RetentionPolicy
from anonymization.services import legal_hold_set
from audit.actors import Actor
from customers.models import Customer, CustomerStatus
from sales.models import SalesDocument
from tenancy.context import tenant_context
from tests.factories import make_customer

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
TODAY = dt.date(2026, 11, 30)


def at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A moment on ``day`` in the tenant's (Stockholm) time."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=STOCKHOLM)


def customer(name: str = "Kund AB", *, last=None, created=None, **fields) -> Customer:
    c = make_customer(name=name, **fields)
    updates = {}
    if last is not None:
        updates["last_activity_at"] = last if isinstance(last, dt.datetime) else at(last)
    if created is not None:
        updates["created_at"] = at(created)
    if updates:
        Customer.objects.filter(pk=c.pk).update(**updates)
    return c


_numbers = iter(range(1, 10_000))


def document(c: Customer, kind: str, *, status="closed", balance="0.00", day=dt.date(2015, 3, 1)):
    return SalesDocument.objects.create(
        customer=c,
        kind=kind,
        number=f"N{next(_numbers)}",
        date=day,
        status=status,
        amount=Decimal("100.00"),
        balance=Decimal(balance),
        currency="SEK",
    )


def policy(customers=5, prospects=2):
    RetentionPolicy.objects.create(customer_years=customers, prospect_years=prospects)


def fiscal_year_end(tenant, month: int, day: int) -> None:
    tenant.fiscal_year_end_month, tenant.fiscal_year_end_day = month, day
    tenant.save(update_fields=["fiscal_year_end_month", "fiscal_year_end_day"])


def annotated(c: Customer) -> Customer:
    return eligibility_of(c, today=TODAY)


@pytest.fixture
def tenant_a(personas):
    with tenant_context(personas.tenant_a) as tenant:
        policy()
        yield tenant


# --- The fiscal-year rule -----------------------------------------------------------------


def test_activity_on_the_fiscal_year_end_counts_from_that_year(tenant_a):
    c = annotated(customer(last=at(dt.date(2020, 12, 31), 23, 59)))
    assert c.period_ends_on == dt.date(2025, 12, 31)
    assert c.eligible_on == dt.date(2026, 1, 1)
    assert c.is_eligible and reasons_of(c, today=TODAY) == []


def test_activity_the_day_after_counts_from_the_next_year_in_local_time(tenant_a):
    # 00:30 in Stockholm on 1 January is still 31 December in UTC.
    c = annotated(customer(last=at(dt.date(2021, 1, 1), 0, 30)))
    assert c.eligible_on == dt.date(2027, 1, 1)
    assert not c.is_eligible and reasons_of(c, today=TODAY) == [Blocker.INSIDE_PERIOD]


def test_a_fiscal_year_ending_30_june(tenant_a):
    fiscal_year_end(tenant_a, 6, 30)
    on_end = annotated(customer("A", last=dt.date(2020, 6, 30)))
    after = annotated(customer("B", last=dt.date(2020, 7, 1)))
    before = annotated(customer("C", last=dt.date(2020, 1, 15)))
    assert on_end.period_ends_on == dt.date(2025, 6, 30)
    assert on_end.eligible_on == before.eligible_on == dt.date(2025, 7, 1)
    assert after.eligible_on == dt.date(2026, 7, 1)
    assert on_end.is_eligible and after.is_eligible  # today is 30 November 2026


def test_a_leap_day_last_activity(tenant_a):
    calendar = annotated(customer("A", last=dt.date(2020, 2, 29)))
    assert calendar.eligible_on == dt.date(2026, 1, 1)
    fiscal_year_end(tenant_a, 2, 28)
    # 29 February is after a fiscal year ending 28 February: the next year's end counts.
    leap = annotated(customer("B", last=dt.date(2020, 2, 29)))
    assert leap.period_ends_on == dt.date(2026, 2, 28)
    assert leap.eligible_on == dt.date(2026, 3, 1)


def test_no_activity_counts_from_the_creation_date(tenant_a):
    c = annotated(customer(created=dt.date(2015, 3, 1)))
    assert c.last_activity_at is None
    assert c.eligible_on == dt.date(2021, 1, 1) and c.is_eligible


# --- Prospects and the override -----------------------------------------------------------


def test_a_prospect_gets_the_shorter_period(tenant_a):
    prospect = customer("Prospekt", last=dt.date(2023, 5, 1))
    document(prospect, "quote", status="open", balance="100.00")  # an open quote blocks nothing
    buyer = customer("Köpare", last=dt.date(2023, 5, 1))
    document(buyer, "quote")
    document(buyer, "invoice")
    p, b = annotated(prospect), annotated(buyer)
    assert p.is_prospect and p.retention_period == 2 and p.eligible_on == dt.date(2026, 1, 1)
    assert p.is_eligible and p.balance == 0
    assert not b.is_prospect and b.retention_period == 5 and b.eligible_on == dt.date(2029, 1, 1)
    # No documents at all: a customer, not a prospect.
    assert not annotated(customer("Tom", last=dt.date(2023, 5, 1))).is_prospect


def test_the_per_customer_override_beats_the_default(tenant_a):
    longer = annotated(customer("A", last=dt.date(2019, 5, 1), retention_years=10))
    assert longer.retention_period == 10 and longer.eligible_on == dt.date(2030, 1, 1)
    assert not longer.is_eligible
    shorter = customer("B", last=dt.date(2024, 5, 1), retention_years=1)
    document(shorter, "quote")  # a prospect, yet its own 1 year wins over the prospects' 2
    s = annotated(shorter)
    assert s.is_prospect and s.retention_period == 1 and s.eligible_on == dt.date(2026, 1, 1)


# --- Blockers -----------------------------------------------------------------------------

OLD = dt.date(2015, 3, 1)


def test_each_blocker_alone(tenant_a):
    cases = {}
    c = customer("Öppen order", last=OLD)
    document(c, "order", status="open")
    cases[Blocker.OPEN_DOCUMENTS] = c
    c = customer("Tillgodo", last=OLD)
    document(c, "credit_note", status="open", balance="-50.00")
    cases[Blocker.BALANCE] = c
    c = customer("Tvist", last=OLD)
    legal_hold_set(customer=c, reason="Tvist", actor=Actor.system("tests"))
    cases[Blocker.LEGAL_HOLD] = c
    c = customer("Anonym", last=OLD)
    Customer.objects.filter(pk=c.pk).update(status=CustomerStatus.ANONYMIZED)
    cases[Blocker.ANONYMIZED] = c
    cases[Blocker.INSIDE_PERIOD] = customer("Ny", last=dt.date(2024, 1, 1))
    for blocker, c in cases.items():
        a = annotated(c)
        assert reasons_of(a, today=TODAY) == [blocker], blocker
        assert not a.is_eligible
    assert not eligible_customers(today=TODAY).exists()
    blocked = set(blocked_customers(today=TODAY).values_list("name", flat=True))
    assert blocked == {"Öppen order", "Tillgodo", "Tvist"}
    assert waiting_count(today=TODAY) == 1


def test_open_documents_by_kind(tenant_a):
    for kind in ("order", "delivery", "invoice", "case"):
        c = customer(kind, last=OLD)
        document(c, kind, status="open")
        assert reasons_of(annotated(c), today=TODAY) == [Blocker.OPEN_DOCUMENTS], kind
    # A closed invoice with a balance left and an open payment: only the balance blocks.
    c = customer("Betalning", last=OLD)
    document(c, "invoice", balance="100.00")
    document(c, "payment", status="open", balance="-100.00")
    assert reasons_of(annotated(c), today=TODAY) == [Blocker.BALANCE]
    # An open invoice and an open credit note that cancel out: the invoice still blocks.
    c = customer("Kvitt", last=OLD)
    document(c, "invoice", status="open", balance="100.00")
    document(c, "credit_note", status="open", balance="-100.00")
    a = annotated(c)
    assert a.balance == 0 and reasons_of(a, today=TODAY) == [Blocker.OPEN_DOCUMENTS]


def test_all_blockers_together(tenant_a):
    c = customer("Allt", last=dt.date(2025, 1, 1))
    document(c, "invoice", status="open", balance="250.00")
    legal_hold_set(customer=c, reason="Revision", actor=Actor.system("tests"))
    Customer.objects.filter(pk=c.pk).update(status=CustomerStatus.ANONYMIZED)
    a = annotated(c)
    assert a.balance == Decimal("250.00")
    assert reasons_of(a, today=TODAY) == [
        Blocker.ANONYMIZED,
        Blocker.LEGAL_HOLD,
        Blocker.OPEN_DOCUMENTS,
        Blocker.BALANCE,
        Blocker.INSIDE_PERIOD,
    ]
    assert not blocked_customers(today=TODAY).exists()  # anonymized: done, not blocked


def test_eligible_lists_split_prospects_and_customers(tenant_a):
    p = customer("Prospekt", last=OLD)
    document(p, "quote")
    customer("Kund", last=OLD)
    customer("Ny", last=dt.date(2026, 1, 1))
    assert [c.name for c in eligible_customers(today=TODAY, prospects=True)] == ["Prospekt"]
    assert [c.name for c in eligible_customers(today=TODAY, prospects=False)] == ["Kund"]
    assert eligible_customers(today=TODAY).count() == 2


# --- Forecast -----------------------------------------------------------------------------


def test_forecast_counts_per_month_only_those_kept_by_time(tenant_a):
    fiscal_year_end(tenant_a, 6, 30)
    customer("Juli 1", last=dt.date(2021, 3, 1))  # eligible 1 July 2026: already
    customer("Juli 2", last=dt.date(2022, 3, 1))  # 1 July 2027
    customer("Juli 3", last=dt.date(2022, 6, 30))  # 1 July 2027
    blocked = customer("Juli blockerad", last=dt.date(2022, 3, 1))
    document(blocked, "order", status="open")
    prospect = customer("Prospekt", last=dt.date(2025, 1, 1))  # 2 years: 1 July 2027
    document(prospect, "quote")
    customer("Senare", last=dt.date(2023, 3, 1))  # 1 July 2028: beyond 12 months
    forecast = eligibility_forecast(today=TODAY)
    assert len(forecast) == 12
    assert forecast[0].month == dt.date(2026, 11, 1)
    assert forecast[-1].month == dt.date(2027, 10, 1)
    counts = {f.month: f.count for f in forecast if f.count}
    assert counts == {dt.date(2027, 7, 1): 3}
    prospects_only = eligibility_forecast(today=TODAY, prospects=True)
    assert sum(f.count for f in prospects_only) == 1


def test_forecast_includes_later_this_month(tenant_a):
    fiscal_year_end(tenant_a, 12, 15)
    customer("Dec", last=dt.date(2020, 12, 20))  # FY ends 15 Dec 2021 -> 16 Dec 2026
    forecast = eligibility_forecast(today=dt.date(2026, 12, 1), months=2)
    assert [(f.month, f.count) for f in forecast] == [
        (dt.date(2026, 12, 1), 1),
        (dt.date(2027, 1, 1), 0),
    ]


# --- Isolation ----------------------------------------------------------------------------


def test_another_tenants_customers_are_never_counted(personas):
    with tenant_context(personas.tenant_b):
        policy()
        other = customer("Fjordvik Kunde", last=OLD)
        document(other, "order", status="open")
        customer("Fjordvik Gammel", last=OLD)
    with tenant_context(personas.tenant_a):
        policy()
        customer("Nordljus Gammel", last=OLD)
        assert [c.name for c in eligible_customers(today=TODAY)] == ["Nordljus Gammel"]
        assert not blocked_customers(today=TODAY).exists()
        everyone = eligibility_annotate(Customer.objects.all(), today=TODAY)
        assert {c.name for c in everyone} == {"Nordljus Gammel"}
