"""The dashboard's customer charts, counted by a worker and kept in the database.

Counting a million customers' consent states and activity months takes a second or two,
longer than a page may take (docs/benchmarks.md ``dashboard``). So the page never counts
them while someone waits, except the very first time: it shows the tenant's
``DashboardSnapshot`` and its time, and when the snapshot is older than
``REFRESH_AFTER_SECONDS`` (or was counted on another day: the activity months move at the
tenant's midnight) it asks a worker for a new count (stale-while-revalidate). One request
at a time: the ask is a conditional UPDATE of ``refresh_asked_at``, so of many views at
once only one sends the task; an ask that no worker answered is repeated after
``ASK_AGAIN_SECONDS``.

**Kept fresh.** A page view that finds the numbers old gets them as they were and the next
view gets new ones; so that the first view of the morning need not wait either, the beat
task ``reports.dashboard_snapshots_sweep`` asks for a new count of every snapshot older
than ``KEEP_FRESH_SECONDS`` (only tenants that have one: whose dashboard has been opened).

**How stale.** The numbers shown are at most as old as the time the page shows with them.
A snapshot older than ``MAX_AGE_SECONDS`` (nobody looked for that long, or no worker is
running) is counted again inline rather than shown, so the page never shows numbers older
than that; nor does a tenant without a snapshot (a small tenant's count is quick; a big
one pays this once).

The counts themselves are ``reports.dashboard``'s selectors, the same statements as the
lists the charts link to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import dashboard
from .models import DashboardSnapshot

REFRESH_AFTER_SECONDS = 120
ASK_AGAIN_SECONDS = 300
MAX_AGE_SECONDS = 3600
KEEP_FRESH_SECONDS = 900  # under MAX_AGE_SECONDS by more than the sweep's 10 minutes


@dataclass(frozen=True)
class Figures:
    """What the two customer charts show, and when it was counted."""

    as_of: dt.datetime
    consent: dict[str, int]
    activity: list[dashboard.ActivityBucket]
    refreshing: bool  # a newer count has been asked for


def _encode(consent: dict[str, int], activity: list[dashboard.ActivityBucket]) -> dict:
    return {
        "consent": consent,
        "activity": [
            {
                "key": b.key,
                "from": b.months_from,
                "to": b.months_to,
                "count": b.count,
                "before": b.before.isoformat() if b.before else None,
            }
            for b in activity
        ],
    }


def _decode(snapshot: DashboardSnapshot, *, refreshing: bool = False) -> Figures:
    data = snapshot.figures or {}
    activity = [
        dashboard.ActivityBucket(
            key=b["key"],
            months_from=b["from"],
            months_to=b["to"],
            count=b["count"],
            before=dt.date.fromisoformat(b["before"]) if b["before"] else None,
        )
        for b in data.get("activity", [])
    ]
    # In the chart's order: jsonb keeps an object's keys in an order of its own.
    stored = data.get("consent", {})
    consent = {str(status): stored.get(str(status), 0) for status in dashboard.CONSENT_ORDER}
    return Figures(snapshot.computed_at, consent, activity, refreshing)


def snapshot_refresh() -> DashboardSnapshot:
    """Count both charts now and keep the result as the active tenant's snapshot."""
    day = dashboard.tenant_today()
    computed_at = timezone.now()  # before the counts: the numbers are at least this new
    activity = dashboard.activity_buckets(today=day)
    # Every active customer is in one bucket: their sum is the count the consent chart needs.
    consent = dashboard.consent_coverage(active=sum(b.count for b in activity))
    figures = _encode(consent, activity)
    values = {"computed_at": computed_at, "day": day, "figures": figures, "refresh_asked_at": None}
    try:
        with transaction.atomic():
            snapshot, _created = DashboardSnapshot.objects.update_or_create(defaults=values)
    except IntegrityError:  # another process created it meanwhile: ours is as good
        snapshot = DashboardSnapshot.objects.get()
    return snapshot


def _ask_for_refresh(snapshot: DashboardSnapshot, now: dt.datetime) -> bool:
    """Send one refresh task unless one was asked for within ``ASK_AGAIN_SECONDS``."""
    from .tasks import dashboard_refresh

    again = now - timedelta(seconds=ASK_AGAIN_SECONDS)
    asked = (
        DashboardSnapshot.objects.filter(pk=snapshot.pk)
        .filter(Q(refresh_asked_at=None) | Q(refresh_asked_at__lt=again))
        .update(refresh_asked_at=now)
    )
    if asked:
        dashboard_refresh.enqueue()
    return bool(asked)


def dashboard_figures() -> Figures:
    """The customer charts' numbers for the page: the snapshot, counted inline only when
    there is none or it is older than ``MAX_AGE_SECONDS``; a refresh asked for when it is
    older than ``REFRESH_AFTER_SECONDS`` or from another day."""
    now = timezone.now()
    snapshot = DashboardSnapshot.objects.first()
    if snapshot is None or now - snapshot.computed_at > timedelta(seconds=MAX_AGE_SECONDS):
        return _decode(snapshot_refresh())
    stale = now - snapshot.computed_at > timedelta(seconds=REFRESH_AFTER_SECONDS)
    if stale or snapshot.day != dashboard.tenant_today():
        _ask_for_refresh(snapshot, now)
        return _decode(snapshot, refreshing=True)
    return _decode(snapshot)


def snapshot_keep_fresh() -> bool:
    """The sweep's part for the active tenant: ask for a new count when its snapshot is older
    than ``KEEP_FRESH_SECONDS``, so a view never finds it past ``MAX_AGE_SECONDS`` while the
    workers run. Whether it asked."""
    now = timezone.now()
    snapshot = DashboardSnapshot.objects.filter(
        computed_at__lt=now - timedelta(seconds=KEEP_FRESH_SECONDS)
    ).first()
    if snapshot is None:
        return False
    return _ask_for_refresh(snapshot, now)
