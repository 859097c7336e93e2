"""Customer search at scale (issue 3): 1,000,000 customers in one tenant beside 9 tenants
of 100,000, 200 realistic queries. The search selector against the very SQL it produces,
run directly on the same connection.

Scale with BENCH_SEARCH_SCALE (default 1.0; 0.1 gives 100,000 + 9 x 10,000 for a quick look).
With ``--keep-db NAME`` (benchmarks/run.py) the loaded customers are kept and reused by the
next run at the same scale.
"""

from __future__ import annotations

import itertools
import os
import random
import time

from django.core.paginator import Paginator
from django.db import connection, connections, transaction
from django.db.models import Prefetch
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext

from benchmarks import Comparison, Context, Side, benchmark, compare, loading
from customers.models import Address, Customer, CustomerStatus
from customers.search import customer_search_text, fold, query_terms, sort_key
from customers.selectors import SEARCH_LIMIT, customer_list
from tenancy.context import tenant_context
from tenancy.models import Tenant
from tenancy.services import tenant_create

FIRST = [
    "Anna",
    "Erik",
    "Maria",
    "Lars",
    "Karin",
    "Johan",
    "Åsa",
    "Björn",
    "Ingrid",
    "Sören",
    "Mette",
    "Jørgen",
    "Sigrid",
    "Øystein",
    "Märta",
    "Göran",
    "Ulla",
    "Henrik",
    "Linnéa",
    "Pål",
    "Kristoffer",
    "Helle",
    "Bo",
    "Agnetha",
    "Rasmus",
    "Freja",
    "Tuomas",
    "Aino",
]
LAST = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Lindqvist",
    "Sørensen",
    "Østergård",
    "Bjørnstad",
    "Hansen",
    "Ødegaard",
    "Åberg",
    "Lindström",
    "Holm",
    "Berg",
    "Sjöberg",
    "Nyström",
    "Dahl",
    "Ekström",
    "Mikkelsen",
    "Virtanen",
    "Korhonen",
    "Møller",
    "Kristiansen",
    "Haugen",
    "Jørgensen",
    "Pedersen",
    "Lehtonen",
    "Strøm",
    "Ågren",
]
WORDS = [
    "Bygg",
    "Lantbruk",
    "Maskin",
    "Trä",
    "El",
    "VVS",
    "Transport",
    "Handel",
    "Fastighet",
    "Måleri",
    "Smide",
    "Skog",
    "Jord",
    "Verkstad",
    "Plåt",
    "Fisk",
    "Båt",
    "Bil",
    "Data",
    "Konsult",
    "Städ",
    "Tak",
    "Golv",
    "Glas",
    "Gård",
    "Mejeri",
    "Bageri",
    "Frisør",
]
FORMS = ["AB", "HB", "ApS", "A/S", "AS", "Oy", "& Søn", "Ekonomisk förening"]
ACCENT_VARIANTS = {
    "Østergård": ["ostergard", "oestergaard"],
    "Sørensen": ["sorensen", "soerensen"],
    "Ødegaard": ["odegard", "oedegaard"],
    "Åberg": ["aberg", "aaberg"],
    "Møller": ["moller", "moeller"],
    "Strøm": ["strom", "stroem"],
}

SCALE = float(os.environ.get("BENCH_SEARCH_SCALE", "1.0"))


def _rows(rng: random.Random, count: int, tenant_id: int, start: int):
    """Field values of customers, built fast: folded names cached, phone forms computed by
    the rules of customers.search (checked against customer_search_text for the first rows)."""
    folded: dict[str, tuple[str, str]] = {}
    for i in range(count):
        last = rng.choice(LAST)
        if rng.random() < 0.3:
            name, kind = f"{rng.choice(FIRST)} {last}", "person"
        else:
            name, kind = f"{last} {rng.choice(WORDS)} {rng.choice(FORMS)}", "company"
        number = str(start + i)
        national = f"7{rng.choice('02369')}{rng.randint(1000000, 9999999)}"
        row = {
            "tenant_id": tenant_id,
            "number": number,
            "kind": kind,
            "name": name,
            "email": f"kund{number}@example.se",
            "phone": f"0{national[:2]}-{national[2:5]} {national[5:7]} {national[7:]}",
            "org_number": f"55{rng.randint(10000000, 99999999)}" if kind == "company" else "",
        }
        if name not in folded:
            folded[name] = (fold(name), sort_key(name, "sv"))
        phones = sorted({f"0{national}", national, f"46{national}"})
        org = row["org_number"]
        row["sort_name"] = folded[name][1]
        parts = (folded[name][0], number, row["email"], org, org, *phones)
        row["search_text"] = " ".join(p for p in parts if p)
        if i < 200:
            plain = {k: v for k, v in row.items() if k != "sort_name"}
            expected = customer_search_text(Customer(country="SE", **plain))
            assert row["search_text"] == expected, (row["search_text"], expected)
        yield row


def _copy(tenant_id: int, count: int, rng: random.Random) -> None:
    """COPY customers in as the owner (row security is lifted by _load)."""
    fields = [f for f in Customer._meta.concrete_fields if f.name != "id"]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    template = []
    for f in fields:
        value = None if f.null else f.get_default()
        if f.name in ("created_at", "updated_at"):
            value = "2026-01-01 00:00:00+00"
        if f.name == "country":
            value = "SE"
        template.append(value)
    slots = {f.attname: i for i, f in enumerate(fields)}
    owner = connections["owner"]
    with (
        owner.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY customers_customer ({columns}) FROM STDIN") as copy,
    ):
        for values in _rows(rng, count, tenant_id, start=10000):
            row = list(template)
            for attname, value in values.items():
                row[slots[attname]] = value
            copy.write_row(row)


def _load(tenants: list[tuple[int, int]]) -> None:
    """Bulk-load like a restore: triggers and secondary indexes off, rebuilt afterwards."""
    owner = connections["owner"]
    rng = random.Random(2026)
    with owner.cursor() as cursor:
        indexes = loading.secondary_indexes(
            cursor, "customers_customer"
        ) + loading.secondary_indexes(cursor, "customers_search_private")
        cursor.execute("ALTER TABLE customers_customer NO FORCE ROW LEVEL SECURITY")
        cursor.execute("ALTER TABLE customers_customer DISABLE TRIGGER customers_search_sync")
        loading.drop_indexes(cursor, indexes)
    try:
        for tenant_id, count in tenants:
            with transaction.atomic(using="owner"):  # deferred FK checks end with each one
                _copy(tenant_id, count, rng)
        loading.fill_search_mirror()
    finally:
        with owner.cursor() as cursor:
            loading.rebuild_indexes(cursor, indexes)
            cursor.execute("ALTER TABLE customers_customer ENABLE TRIGGER customers_search_sync")
            cursor.execute("ALTER TABLE customers_customer FORCE ROW LEVEL SECURITY")
            cursor.execute("ANALYZE customers_customer")
            cursor.execute("ANALYZE customers_search_private")


def _queries(rng: random.Random, phones: list[str]) -> list[str]:
    queries = []
    for _ in range(50):  # prefixes of names
        queries.append(rng.choice(LAST)[: rng.randint(3, 6)])
    for _ in range(50):  # infixes: part of a word, and two-word combinations
        word = rng.choice(WORDS + LAST)
        queries.append(word[1:5] if len(word) > 5 else f"{rng.choice(LAST)} {word}")
    for _ in range(50):  # accent variants
        name = rng.choice(list(ACCENT_VARIANTS))
        queries.append(rng.choice([*ACCENT_VARIANTS[name], name, name.upper()]))
    for _ in range(50):  # phone numbers in some format
        phone = rng.choice(phones)
        digits = "".join(ch for ch in phone if ch.isdigit())
        queries.append(rng.choice([phone, digits, f"+46 {digits[1:3]} {digits[3:]}", digits[-7:]]))
    rng.shuffle(queries)
    return queries


@benchmark
def customer_search(ctx: Context) -> list[Comparison]:
    big = int(1_000_000 * SCALE)
    small = int(100_000 * SCALE)
    others = [
        Tenant.objects.filter(slug=f"granne-{n}").first()
        or tenant_create(name=f"Granne {n} AB", country="SE", slug=f"granne-{n}")
        for n in range(9)
    ]
    wanted = {ctx.tenant.pk: big} | {t.pk: small for t in others}
    started = time.perf_counter()
    if loading.loaded_customers() == wanted:
        loaded = "loaded by an earlier run"
    else:
        if loading.loaded_customers():
            raise RuntimeError("the kept database holds customers at another scale: drop it")
        _load(list(wanted.items()))
        loaded = f"bulk-loaded in {time.perf_counter() - started:.0f} s"

    rng = random.Random(7)
    with tenant_context(ctx.tenant):
        numbers = [str(10000 + rng.randrange(big)) for _ in range(200)]
        phones = list(
            Customer.objects.filter(number__in=numbers)
            .order_by("number")
            .values_list("phone", flat=True)
        )
    queries = _queries(rng, phones)
    return [_first_page(ctx, queries, big, loaded), _list_page(ctx, queries)]


def _first_page(ctx: Context, queries: list[str], big: int, loaded: str) -> Comparison:
    # The statements the selector sends for each query (the search, the page, its prefetch),
    # recorded once and replayed as they are on the baseline side.
    recorded: dict[str, list[str]] = {}
    with tenant_context(ctx.tenant):
        for query in queries:
            with CaptureQueriesContext(connection) as captured:
                list(customer_list(search=query)[:50])
            recorded[query] = [q["sql"] for q in captured.captured_queries]

    subject_queries = itertools.cycle(queries)
    baseline_queries = itertools.cycle(queries)

    def selector() -> int:
        return len(list(customer_list(search=next(subject_queries))[:50]))

    def raw() -> int:
        with connection.cursor() as cursor:
            for sql in recorded[next(baseline_queries)]:
                cursor.execute(sql)
                rows = cursor.fetchall()
            return len(rows)

    total = big + 9 * int(100_000 * SCALE)
    return compare(
        "customer search, first page of 50",
        subject=Side("customer_list(search=q)[:50]", selector, lambda: tenant_context(ctx.tenant)),
        baseline=Side(
            "its SQL run directly on the same connection", raw, lambda: tenant_context(ctx.tenant)
        ),
        iterations=2 * len(queries),  # every query twice per side
        warmup=20,
        note=f"{big:,} customers in the searched tenant, {total:,} in all "
        f"({loaded}); 200 queries: name prefixes, infixes and "
        "two-word searches, Nordic spelling variants, phone numbers in several formats. "
        "Target p95 < 50 ms. The selector runs the search once and then filters on the ids "
        "found; the baseline replays its recorded statements (search, page, prefetch).",
    )


def _list_page(ctx: Context, queries: list[str]) -> Comparison:
    """What the list view does: count the matches (the paginator), then fetch the page."""
    subject_queries = itertools.cycle(queries)
    baseline_queries = itertools.cycle(queries)

    def page(customers) -> int:
        return len(list(Paginator(customers, 50).get_page(1)))

    def selector() -> int:
        return page(customer_list(search=next(subject_queries)))

    def as_subquery() -> int:
        # The selector before the 2026-11-23 revision: the search as a subquery of the
        # customer query, so the count and the page each run it.
        terms = query_terms(next(baseline_queries), "SE")
        ids = RawSQL(
            "SELECT kundreg_customer_search(%s::text[], %s, %s)",
            (terms, CustomerStatus.ACTIVE, SEARCH_LIMIT),
        )
        customers = Customer.objects.filter(status=CustomerStatus.ACTIVE, pk__in=ids)
        return page(
            customers.order_by("sort_name", "pk").prefetch_related(
                Prefetch("addresses", queryset=Address.objects.filter(is_head_office=True))
            )
        )

    return compare(
        "customer list page with a search: count + first page of 50",
        subject=Side(
            "Paginator(customer_list(search=q), 50).get_page(1)",
            selector,
            lambda: tenant_context(ctx.tenant),
        ),
        baseline=Side(
            "the same with the search as a subquery (run by the count and by the page)",
            as_subquery,
            lambda: tenant_context(ctx.tenant),
        ),
        iterations=2 * len(queries),
        warmup=20,
        note="The same 200 queries through Django's Paginator, as customers/views/lists.py "
        "runs them: a count, then the page.",
    )
