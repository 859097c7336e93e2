"""Reads of the dashboard, the home page (issue 11 item 6).

Each chart is one aggregate statement over the active tenant's customers: conditional
counts (``COUNT(*) FILTER (WHERE ...)``) in one pass instead of a query per bar. The counts
match the customer list the charts link to: its default tab, the active customers.

At a million customers the two customer charts take about 1.4 s to count (docs/benchmarks.md
``dashboard``), so the page shows them from a per-tenant snapshot that
a worker counts again when it is a few minutes old (``reports.dashboard_snapshot``) and
says how old they are; the forecast reads a narrow index and is always current.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from anonymization import eligibility
from anonymization.models_runs import AnonymizationRun
from audit.models import AuditEvent
from consent.models import OPEN_STATUSES, ConsentBatch, ConsentState, ConsentStatus
from customers.models import Customer, CustomerStatus
from tenancy.context import require_tenant

from .services import EXPORTED

RECENT = 5
FORECAST_MONTHS = 12
# Months since the last activity: (from, to) with None for "and older". Wider buckets as
# the activity gets older: recent months matter for sales, old years for retention.
ACTIVITY_BUCKETS: tuple[tuple[int, int | None], ...] = (
    (0, 3),
    (3, 6),
    (6, 12),
    (12, 24),
    (24, 36),
    (36, None),
)
NEVER = "never"
# The order the coverage chart shows the states in: the good news first.
CONSENT_ORDER = (
    ConsentStatus.GRANTED,
    ConsentStatus.REQUESTED,
    ConsentStatus.NONE,
    ConsentStatus.DECLINED,
    ConsentStatus.WITHDRAWN,
    ConsentStatus.EXPIRED,
)


@dataclass(frozen=True)
class ActivityBucket:
    key: str  # "0-3", "36-", or NEVER
    months_from: int | None
    months_to: int | None
    count: int
    # The list's "last activity before" date that comes closest to this bucket: customers
    # quiet since then (this bucket, the older ones and the never active).
    before: dt.date | None


def tenant_today() -> dt.date:
    return eligibility.tenant_today()


def _months_back(day: dt.date, months: int) -> dt.date:
    """``day`` ``months`` calendar months earlier (the 31st becomes the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` where the tenant is, as the list's filter reads it."""
    try:
        tz = zoneinfo.ZoneInfo(require_tenant().time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    return dt.datetime.combine(day, dt.time.min, tz)


def active_customers():
    return Customer.objects.filter(status=CustomerStatus.ACTIVE)


def consent_coverage(*, active: int | None = None) -> dict[str, int]:
    """Active customers per consent status, read as the list's consent filter reads it (a
    request past its expiry that nobody answered, and a consent past its validity, are
    ``expired``; a customer without a state row is ``none``). Two statements: the active
    customers' count (unless given: the activity buckets add up to it), and the state
    rows' conditional counts."""
    now = timezone.now()
    lapsed = Q(
        status=ConsentStatus.REQUESTED,
        last_request__status__in=OPEN_STATUSES,
        last_request__expires_at__lte=now,
    ) | Q(status=ConsentStatus.GRANTED, valid_until__lte=now)
    states = ConsentState.objects.filter(customer__status=CustomerStatus.ACTIVE).aggregate(
        granted=Count("pk", filter=Q(status=ConsentStatus.GRANTED) & ~lapsed),
        requested=Count("pk", filter=Q(status=ConsentStatus.REQUESTED) & ~lapsed),
        declined=Count("pk", filter=Q(status=ConsentStatus.DECLINED)),
        withdrawn=Count("pk", filter=Q(status=ConsentStatus.WITHDRAWN)),
        expired=Count("pk", filter=Q(status=ConsentStatus.EXPIRED) | lapsed),
    )
    total = active_customers().count() if active is None else active
    counts = {status: states.get(str(status), 0) or 0 for status in CONSENT_ORDER}
    counts[ConsentStatus.NONE] = max(0, total - sum(counts.values()))
    return {str(status): counts[status] for status in CONSENT_ORDER}


def activity_buckets(*, today: dt.date | None = None) -> list[ActivityBucket]:
    """Active customers by months since their last activity, one statement; the never
    active last. Months are calendar months back from today, from the start of that day
    where the tenant is (as the list's "last activity before" filter reads a date)."""
    today = today or tenant_today()
    cutoffs = {m: _months_back(today, m) for b in ACTIVITY_BUCKETS for m in b if m is not None}
    field = "last_activity_at"
    aggregates = {}
    for lo, hi in ACTIVITY_BUCKETS:
        q = (
            Q(**{f"{field}__lt": _start_of(cutoffs[lo])})
            if lo
            else Q(**{f"{field}__isnull": False})
        )
        if hi is not None:
            q &= Q(**{f"{field}__gte": _start_of(cutoffs[hi])})
        aggregates[_key(lo, hi)] = Count("pk", filter=q)
    aggregates[NEVER] = Count("pk", filter=Q(**{f"{field}__isnull": True}))
    counts = active_customers().aggregate(**aggregates)
    buckets = [
        ActivityBucket(_key(lo, hi), lo, hi, counts[_key(lo, hi)], cutoffs[lo] if lo else None)
        for lo, hi in ACTIVITY_BUCKETS
    ]
    # The list has no "never active" filter; "before tomorrow" includes them (and everyone).
    buckets.append(ActivityBucket(NEVER, None, None, counts[NEVER], None))
    return buckets


def _key(lo: int, hi: int | None) -> str:
    return f"{lo}-{hi if hi is not None else ''}"


def anonymization_forecast(*, today: dt.date | None = None) -> list[eligibility.ForecastMonth]:
    """How many become eligible in each of the next 12 months: the Anonymization page's own
    forecast (one grouped statement over the stored eligibility columns)."""
    return eligibility.eligibility_forecast(months=FORECAST_MONTHS, today=today)


def recent_runs() -> list[AnonymizationRun]:
    return list(AnonymizationRun.objects.order_by("-created_at", "-pk")[:RECENT])


def recent_batches() -> list[ConsentBatch]:
    return list(ConsentBatch.objects.order_by("-created_at", "-pk")[:RECENT])


def recent_exports() -> list[AuditEvent]:
    """The last report exports (their audit entries: no personal data in them)."""
    return list(AuditEvent.objects.filter(action=EXPORTED).order_by("-created_at", "-id")[:RECENT])
