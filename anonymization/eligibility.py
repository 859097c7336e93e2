"""When may a customer be anonymized, and what keeps it from it (issue 9 item 4).

One set of queryset functions, used by the Anonymization page now and by the API, the
command and the anonymization runs later. Everything is computed in SQL over the
customer queryset (annotations with subqueries), never per customer in Python.

The rules (docs/design.md, "Legal rules the code encodes"):

- **The period** runs from the end of the tenant's fiscal year in which the customer's
  last activity fell (its creation, when it has none), for N years: the customer's own
  override, else the prospects' period for a prospect (it has documents, all of them
  quotes), else the customers' period. Dates are the tenant's local dates.
- ``period_ends_on`` is that fiscal-year end plus N years; the material must be kept
  through that day, so ``eligible_on`` is **the day after**. A fiscal-year end is never
  29 February (ADR 0009), so adding whole years never lands on a missing day.
- **Blockers**: an open order, delivery, invoice or case (business in progress; an open
  quote does not block: it is an offer nobody owes anything on, and a prospect's only
  kind of document; credit notes and payments are money, and block through the balance);
  a non-zero balance (the sum of the open balances of the open documents other than
  quotes, all currencies as the ERP reported them, so an open credit note of -50 blocks
  and an invoice and a credit note that cancel out do not, by their balance); activity
  inside the period (``eligible_on`` after today); an active legal hold; already
  anonymized.

**Stored, not recomputed.** What these rules need from other tables (the documents'
kinds, open blockers and balance, the legal hold, the eligible date from the tenant's
settings and policy) is kept on the customer row by the database (migration
``anonymization/0002_eligibility_state``: columns ``elig_*`` maintained by triggers on
documents, holds, customers, policies and tenants). The annotations read those columns (no
policy lookup either: the customer's period in years is stored too), so
the page's counts and first pages are index scans instead of subqueries per customer
(docs/benchmarks.md, ``eligibility``); tests/anonymization/test_eligibility_state.py checks
that they equal the rules computed from scratch.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DecimalField,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import (
    Cast,
    Coalesce,
    ExtractDay,
    ExtractMonth,
    ExtractYear,
)
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, CustomerStatus
from sales.models import DocumentKind, DocumentStatus, SalesDocument
from tenancy.context import require_tenant

from .models import LegalHold
from .selectors import retention_policy

# Open documents of these kinds block anonymization (see the module's docstring).
BLOCKING_KINDS = (
    DocumentKind.ORDER,
    DocumentKind.DELIVERY,
    DocumentKind.INVOICE,
    DocumentKind.CASE,
)


class Blocker:
    OPEN_DOCUMENTS = "open_documents"
    BALANCE = "balance"
    INSIDE_PERIOD = "inside_period"
    LEGAL_HOLD = "legal_hold"
    ANONYMIZED = "anonymized"


BLOCKER_LABELS = {
    Blocker.OPEN_DOCUMENTS: _("Open orders, deliveries, invoices or cases"),
    Blocker.BALANCE: _("Balance is not zero"),
    Blocker.INSIDE_PERIOD: _("Activity inside the retention period"),
    Blocker.LEGAL_HOLD: _("On legal hold"),
    Blocker.ANONYMIZED: _("Already anonymized"),
}


class _MakeDate(Func):
    # make_date(year, month, day) + n days: a date (PostgreSQL's date + integer).
    template = "(make_date(%(expressions)s) + %(days)s)"
    output_field = DateField()


class Stored(Expression):
    """A column of ``customers_customer`` that the database maintains (migration
    ``anonymization/0002``), not a model field: Django never writes it. Compiled against the
    query's base table, whatever its alias (also inside a subquery)."""

    def __init__(self, column: str, output_field):
        super().__init__(output_field=output_field)
        self.column = column

    def __repr__(self) -> str:
        return f"Stored({self.column!r})"

    def as_sql(self, compiler, connection):
        alias = compiler.query.get_initial_alias()
        return (
            f"{compiler.quote_name_unless_alias(alias)}.{connection.ops.quote_name(self.column)}",
            [],
        )

    def get_group_by_cols(self):
        return [self]


class _DaysBefore(Func):
    template = "(%(expressions)s - 1)"
    output_field = DateField()


# What the rules need, kept on the customer row (the module's docstring).
PROSPECT = Stored("elig_prospect", BooleanField())
BLOCKED = Stored("elig_blocked", BooleanField())  # open documents, a balance or a hold
OPEN_DOCUMENTS = Stored("elig_open_documents", IntegerField())
BALANCE = Stored("elig_balance", DecimalField(max_digits=16, decimal_places=2))
ON_HOLD = Stored("elig_on_hold", BooleanField())
RETENTION_PERIOD = Stored("elig_retention_period", IntegerField())
ELIGIBLE_ON = Stored("elig_eligible_on", DateField())


def tenant_today() -> dt.date:
    return timezone.now().astimezone(_tenant_tz()).date()


def _tenant_tz() -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(require_tenant().time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def eligibility_annotate(
    queryset: QuerySet[Customer], *, today: dt.date | None = None
) -> QuerySet[Customer]:
    """``queryset`` with ``is_prospect``, ``has_open_documents``, ``balance``, ``on_hold``,
    ``retention_period`` (years), ``period_ends_on``, ``eligible_on`` and ``is_eligible``.

    Read from the columns the database keeps (the module's docstring); they equal what
    ``eligibility_computed`` computes from the documents, holds and settings."""
    today = today or tenant_today()
    qs = queryset.annotate(
        is_prospect=PROSPECT,
        has_open_documents=GreaterThan(OPEN_DOCUMENTS, 0),
        balance=BALANCE,
        on_hold=ON_HOLD,
        retention_period=RETENTION_PERIOD,
        period_ends_on=_DaysBefore(ELIGIBLE_ON),
        eligible_on=ELIGIBLE_ON,
    )
    return qs.annotate(
        is_eligible=ExpressionWrapper(_eligible_q(today), output_field=BooleanField())
    )


def _retention_period(policy) -> Coalesce:
    return Coalesce(
        "retention_years",
        Case(
            When(is_prospect=True, then=Value(policy.prospect_years)),
            default=Value(policy.customer_years),
        ),
        output_field=IntegerField(),
    )


def eligibility_computed(
    queryset: QuerySet[Customer], *, today: dt.date | None = None
) -> QuerySet[Customer]:
    """The same annotations as ``eligibility_annotate``, computed from scratch with
    subqueries over the documents and holds and the tenant's settings: the rules' own
    statement, and what the stored columns are checked against. Slow on many customers."""
    today = today or tenant_today()
    policy = retention_policy()
    month, day = policy.fiscal_year_end_month, policy.fiscal_year_end_day
    tz = _tenant_tz()

    docs = SalesDocument.objects.filter(customer=OuterRef("pk"))
    open_blocking = docs.filter(status=DocumentStatus.OPEN, kind__in=BLOCKING_KINDS)
    balance = (
        docs.filter(status=DocumentStatus.OPEN)
        .exclude(kind=DocumentKind.QUOTE)
        .order_by()
        .values("customer")
        .annotate(total=Sum("balance"))
        .values("total")
    )
    hold = LegalHold.objects.filter(customer=OuterRef("pk"), lifted_at__isnull=True)

    # The moment the period counts from, as the tenant's local date parts.
    since = Coalesce("last_activity_at", "created_at")
    since_md = ExtractMonth(since, tzinfo=tz) * 100 + ExtractDay(since, tzinfo=tz)
    # The fiscal year ends in the same calendar year, or the next if the day is past its end.
    fiscal_year = ExtractYear(since, tzinfo=tz) + Case(
        When(GreaterThan(since_md, month * 100 + day), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    qs = queryset.annotate(
        is_prospect=ExpressionWrapper(
            Q(Exists(docs)) & ~Q(Exists(docs.exclude(kind=DocumentKind.QUOTE))),
            output_field=BooleanField(),
        ),
        has_open_documents=Exists(open_blocking),
        balance=Coalesce(
            Subquery(balance, output_field=DecimalField(max_digits=16, decimal_places=2)),
            Value(Decimal("0.00")),
        ),
        on_hold=Exists(hold),
    )
    qs = qs.annotate(retention_period=_retention_period(policy))
    # EXTRACT answers numeric; make_date wants integers.
    end_year = Cast(fiscal_year + F("retention_period"), IntegerField())
    qs = qs.annotate(
        period_ends_on=_MakeDate(end_year, Value(month), Value(day), days=0),
        eligible_on=_MakeDate(end_year, Value(month), Value(day), days=1),
    )
    return qs.annotate(
        is_eligible=ExpressionWrapper(
            Q(has_open_documents=False)
            & Q(balance=0)
            & Q(on_hold=False)
            & ~Q(status=CustomerStatus.ANONYMIZED)
            & Q(eligible_on__lte=today),
            output_field=BooleanField(),
        )
    )


def _unblocked_q() -> Q:
    """Nothing but time keeps it: no open documents, zero balance, no hold, not anonymized.

    ``elig_blocked`` is exactly "open documents, or a balance, or a hold"; written so, the
    filter matches the partial indexes of migration 0002."""
    return Q(~BLOCKED) & ~Q(status=CustomerStatus.ANONYMIZED)


def _eligible_q(today: dt.date) -> Q:
    return _unblocked_q() & Q(eligible_on__lte=today)


def _base(queryset: QuerySet[Customer] | None, today: dt.date) -> QuerySet[Customer]:
    if queryset is None:
        queryset = Customer.objects.all()
    return eligibility_annotate(queryset, today=today)


def eligible_customers(
    queryset: QuerySet[Customer] | None = None,
    *,
    today: dt.date | None = None,
    prospects: bool | None = None,
) -> QuerySet[Customer]:
    """Customers that may be anonymized today; ``prospects`` True/False narrows to one kind."""
    today = today or tenant_today()
    qs = _base(queryset, today).filter(_eligible_q(today))
    if prospects is not None:
        qs = qs.filter(is_prospect=prospects)
    return qs


def blocked_customers(
    queryset: QuerySet[Customer] | None = None,
    *,
    today: dt.date | None = None,
    prospects: bool | None = None,
) -> QuerySet[Customer]:
    """Customers (not anonymized) kept by an open document, a balance or a legal hold.

    A customer kept only by time (its period has not passed) is not listed here: that is
    every active customer; ``waiting_count`` counts them and the forecast shows when they
    become eligible. ``reasons_of`` names every reason of a row, time included.
    """
    today = today or tenant_today()
    # Open documents, a balance or a hold: ``elig_blocked`` (see ``_unblocked_q``).
    qs = _base(queryset, today).exclude(status=CustomerStatus.ANONYMIZED).filter(BLOCKED)
    if prospects is not None:
        qs = qs.filter(is_prospect=prospects)
    return qs


def waiting_count(
    queryset: QuerySet[Customer] | None = None, *, today: dt.date | None = None
) -> int:
    """Customers kept only by activity inside their period."""
    today = today or tenant_today()
    # Both kinds named, so the index on (tenant, kind, date) is searched twice by its date
    # range instead of read whole (it is not null: the meaning is unchanged).
    qs = _base(queryset, today).filter(_unblocked_q(), eligible_on__gt=today)
    return qs.filter(is_prospect__in=[True, False]).count()


def reasons_of(customer: Customer, *, today: dt.date | None = None) -> list[str]:
    """The blockers (``Blocker`` values) of a customer annotated by ``eligibility_annotate``."""
    today = today or tenant_today()
    reasons = []
    if customer.status == CustomerStatus.ANONYMIZED:
        reasons.append(Blocker.ANONYMIZED)
    if customer.on_hold:
        reasons.append(Blocker.LEGAL_HOLD)
    if customer.has_open_documents:
        reasons.append(Blocker.OPEN_DOCUMENTS)
    if customer.balance != 0:
        reasons.append(Blocker.BALANCE)
    if customer.eligible_on > today:
        reasons.append(Blocker.INSIDE_PERIOD)
    return reasons


def eligibility_of(customer: Customer, *, today: dt.date | None = None) -> Customer:
    """One customer, annotated (for a card, the API, a run's last check)."""
    return eligibility_annotate(Customer.objects.filter(pk=customer.pk), today=today).get()


@dataclass(frozen=True)
class ForecastMonth:
    month: dt.date  # the first day of the month
    count: int


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def eligibility_forecast(
    queryset: QuerySet[Customer] | None = None,
    *,
    months: int = 12,
    today: dt.date | None = None,
    prospects: bool | None = None,
) -> list[ForecastMonth]:
    """How many customers become eligible in each month from this one on (after today),
    counting only those nothing but time keeps (one grouped query)."""
    today = today or tenant_today()
    first = today.replace(day=1)
    end = _add_months(first, months)
    qs = _base(queryset, today).filter(_unblocked_q(), eligible_on__gt=today, eligible_on__lt=end)
    # As in waiting_count: both kinds named when both are wanted, for the index.
    qs = qs.filter(is_prospect__in=[True, False] if prospects is None else [prospects])
    # Grouped by the date itself (always the day after a fiscal-year end: a handful of
    # values), the months summed here; COUNT(*) lets the narrow index answer alone.
    rows = qs.order_by().values("eligible_on").annotate(n=Count("*"))
    counts: dict[dt.date, int] = {}
    for row in rows:
        month = row["eligible_on"].replace(day=1)
        counts[month] = counts.get(month, 0) + row["n"]
    return [
        ForecastMonth(month=m, count=counts.get(m, 0))
        for m in (_add_months(first, i) for i in range(months))
    ]
