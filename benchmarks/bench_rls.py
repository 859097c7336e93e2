"""What row-level security costs (issue 13 item 4): the product's hot queries as the runtime
role, under row security, against the same statements as a role that bypasses it.

The data are bench_eligibility's (its loader: 100,000 customers with their sales documents and
legal holds in the measured tenant beside two tenants of 10,000) plus bench_dashboard's consent
states. Size with BENCH_RLS_CUSTOMERS (default 100,000; the other two tenants get a tenth
each), the time per side of each comparison with BENCH_RLS_SECONDS (default 12). With
``--keep-db NAME`` the loaded data are kept for the next run at the same size.

The hot queries are recorded once through the product's own code, as the views call it:

- the card: ``customers.views.card.card_customer(pk)`` (the customer, its groups, addresses);
- the list page: the list view's ``_filtered`` and Django's Paginator: count + first page;
- a search: the same with ``q`` a Nordic name (the search function, count, page);
- consent state: ``consent.selectors.consent_status_of(customer)``;
- eligibility: the Anonymization page's eligible-customers section (count + first page).

Each is replayed statement by statement, exactly as the ORM sent it (client-side binding, as
Django's psycopg backend does), over two plain psycopg connections that differ only in the
role: the runtime role (NOBYPASSRLS: every tenant-owned table's policy applies) and
``kundreg_bench_bypass``, a member of the runtime role (the same privileges) with BYPASSRLS,
created by this benchmark as the server's superuser (the embedded server's ``postgres``, or
BENCH_SUPERUSER_URL). Both run in a transaction per batch with ``app.tenant_id`` set, as a
request does. The application filters by tenant itself too (django-scopes adds ``tenant_id =
N`` to every query of a tenant-owned model), so the bypass side still reads one tenant's rows:
the difference between the sides is the policies alone.

Each statement is also EXPLAINed as the runtime role; every scan of a tenant-owned table must
carry ``tenant_id`` in its index condition (or a bitmap's recheck condition), or pin one
customer's rows there (``customer_id = 42``: the note lists those); anything else fails the
benchmark. The search function itself (``kundreg_customer_search``) runs as its owner
(SECURITY DEFINER) on the search mirror, whose row security is not forced: it is the same
call on both sides, its tenant a constant that prunes the mirror to one partition.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection, connections
from django.http import QueryDict
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from psycopg import sql

from anonymization import eligibility
from anonymization.views_page import _section
from benchmarks import Comparison, Context, Figures, Side, benchmark, compare
from benchmarks import bench_dashboard as dashboard_data
from benchmarks import bench_eligibility as eligibility_data
from consent.models import ConsentState
from consent.selectors import consent_status_of
from customers.models import Customer, CustomerStatus
from customers.views import lists
from customers.views.card import card_customer
from tenancy.context import SET_SQL, tenant_context

CUSTOMERS = int(os.environ.get("BENCH_RLS_CUSTOMERS", "100000"))
BYPASS_ROLE = "kundreg_bench_bypass"
SEARCH = "Sørensen"  # folds to "sorensen": one of the loader's names, as typed in Denmark
TARGET_RATIO = 1.2
TARGET_EXTRA_MS = 2.0
# Each comparison's calls are sized to about this many seconds per side.
SECONDS_PER_SIDE = float(os.environ.get("BENCH_RLS_SECONDS", "12"))


# --- Connections ---------------------------------------------------------------------


def _conninfo(alias: str, **overrides) -> str:
    cfg = settings.DATABASES[alias]
    params = {
        "dbname": cfg["NAME"],
        "user": cfg["USER"],
        "password": cfg.get("PASSWORD") or None,
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
    }
    return psycopg.conninfo.make_conninfo(**(params | overrides))


def _superuser_conninfo() -> str:
    """The server's superuser, which alone may create a BYPASSRLS role."""
    dbname = settings.DATABASES["owner"]["NAME"]
    url = os.environ.get("BENCH_SUPERUSER_URL", "")
    if url:
        return psycopg.conninfo.make_conninfo(url, dbname=dbname)
    from config import embedded

    info = embedded._postmaster()
    if info is None or str(settings.DATABASES["owner"].get("HOST")) != str(info.socket_dir):
        raise RuntimeError(
            "bench_rls creates a BYPASSRLS role: it needs the embedded server or "
            "BENCH_SUPERUSER_URL (a superuser's URL on the benchmarked server)"
        )
    return psycopg.conninfo.make_conninfo(
        dbname=dbname, user=embedded.SUPERUSER, host=str(info.socket_dir), port=info.port
    )


def _drop_bypass_role() -> None:
    """Leave no BYPASSRLS login behind on the server."""
    with psycopg.connect(_superuser_conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(BYPASS_ROLE)))


def _bypass_conninfo() -> str:
    """Create (or refresh) the bypass role: BYPASSRLS, a member of the runtime role."""
    password = secrets.token_hex(16)
    runtime = settings.DATABASES["default"]["USER"]
    with psycopg.connect(_superuser_conninfo(), autocommit=True) as conn:
        role = sql.Identifier(BYPASS_ROLE)
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [BYPASS_ROLE])
        if exists.fetchone() is None:
            conn.execute(
                sql.SQL(
                    "CREATE ROLE {} LOGIN BYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE"
                ).format(role)
            )
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(password)))
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(runtime), role))
        checked = conn.execute(
            "SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = %s", [BYPASS_ROLE]
        ).fetchone()
        assert checked == (True, False), checked
    return _conninfo("default", user=BYPASS_ROLE, password=password)


class Replay:
    """A plain connection that replays recorded statements inside a tenant's transaction."""

    def __init__(self, conninfo: str, tenant_id: int):
        # ClientCursor: parameters bound on the client, as Django's psycopg backend sends them.
        self.conn = psycopg.connect(
            conninfo, autocommit=True, cursor_factory=psycopg.ClientCursor, prepare_threshold=None
        )
        self.tenant_id = str(tenant_id)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conn.transaction():
            self.conn.execute(SET_SQL, [self.tenant_id])
            yield

    def run(self, statements: list[str]) -> int:
        rows = 0
        with self.conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
                rows += len(cursor.fetchall())
        return rows

    def role(self) -> tuple[str, bool]:
        return self.conn.execute(
            "SELECT current_user, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()


# --- The hot queries ---------------------------------------------------------------------


def _record(call: Callable[[], object]) -> list[str]:
    """The statements ``call`` sends, as sent (the tenant variable's own left out)."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return [
        q["sql"]
        for q in captured.captured_queries
        if "set_config" not in q["sql"] and not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]


def _hot_queries(ctx: Context) -> dict[str, list[str]]:
    request = RequestFactory().get("/customers/")
    request.tenant = ctx.tenant

    def list_page(data: str) -> int:
        _form, customers = lists._filtered(request, QueryDict(data))
        page = Paginator(customers, lists.PAGE_SIZE).get_page(1)
        return len(list(page))

    def eligible_page() -> int:
        today = eligibility.tenant_today()
        qs = eligibility.eligible_customers(today=today, prospects=False).order_by(
            "eligible_on", "sort_name", "pk"
        )
        return _section(RequestFactory().get("/anonymization/"), qs, "customers_page")["count"]

    with tenant_context(ctx.tenant):
        active = Customer.objects.filter(status=CustomerStatus.ACTIVE).order_by("pk")
        card_pk = active.values_list("pk", flat=True)[CUSTOMERS // 2]
        consent_customer = Customer.objects.get(
            pk=ConsentState.objects.order_by("customer_id").values_list("customer_id", flat=True)[
                CUSTOMERS // 10
            ]
        )
        recorded = {
            "customer by id (the card)": _record(lambda: card_customer(card_pk)),
            "list page (count + first page of 50)": _record(lambda: list_page("")),
            f"search {SEARCH!r} (search, count, first page)": _record(
                lambda: list_page(f"q={SEARCH}")
            ),
            "consent state of a customer": _record(lambda: consent_status_of(consent_customer)),
            "eligible customers (count + first page of 25)": _record(eligible_page),
        }
    return recorded


# --- Plans ------------------------------------------------------------------------------


def _tenant_tables(replay: Replay) -> set[str]:
    return {
        name
        for (name,) in replay.conn.execute(
            "SELECT DISTINCT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'tenant_id'"
        )
    }


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _has_tenant(node: dict) -> bool:
    if "tenant_id" in node.get("Index Cond", "") + node.get("Recheck Cond", ""):
        return True
    # A bitmap heap scan's condition is in its bitmap index scans.
    return node["Node Type"] == "Bitmap Heap Scan" and all(
        _has_tenant(child) for child in node.get("Plans", []) if "Index Name" in child
    )


# An index condition that pins the rows of one customer (or one row): ``customer_id = 42``,
# ``id = ANY (...)``. The tenant is then a filter on those few rows, not on a scan.
PINNED = re.compile(r"\((?:customer_)?id = (?:ANY \(.*\)|\d+|'.*')\)")


def _pinned(node: dict) -> bool:
    return bool(PINNED.fullmatch(node.get("Index Cond", "")))


def _plan_check(
    replay: Replay, statements: list[str], tenant_tables: set[str]
) -> tuple[list[str], list[str]]:
    """The scans of tenant-owned tables whose index condition lacks tenant_id, as 'table:
    node' lines: (pinned to one customer's rows by their index condition, the others)."""
    pinned, misses = [], []
    with replay.transaction():
        for statement in statements:
            (doc,) = replay.conn.execute(f"EXPLAIN (FORMAT JSON) {statement}").fetchone()
            doc = json.loads(doc) if isinstance(doc, str) else doc
            for node in _nodes(doc[0]["Plan"]):
                table = node.get("Relation Name")
                if table in tenant_tables and not _has_tenant(node):
                    shown = {
                        k: node[k]
                        for k in ("Node Type", "Index Name", "Index Cond", "Filter")
                        if k in node
                    }
                    line = f"{table}: {json.dumps(shown, ensure_ascii=False)}"
                    (pinned if _pinned(node) else misses).append(line)
    return pinned, misses


def _plan_note(pinned: list[str], misses: list[str]) -> str:
    if not pinned and not misses:
        return "Every scan of a tenant-owned table has tenant_id in its index condition."
    note = ""
    if pinned:
        note += (
            "Scans whose index condition is one customer's id, tenant_id a filter on that "
            "customer's rows (the planner prefers the foreign key's one-column index): "
            + "; ".join(pinned)
            + ". "
        )
    if misses:
        note += "Scans without tenant_id in the index condition: " + "; ".join(misses) + "."
    return note


def _summary(c: Comparison) -> str:
    return (
        f"p50 {c.subject.p50_ms:.3f} ms under RLS, {c.baseline.p50_ms:.3f} ms bypassing it, "
        f"ratio {c.ratio:.2f}"
    )


# --- The benchmark -----------------------------------------------------------------------


def _calls(replay: Replay, statements: list[str], ceiling: int) -> int:
    """Calls per side for about SECONDS_PER_SIDE seconds, at least 50."""
    with replay.transaction():
        replay.run(statements)  # warm
        started = time.perf_counter()
        for _ in range(5):
            replay.run(statements)
        each = (time.perf_counter() - started) / 5
    return max(50, min(ceiling, int(SECONDS_PER_SIDE / each)))


@benchmark
def rls_cost(ctx: Context) -> list[Comparison | Figures]:
    eligibility_data.SCALE = CUSTOMERS / 1_000_000
    loaded = eligibility_data._ensure_loaded(ctx)
    consent_loaded = dashboard_data._load_consent(ctx.tenant)
    with connections["owner"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE customers_customer")
    size = eligibility_data._fmt_counts()
    print(f"  {size} ({loaded}); {consent_loaded}", flush=True)

    recorded = _hot_queries(ctx)
    rls = Replay(_conninfo("default"), ctx.tenant.pk)
    bypass = Replay(_bypass_conninfo(), ctx.tenant.pk)
    assert rls.role()[1] is False and bypass.role()[1] is True
    tenant_tables = _tenant_tables(rls)

    results: list[Comparison | Figures] = []
    rows: list[tuple[str, str]] = []
    worst = 0.0
    misses_all: list[str] = []
    try:
        for title, statements in recorded.items():
            # Both sides must answer alike: same rows, the tenant filter is the app's own.
            with rls.transaction():
                under_rls = rls.run(statements)
            with bypass.transaction():
                bypassed = bypass.run(statements)
            assert under_rls == bypassed, (title, under_rls, bypassed)
            pinned, misses = _plan_check(rls, statements, tenant_tables)
            misses_all += misses
            calls = _calls(rls, statements, ctx.iterations)
            comparison = compare(
                title,
                subject=Side(
                    f"runtime role {rls.role()[0]}, row security on",
                    lambda s=statements: rls.run(s),
                    rls.transaction,
                ),
                baseline=Side(
                    f"{BYPASS_ROLE} (BYPASSRLS), the same statements",
                    lambda s=statements: bypass.run(s),
                    bypass.transaction,
                ),
                iterations=calls,
                batch=min(100, max(10, calls // 10)),
                warmup=min(50, max(5, calls // 20)),
                note=f"{len(statements)} statement(s), {under_rls:,} rows on both sides. "
                + _plan_note(pinned, misses),
            )
            print(f"  {title}: {_summary(comparison)}", flush=True)
            results.append(comparison)
            extra = comparison.subject.p50_ms - comparison.baseline.p50_ms
            met = comparison.ratio <= TARGET_RATIO or extra <= TARGET_EXTRA_MS
            worst = max(worst, comparison.ratio)
            rows.append(
                (
                    title,
                    f"{comparison.subject.p50_ms:.3f} vs {comparison.baseline.p50_ms:.3f} ms, "
                    f"ratio {comparison.ratio:.2f}, {extra:+.3f} ms, "
                    f"{'met' if met else 'MISSED'}; tenant_id in the index conditions: "
                    + (
                        "NO"
                        if misses
                        else f"yes, but {len(pinned)} by customer"
                        if pinned
                        else "yes"
                    ),
                )
            )
    finally:
        rls.conn.close()
        bypass.conn.close()
        _drop_bypass_role()
    results.append(
        Figures(
            "Row security's cost, the five hot queries (p50 under RLS vs bypassing it)",
            rows,
            ratio=worst,
            ratio_means="the highest of the five p50 ratios; target ≤ "
            f"{TARGET_RATIO} or ≤ +{TARGET_EXTRA_MS:.0f} ms each",
            note=f"{size} ({loaded}); {consent_loaded}. Each hot query's statements replayed "
            "as recorded from the product's code, on two connections that differ only in the "
            f"role; calls sized to about {SECONDS_PER_SIDE:.0f} s per side.",
        )
    )
    assert not misses_all, misses_all
    return results
