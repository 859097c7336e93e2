"""The dashboard, the home page (issue 11 item 6), at 1,000,000 customers in one tenant.

The data are bench_eligibility's (1M customers with about 3M sales documents beside two
tenants of 100,000), plus a consent state for about 40 % of the big tenant's customers in
every status. Target: the dashboard under 300 ms p95.

1. Every statement the dashboard sends for an administrator (consent coverage, activity
   buckets, the 12-month forecast, the recent runs, batches and exports), through its
   selectors, against the very statements recorded once and run directly on the same
   connection.
2. The whole page through Django's test client (session, tenant middleware, template)
   for an administrator, against the same page for an employee (no charts: the cost of
   the request itself); the customer charts' numbers come from the tenant's snapshot
   (``reports.dashboard_snapshot``), here a fresh one.
3. Cold: nothing in any cache and the snapshot older than its refresh age, as every view
   finds it a few minutes after the last count: the page shows it and asks a worker for
   a new count (one task; the later views only find the ask). No worker runs here, so the
   snapshot stays stale for the whole side.
4. No snapshot at all (a tenant's first view, or one older than the maximum age): the page
   counts inline, what statement 1 costs plus the page.

Size with BENCH_DASHBOARD_CUSTOMERS (default 1,000,000; e.g. 20000 for a quick look: the
other two tenants get a tenth each). With ``--keep-db NAME`` the loaded data are kept, as
bench_eligibility's (the same loader: run both at the same size).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks import Comparison, Context, Figures, Side, Timing, benchmark, compare
from benchmarks import bench_eligibility as eligibility_data
from consent.models import ConsentState
from reports import dashboard as dashboard_selectors
from reports import dashboard_snapshot, views_dashboard
from reports.models import DashboardSnapshot
from tenancy.context import tenant_context
from tenancy.models import Membership
from tenancy.roles import Role

CUSTOMERS = int(os.environ.get("BENCH_DASHBOARD_CUSTOMERS", "1000000"))
TARGET_P95_MS = 300


def _load_consent(tenant) -> str:
    """A consent state for about 40 % of the tenant's customers, in every status (a tenth
    of the granted ones past their validity: they read "expired"). Once per database."""
    owner = connections["owner"]
    table = ConsentState._meta.db_table
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our table name
        (existing,) = cursor.fetchone()
        if existing:
            return f"{existing:,} consent states loaded by an earlier run"
        started = time.perf_counter()
        cursor.execute(
            f"""
            INSERT INTO {table} (tenant_id, customer_id, status, terms_version, decided_at,
                method, valid_until, updated_at)
            SELECT c.tenant_id, c.id, s.status,
                CASE WHEN s.status IN ('granted', 'withdrawn') THEN 1 END,
                now() - (c.id %% 900) * interval '1 day',
                CASE WHEN s.status = 'requested' THEN '' ELSE 'manual' END,
                CASE WHEN s.status = 'granted' AND c.id %% 10 = 0
                     THEN now() - interval '1 day' END,
                now()
            FROM customers_customer c
            CROSS JOIN LATERAL (SELECT CASE
                WHEN c.id %% 100 < 22 THEN 'granted'
                WHEN c.id %% 100 < 30 THEN 'requested'
                WHEN c.id %% 100 < 34 THEN 'declined'
                WHEN c.id %% 100 < 37 THEN 'withdrawn'
                ELSE 'expired' END AS status) s
            WHERE c.tenant_id = %s AND c.id %% 100 < 40
            """,  # noqa: S608 - our table name
            [tenant.pk],
        )
        inserted = cursor.rowcount
    with owner.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")
    return f"{inserted:,} consent states bulk-loaded in {time.perf_counter() - started:.0f} s"


def _snapshot_aged(tenant, seconds: int):
    """A context manager factory: the tenant's snapshot made ``seconds`` old (no recount)."""

    @contextmanager
    def aged():
        with tenant_context(tenant):
            moment = timezone.now() - dt.timedelta(seconds=seconds)
            DashboardSnapshot.objects.update(
                computed_at=moment, day=dashboard_selectors.tenant_today()
            )
        yield

    return aged


def _member(tenant, username: str, role: str) -> Client:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = get_user_model().objects.create_user(username=username, password=None)
    Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": role})
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def _sections() -> int:
    """What views_dashboard.dashboard_page reads for an administrator, without the page and
    without its snapshot: every statement, every time (what a refresh or the first view
    counts, plus the forecast and the recent lists)."""
    d = dashboard_selectors
    activity = d.activity_buckets()
    consent = d.consent_coverage(active=sum(b.count for b in activity))  # as the refresh
    forecast = d.anonymization_forecast()
    recent = d.recent_runs() + d.recent_batches() + d.recent_exports()
    return sum(consent.values()) + len(activity) + len(forecast) + len(recent)


@benchmark
def dashboard(ctx: Context) -> list[Comparison | Figures]:
    eligibility_data.SCALE = CUSTOMERS / 1_000_000
    loaded = eligibility_data._ensure_loaded(ctx)
    consent_loaded = _load_consent(ctx.tenant)
    with connections["owner"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE customers_customer")
    size = eligibility_data._fmt_counts()
    print(f"  {size} ({loaded}); {consent_loaded}", flush=True)

    with tenant_context(ctx.tenant):
        with CaptureQueriesContext(connection) as captured:
            _sections()
        DashboardSnapshot.objects.all().delete()  # a kept database: an earlier run's
        figures = dashboard_snapshot.dashboard_figures()  # counted now: no snapshot
        coverage = views_dashboard._consent_section(figures)["rows"]
    recorded = [q["sql"] for q in captured.captured_queries if "set_config" not in q["sql"]]

    def raw() -> int:
        n = 0
        with connection.cursor() as cursor:
            for sql in recorded:
                cursor.execute(sql)
                n += len(cursor.fetchall())
        return n

    iterations = max(20, min(ctx.iterations, 100))
    shown = ", ".join(f"{r['count']:,} {r['label'].lower()}" for r in coverage)
    statements = compare(
        "Dashboard: every statement of the administrator's page",
        subject=Side("the dashboard's selectors", _sections, lambda: tenant_context(ctx.tenant)),
        baseline=Side(
            "its SQL run directly on the same connection", raw, lambda: tenant_context(ctx.tenant)
        ),
        iterations=iterations,
        batch=10,
        warmup=3,
        note=f"{size} ({loaded}); {consent_loaded}. The big tenant's consent chart showed "
        f"{shown}. {len(recorded)} statements per page. Target p95 < {TARGET_P95_MS} ms.",
    )

    admin = _member(ctx.tenant, "bench-dashboard-admin", Role.ADMIN)
    employee = _member(ctx.tenant, "bench-dashboard-employee", Role.EMPLOYEE)
    url = f"/t/{ctx.tenant.slug}/"

    def page(client: Client):
        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        return get

    fresh = _snapshot_aged(ctx.tenant, 0)
    stale = _snapshot_aged(ctx.tenant, dashboard_snapshot.REFRESH_AFTER_SECONDS + 60)
    assert b'id="chart-consent"' in admin.get(url).content  # the charts are there
    assert b'id="chart-consent"' not in employee.get(url).content
    whole = compare(
        "Dashboard: the whole page through the test client (session, middleware, template)",
        subject=Side("GET / as an administrator (every chart)", page(admin), fresh),
        baseline=Side("GET / as an employee (no chart: the request alone)", page(employee)),
        iterations=iterations,
        batch=10,
        warmup=3,
        note=f"Target p95 < {TARGET_P95_MS} ms at 1,000,000 customers; measured at {size}. "
        "The customer charts' numbers come from the tenant's snapshot "
        "(``reports.dashboard_snapshot``), fresh here; the forecast and the recent lists "
        "are read every time.",
    )
    cold = compare(
        "Dashboard: the whole page cold (nothing cached, the snapshot due for a refresh)",
        subject=Side("GET / as an administrator, stale snapshot", page(admin), stale),
        baseline=Side("GET / as an administrator, fresh snapshot", page(admin), fresh),
        iterations=iterations,
        batch=10,
        warmup=3,
        note="No cache is involved: the numbers are the snapshot's, shown with their time. "
        f"A snapshot older than {dashboard_snapshot.REFRESH_AFTER_SECONDS} s (every view "
        "a few minutes after the last count) is shown as it is while one refresh task is "
        "sent (a conditional UPDATE of `refresh_asked_at`: of many views only the first "
        "sends, until a worker has counted again). No worker runs in this benchmark, so "
        "the snapshot stays stale and each view finds the ask already made.",
    )

    def first_view() -> None:
        with tenant_context(ctx.tenant):
            DashboardSnapshot.objects.all().delete()
        page(admin)()

    inline = compare(
        "Dashboard: the first view (no snapshot yet: counted inline)",
        subject=Side("GET / as an administrator, no snapshot", first_view),
        baseline=Side("GET / as an administrator, fresh snapshot", page(admin), fresh),
        iterations=max(10, iterations // 2),
        batch=5,
        warmup=2,
        note="The page counts both customer charts while the member waits, and keeps them as "
        "the snapshot: a tenant's very first view, or one after no count for "
        f"{dashboard_snapshot.MAX_AGE_SECONDS} s (no worker, or nobody looked). Each call "
        "deletes the snapshot first (a one-row DELETE inside the timing).",
    )

    per_query: list[tuple[float, float, str]] = []
    with tenant_context(ctx.tenant), connection.cursor() as cursor:
        for sql in recorded:
            samples = []
            for _ in range(10):
                start = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                samples.append(time.perf_counter() - start)
            t = Timing("q", samples)
            per_query.append((t.p50_ms, t.p95_ms, _what(sql)))
    slowest = max(per_query)
    figures = Figures(
        "Dashboard, each statement alone (run directly)",
        [
            (f"{n}. {what}", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")
            for n, (p50, p95, what) in enumerate(per_query, start=1)
        ],
        ratio=slowest[0] / statements.baseline.p50_ms,
        ratio_means="the slowest statement's p50 over all statements'",
    )
    return [statements, whole, cold, inline, figures]


def _what(sql: str) -> str:
    if "consent_consentstate" in sql:
        return "consent states by status"
    if "anonymization_retentionpolicy" in sql:
        return "the retention policy"
    if "anonymization_anonymizationrun" in sql:
        return "recent anonymization runs"
    if "consent_consentbatch" in sql:
        return "recent consent batches"
    if "audit_auditevent" in sql:
        return "recent exports"
    if "GROUP BY" in sql:
        return "the forecast (grouped by date)"
    if "FILTER" in sql:
        return "activity buckets"
    if sql.startswith("SELECT COUNT(*)"):
        return "active customers"
    return sql[:60]
