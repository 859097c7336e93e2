"""Eligibility at scale (issue 9): 1,000,000 customers and about 3,000,000 sales documents in
one tenant beside two tenants of 100,000 customers and about 300,000 documents.

1. The Anonymization page: everything its view queries (both eligible lists' count and first
   page of 25, the blocked list's count and first page, the waiting count, the 12-month
   forecast), against the very statements it sends, recorded once and run directly on the
   same connection. Target p95 < 200 ms.
2. Posting 10,000 documents through ``sales.services.sales_document_post`` (what the API view
   calls), each in its own tenant transaction as in a request, against an ORM create of the
   same row.

Scale with BENCH_ELIGIBILITY_SCALE (default 1.0; 0.1 gives 100,000 + 2 x 10,000 customers for a
quick look). With ``--keep-db NAME`` (benchmarks/run.py) the loaded data are kept and reused by
the next run at the same scale.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
import zoneinfo
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, connections, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from anonymization import eligibility
from anonymization.models import LegalHold
from anonymization.views_page import FORECAST_MONTHS, _explained, _section
from audit.actors import Actor
from benchmarks import Comparison, Context, Figures, Side, Timing, benchmark, compare, loading
from customers.models import Customer
from customers.search import fold
from sales.models import DocumentKind, SalesDocument
from sales.services import sales_document_post
from tenancy.context import tenant_context
from tenancy.models import Tenant
from tenancy.services import tenant_create

SCALE = float(os.environ.get("BENCH_ELIGIBILITY_SCALE", "1.0"))
NUMBER_START = 100_000
YEARS = 12  # last activity spread over this many years back
POSTS = 10_000

NAMES = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Lindqvist",
    "Sørensen",
    "Østergård",
    "Hansen",
    "Åberg",
    "Lindström",
    "Holm",
    "Berg",
    "Sjöberg",
    "Virtanen",
    "Møller",
    "Haugen",
    "Pedersen",
]
WORDS = ["Bygg", "Maskin", "Trä", "El", "VVS", "Transport", "Handel", "Måleri", "Plåt", "Data"]
# Kinds of a customer's earlier documents (its latest is an invoice, an order or a case).
HISTORY = [
    (DocumentKind.QUOTE, 15),
    (DocumentKind.ORDER, 20),
    (DocumentKind.DELIVERY, 15),
    (DocumentKind.INVOICE, 30),
    (DocumentKind.PAYMENT, 12),
    (DocumentKind.CREDIT_NOTE, 4),
    (DocumentKind.CASE, 4),
]
HISTORY_KINDS = [k for k, _w in HISTORY]
HISTORY_WEIGHTS = [w for _k, w in HISTORY]


# --- Loading ---------------------------------------------------------------------------


def _money(rng: random.Random, low: int = 100, high: int = 50_000) -> Decimal:
    return Decimal(rng.randrange(low * 100, high * 100)) / 100


class _Plan:
    """Customers, documents and holds of one tenant, generated in memory."""

    def __init__(self, rng: random.Random, count: int, tz: dt.tzinfo, first_id: int):
        self.customers: list[tuple] = []
        self.documents: list[tuple] = []
        self.holds: list[tuple] = []
        today = dt.datetime.now(tz).date()
        doc_number = 1
        for i in range(count):
            cid = first_id + i
            number = str(NUMBER_START + i)
            name = f"{rng.choice(NAMES)} {rng.choice(WORDS)} AB"
            r = rng.random()
            kind = "none" if r < 0.05 else "prospect" if r < 0.15 else "customer"
            last_day = today - dt.timedelta(days=rng.randrange(YEARS * 365))
            last = dt.datetime.combine(last_day, dt.time(rng.randrange(7, 18)), tzinfo=tz)
            created = last - dt.timedelta(days=rng.randrange(0, 3 * 365))
            if kind == "none" and rng.random() < 0.5:
                last = None  # never any activity: the period counts from its creation
            status = "active"
            s = rng.random()
            if s < 0.005:
                status = "anonymized"
            elif s < 0.10:
                status = "inactive"
            override = rng.choice((3, 5, 10, 12)) if rng.random() < 0.005 else None
            self.customers.append(
                (cid, number, name, name.lower(), status, last, created, override)
            )
            docs: list[tuple] = []  # (kind, date, status, amount, balance)
            recent = (today - last_day).days < 365
            if kind == "prospect":
                for n in range(rng.randint(1, 2)):
                    day = last_day - dt.timedelta(days=30 * n)
                    docs.append(
                        (
                            DocumentKind.QUOTE,
                            day,
                            "open" if rng.random() < 0.5 else "closed",
                            _money(rng),
                            Decimal("0.00"),
                        )
                    )
            elif kind == "customer":
                k = rng.randint(1, 5) + (1 if rng.random() < 0.35 else 0)
                for n in range(1, k):  # the history, closed and settled
                    day = last_day - dt.timedelta(days=rng.randrange(30, 900) * n // 2 + n)
                    dkind = rng.choices(HISTORY_KINDS, HISTORY_WEIGHTS)[0]
                    amount = _money(rng)
                    if dkind in (DocumentKind.CREDIT_NOTE, DocumentKind.PAYMENT):
                        amount = -amount
                    docs.append((dkind, day, "closed", amount, Decimal("0.00")))
                latest = rng.choices(
                    (DocumentKind.INVOICE, DocumentKind.ORDER, DocumentKind.CASE), (80, 15, 5)
                )[0]
                amount = _money(rng)
                is_open = rng.random() < (0.30 if recent else 0.02)
                docs.append(
                    (latest, last_day, "open" if is_open else "closed", amount, amount)
                    if is_open and latest == DocumentKind.INVOICE
                    else (latest, last_day, "open" if is_open else "closed", amount, Decimal(0))
                )
                c = rng.random()
                if c < 0.01:  # an open credit note alone: money owed to the customer
                    credit = -_money(rng, 50, 500)
                    docs.append((DocumentKind.CREDIT_NOTE, last_day, "open", credit, credit))
                elif c < 0.015:  # an open invoice and a credit note that cancel out
                    amount = _money(rng)
                    docs.append((DocumentKind.INVOICE, last_day, "open", amount, amount))
                    docs.append((DocumentKind.CREDIT_NOTE, last_day, "open", -amount, -amount))
                elif c < 0.018:  # an unallocated payment
                    paid = -_money(rng, 50, 500)
                    docs.append((DocumentKind.PAYMENT, last_day, "open", paid, paid))
            for dkind, day, dstatus, amount, balance in docs:
                self.documents.append(
                    (cid, dkind, str(doc_number), day, dstatus, amount, balance, name)
                )
                doc_number += 1
            h = rng.random()
            if h < 0.003 and status != "anonymized":
                set_at = dt.datetime.combine(today, dt.time(9), tzinfo=tz) - dt.timedelta(
                    days=rng.randrange(1, 1000)
                )
                lifted = set_at + dt.timedelta(days=30) if h < 0.001 else None
                self.holds.append((cid, set_at, lifted))


def _copy_rows(table: str, columns: list[str], rows) -> None:
    owner = connections["owner"]
    names = ", ".join(f'"{c}"' for c in columns)
    with (
        owner.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _load_tenant(tenant: Tenant, count: int, rng: random.Random) -> None:
    owner = connections["owner"]
    tz = zoneinfo.ZoneInfo(tenant.time_zone)
    table = Customer._meta.db_table
    with owner.cursor() as cursor:
        # Ids chosen up front, so the documents can name their customers.
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])  # at least 1
        (first_id,) = cursor.fetchone()
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, first_id + count]
        )
    plan = _Plan(rng, count, tz, first_id)
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    fields = [f for f in Customer._meta.concrete_fields]
    template = {}
    for f in fields:
        template[f.column] = None if f.null else f.get_default()
    template |= {"tenant_id": tenant.pk, "country": tenant.country, "updated_at": stamp}
    columns = list(template)

    folded: dict[str, str] = {}  # names repeat: fold each once

    def customers():
        for cid, number, name, sort_name, status, last, created, override in plan.customers:
            if name not in folded:
                folded[name] = fold(name)
            row = template | {
                "id": cid,
                "number": number,
                "name": name,
                "sort_name": sort_name,
                # Folded as customers.search folds it, so a search by name finds them.
                "search_text": f"{folded[name]} {number}",
                "email": f"kund{number}@example.se",
                "status": status,
                "last_activity_at": last,
                "created_at": created,
                "retention_years": override,
            }
            yield [row[c] for c in columns]

    currency = {"SE": "SEK", "NO": "NOK", "DK": "DKK"}.get(tenant.country, "EUR")

    def documents():
        for cid, kind, number, day, status, amount, balance, name in plan.documents:
            yield (
                tenant.pk,
                cid,
                kind,
                number,
                day,
                status,
                amount,
                balance,
                currency,
                name,
                "",
                "",
                "",
                "",
                tenant.country,
                stamp,
                stamp,
            )

    def holds():
        for cid, set_at, lifted in plan.holds:
            yield (tenant.pk, cid, "Tvist om faktura", set_at, lifted)

    with transaction.atomic(using="owner"):  # deferred FK checks end with it
        _copy_rows(table, columns, customers())
        _copy_rows(
            SalesDocument._meta.db_table,
            [
                "tenant_id",
                "customer_id",
                "kind",
                "number",
                "date",
                "status",
                "amount",
                "balance",
                "currency",
                "customer_name",
                "line1",
                "line2",
                "postcode",
                "city",
                "country",
                "created_at",
                "updated_at",
            ],
            documents(),
        )
        _copy_rows(
            LegalHold._meta.db_table,
            ["tenant_id", "customer_id", "reason", "set_at", "lifted_at"],
            holds(),
        )


TABLES = (
    Customer._meta.db_table,
    SalesDocument._meta.db_table,
    LegalHold._meta.db_table,
)


def _user_triggers(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
        [table],
    )
    return [name for (name,) in cursor.fetchall()]


def _load(tenants: list[tuple[Tenant, int]]) -> None:
    """Bulk-load like a restore: triggers and secondary indexes off, rebuilt afterwards, and
    whatever the triggers maintain rebuilt set-based."""
    owner = connections["owner"]
    rng = random.Random(2026)
    with owner.cursor() as cursor:
        indexes = [i for t in TABLES for i in loading.secondary_indexes(cursor, t)]
        triggers = [(t, name) for t in TABLES for name in _user_triggers(cursor, t)]
        for table in TABLES:
            cursor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        for table, name in triggers:
            cursor.execute(f'ALTER TABLE {table} DISABLE TRIGGER "{name}"')
        loading.drop_indexes(cursor, indexes)
    try:
        for tenant, count in tenants:
            started = time.perf_counter()
            _load_tenant(tenant, count, rng)
            print(f"  loaded {tenant.slug}: {time.perf_counter() - started:.0f} s", flush=True)
        loading.fill_search_mirror()
    finally:
        with owner.cursor() as cursor:
            loading.rebuild_indexes(cursor, indexes)
            for table, name in triggers:
                cursor.execute(f'ALTER TABLE {table} ENABLE TRIGGER "{name}"')
            for table in TABLES:
                cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        # What the triggers maintain (anonymization migration 0002), rebuilt set-based.
        with transaction.atomic(using="owner"), owner.cursor() as cursor:
            for tenant, _count in tenants:
                cursor.execute("SELECT anonymization_eligibility_rebuild(%s)", [tenant.pk])
        owner.close()
        # VACUUM: the visibility map, so that counts can be answered from the indexes.
        with owner.cursor() as cursor:
            for table in (*TABLES, "customers_search_private"):
                cursor.execute(f"VACUUM ANALYZE {table}")


def _owner_counts(sql: str, tenant_ids) -> dict[int, int]:
    """``sql`` (one count) per tenant, as the owner: row security is forced on it too."""
    owner = connections["owner"]
    counts = {}
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        for tenant_id in tenant_ids:
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            cursor.execute(sql)
            counts[tenant_id] = cursor.fetchone()[0]
    return counts


def _counts() -> tuple[int, int, int]:
    ids = list(loading.loaded_customers())
    return (
        sum(loading.loaded_customers().values()),
        sum(_owner_counts("SELECT count(*) FROM sales_salesdocument", ids).values()),
        sum(
            _owner_counts(
                "SELECT count(*) FROM anonymization_legalhold WHERE lifted_at IS NULL", ids
            ).values()
        ),
    )


def _tenants(ctx: Context) -> list[tuple[Tenant, int]]:
    third = Tenant.objects.filter(slug="bench-elig-c").first() or tenant_create(
        name="Benchmark C ApS", country="DK", slug="bench-elig-c"
    )
    big, small = int(1_000_000 * SCALE), int(100_000 * SCALE)
    return [(ctx.tenant, big), (ctx.other_tenant, small), (third, small)]


def _ensure_loaded(ctx: Context) -> str:
    tenants = _tenants(ctx)
    wanted = {t.pk: n for t, n in tenants}
    loaded = loading.loaded_customers()
    if loaded == wanted:
        return "loaded by an earlier run"
    if loaded:
        raise RuntimeError("the kept database holds customers at another scale: drop it")
    started = time.perf_counter()
    _load(tenants)
    return f"bulk-loaded in {time.perf_counter() - started:.0f} s"


# --- 1. The page ------------------------------------------------------------------------


def _page(request) -> int:
    """What anonymization.views_page.anonymization_page queries (no filter), without the
    template: both eligible sections, the blocked one, the forecast and the waiting count."""
    today = eligibility.tenant_today()
    order = ("eligible_on", "sort_name", "pk")
    sections = {
        "prospects": _section(
            request,
            eligibility.eligible_customers(today=today, prospects=True).order_by(*order),
            "prospects_page",
        ),
        "customers": _section(
            request,
            eligibility.eligible_customers(today=today, prospects=False).order_by(*order),
            "customers_page",
        ),
        "blocked": _section(
            request,
            eligibility.blocked_customers(today=today, prospects=None).order_by("sort_name", "pk"),
            "blocked_page",
        ),
    }
    for section in sections.values():
        _explained(section["page"].object_list, today)
    forecast = eligibility.eligibility_forecast(today=today, months=FORECAST_MONTHS)
    waiting = eligibility.waiting_count(today=today)
    return sum(s["count"] for s in sections.values()) + waiting + len(forecast)


def _page_figures(ctx: Context, loaded: str) -> list[Comparison | Figures]:
    request = RequestFactory().get("/anonymization/")
    with tenant_context(ctx.tenant):
        with CaptureQueriesContext(connection) as captured:
            _page(request)
        # What the page showed, for the note.
        today = eligibility.tenant_today()
        shown = {
            "eligible prospects": eligibility.eligible_customers(
                today=today, prospects=True
            ).count(),
            "eligible customers": eligibility.eligible_customers(
                today=today, prospects=False
            ).count(),
            "blocked": eligibility.blocked_customers(today=today).count(),
            "waiting": eligibility.waiting_count(today=today),
        }
    # tenant_context's own set_config is not the page's: it runs once per transaction.
    recorded = [q["sql"] for q in captured.captured_queries if "set_config" not in q["sql"]]

    def raw() -> int:
        n = 0
        with connection.cursor() as cursor:
            for sql in recorded:
                cursor.execute(sql)
                n += len(cursor.fetchall())
        return n

    iterations = max(20, min(ctx.iterations, 200))
    page = compare(
        "Anonymization page: every query of the view (counts, first pages, forecast)",
        subject=Side(
            "the page's selector calls", lambda: _page(request), lambda: tenant_context(ctx.tenant)
        ),
        baseline=Side(
            "its SQL run directly on the same connection", raw, lambda: tenant_context(ctx.tenant)
        ),
        iterations=iterations,
        batch=20,
        warmup=5,
        note=f"{_fmt_counts()} ({loaded}). The page found "
        + ", ".join(f"{v:,} {k}" for k, v in shown.items())
        + f". {len(recorded)} statements per page. Target p95 < 200 ms. The subquery "
        "selector these stored columns replaced took 186 s for one page at this scale "
        "(measured once, 2026-11-30).",
    )

    # Each statement alone: which one is the slowest.
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
    slowest_n = per_query.index(slowest) + 1
    rows = [
        (f"{n}. {what}", f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        for n, (p50, p95, what) in enumerate(per_query, start=1)
    ]
    figures = Figures(
        "Anonymization page, each statement alone (run directly)",
        rows,
        ratio=slowest[0] / page.baseline.p50_ms,
        ratio_means=f"the slowest statement's p50 (no. {slowest_n}) over the whole page's",
    )
    return [page, figures]


def _what(sql: str) -> str:
    if "anonymization_retentionpolicy" in sql:
        return "the retention policy"
    if sql.startswith("SELECT COUNT(*)"):
        return "a count"
    if "GROUP BY" in sql:
        return "the forecast (grouped by date)"
    return "a page of 25"


def _fmt_counts() -> str:
    customers, documents, holds = _counts()
    return (
        f"{customers:,} customers, {documents:,} sales documents, {holds:,} active legal holds "
        "in three tenants"
    )


# --- 2. Posting ------------------------------------------------------------------------


# The triggers of anonymization migration 0002 that a post fires.
POST_TRIGGERS = [
    (SalesDocument._meta.db_table, "anonymization_documents_inserted"),
    (SalesDocument._meta.db_table, "anonymization_documents_updated"),
    (SalesDocument._meta.db_table, "anonymization_documents_deleted"),
    (Customer._meta.db_table, "anonymization_eligible_on_update"),
]


def _set_triggers(enabled: bool) -> None:
    with connections["owner"].cursor() as cursor:
        for table, name in POST_TRIGGERS:
            action = "ENABLE" if enabled else "DISABLE"
            cursor.execute(f'ALTER TABLE {table} {action} TRIGGER "{name}"')


@contextmanager
def _triggers_off():
    _set_triggers(False)
    try:
        yield
    finally:
        _set_triggers(True)


def _posting(ctx: Context) -> list[Comparison]:
    tenant = ctx.tenant
    rng = random.Random(11)
    stamp = int(time.time())
    with tenant_context(tenant):
        sample = list(
            Customer.objects.filter(
                number__in=[
                    str(NUMBER_START + rng.randrange(int(1_000_000 * SCALE))) for _ in range(3000)
                ]
            )
            .exclude(status="anonymized")
            .values_list("pk", "last_activity_at")
        )
        customers = list(Customer.objects.filter(pk__in=[pk for pk, _ in sample]))
    today = dt.date.today() - dt.timedelta(days=1)
    kinds = [DocumentKind.INVOICE, DocumentKind.ORDER, DocumentKind.QUOTE, DocumentKind.PAYMENT]
    counter = iter(range(10**9))

    def arguments(prefix: str = "P") -> dict:
        kind = rng.choice(kinds)
        amount = _money(rng)
        if kind == DocumentKind.PAYMENT:
            amount = -amount
        return {
            "customer": rng.choice(customers),
            "kind": kind,
            "number": f"{prefix}{stamp}-{next(counter)}",
            "date": today - dt.timedelta(days=rng.randrange(30)),
            "status": rng.choice(("open", "closed")),
            "amount": amount,
            "balance": amount if rng.random() < 0.5 else Decimal("0.00"),
            "currency": "SEK",
        }

    actor = Actor.system("benchmark")

    def post(prefix: str = "P") -> None:
        with tenant_context(tenant):
            sales_document_post(actor=actor, **arguments(prefix))

    def create() -> None:
        a = arguments()
        customer = a["customer"]
        with tenant_context(tenant):
            SalesDocument.objects.create(
                customer_name=customer.name,
                line1="",
                line2="",
                postcode="",
                city="",
                country=customer.country,
                **a,
            )

    def cleanup(prefix: str) -> None:
        owner = connections["owner"]
        with transaction.atomic(using="owner"), owner.cursor() as cursor:
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
            cursor.execute(
                "DELETE FROM sales_salesdocument WHERE tenant_id = %s AND number LIKE %s",
                [tenant.pk, f"{prefix}{stamp}-%"],
            )

    results = []
    try:
        results.append(
            compare(
                f"posting {POSTS:,} sales documents, one transaction each (a request)",
                subject=Side("tenant_context + sales_document_post(...)", post),
                baseline=Side("tenant_context + SalesDocument.objects.create(same row)", create),
                iterations=POSTS,
                note=f"New documents (invoices, orders, quotes, payments; half open) for "
                f"{len(customers):,} random customers of the 1M tenant, dated in the last "
                "month. The service validates, locks the number, reads the head office for "
                "the snapshot, inserts, moves the last activity forward and writes an audit "
                "entry; the baseline is the insert alone. Both pay the eligibility triggers "
                "(the document's counts onto its customer, its eligible date when the "
                "activity moves): the next comparison shows what they cost.",
            )
        )
        try:
            results.append(
                compare(
                    "the same posts with and without the eligibility triggers",
                    subject=Side("sales_document_post, triggers on", post),
                    baseline=Side(
                        "sales_document_post, triggers off", lambda: post("Q"), _triggers_off
                    ),
                    iterations=POSTS // 5,
                    note="The triggers of anonymization migration 0002 that a post fires "
                    "(documents: per statement, summed per customer; customer: its eligible "
                    "date when its last activity moves), turned off as the owner around the "
                    "baseline's batches.",
                )
            )
        finally:
            with _triggers_off():  # what was posted without them goes without them
                cleanup("Q")
    finally:
        # Leave the kept database as it was: the posted documents and the moved activity
        # (the triggers on again: the counts come off, the eligible dates are recomputed).
        _set_triggers(True)
        cleanup("P")
        owner = connections["owner"]
        with transaction.atomic(using="owner"), owner.cursor() as cursor:
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
            cursor.executemany(
                "UPDATE customers_customer SET last_activity_at = %s WHERE id = %s",
                [(last, pk) for pk, last in sample],
            )
    return results


@benchmark
def eligibility_page(ctx: Context) -> list[Comparison | Figures]:
    loaded = _ensure_loaded(ctx)
    print(f"  {_fmt_counts()} ({loaded})", flush=True)
    with connections["owner"].cursor() as cursor:
        # A migration since the load (0002's backfill rewrites every customer) leaves the
        # visibility map cleared, which autovacuum would set again in production.
        cursor.execute(f"VACUUM ANALYZE {Customer._meta.db_table}")
    if os.environ.get("BENCH_ELIGIBILITY_ONCE"):  # one page, timed, e.g. before a change
        with tenant_context(ctx.tenant):
            started = time.perf_counter()
            _page(RequestFactory().get("/anonymization/"))
            took = time.perf_counter() - started
        return [Figures("one page", [("page", f"{took * 1000:.0f} ms")], 1.0, "once")]
    results = _page_figures(ctx, loaded)
    results += _posting(ctx)
    return results
