"""Exports at scale (issue 11): N customers to CSV, XLSX and PDF labels through the export
job path, each written by a real Celery worker process; its time and the worker's peak RSS.

Real parts throughout: the Reports page's plan (``reports.export_sources.plan``, as the
view builds it) and ``reports.jobs.export_job_create``; a fresh prefork worker process
per file (``benchmarks.anonymization_worker``, which serves any task of the app), so each
file's peak RSS is its own. Measured per size and format: from the job's creation until it
is DONE (the file saved under the tenant's storage prefix), the worker child's peak RSS,
and the file's size. Baseline: the same customers read with a bare ``.iterator()`` loop in
this process (the floor of any export: every row fetched, nothing written).

The data: per customer a head office (postal) and an invoice address and one contact
person, COPY'd in as the owner (``bench_anonymization``'s helpers). CSV and XLSX are the
address list (every address field, one row per address); the label sheet is the "Labels"
report (one label per contact person) on the tenant's 3 x 8 sheet.

BENCH_EXPORT_SIZES (default ``10000,100000``; the smallest and the largest are the memory
comparison) and BENCH_EXPORT_FORMATS (default ``csv,xlsx,labels``; e.g. ``labels`` for the
label sheet alone) change what is measured.

The label sheet is written on ``reports.pdf_stream.StreamingCanvas`` (each finished sheet
goes to the file at once): its peak memory should not grow with the sheet count.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
import uuid
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.http import QueryDict
from django.test import override_settings

from benchmarks import Context, Figures, benchmark
from benchmarks.bench_anonymization import (
    CITIES,
    FIRST,
    LAST,
    STREETS,
    _bulk_mode,
    _copy,
    _reserve,
    _vacuum,
    _worker,
)
from benchmarks.bench_consent_fanout import _wait
from customers.models import Address, Contact, Customer, CustomerContact
from reports import export_sources, jobs
from reports.models import ExportJob, ExportStatus
from tenancy.context import tenant_context
from tenancy.models import Membership, Tenant
from tenancy.roles import Role
from tenancy.services import tenant_create

SIZES = [int(n) for n in os.environ.get("BENCH_EXPORT_SIZES", "10000,100000").split(",")]
FORMATS = os.environ.get("BENCH_EXPORT_FORMATS", "csv,xlsx,labels").split(",")
FILES = [  # (label, report, format)
    f
    for f in (
        ("CSV (address list)", "addresses", "csv"),
        ("XLSX (address list)", "addresses", "xlsx"),
        ("PDF labels (3 x 8)", "labels", "labels"),
    )
    if f[2] in FORMATS
]


def _load(tenant: Tenant, count: int) -> None:
    """``count`` active customers, each with two addresses and one contact person."""
    from django.db import transaction

    tid = tenant.pk
    stamp = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    first_customer = _reserve(Customer, count)
    first_contact = _reserve(Contact, count)

    def customers():
        for n in range(count):
            name = f"{FIRST[n % len(FIRST)]} {LAST[n // 3 % len(LAST)]}-{n}"
            number = str(700000 + n)
            yield {
                "id": first_customer + n,
                "number": number,
                "kind": "person",
                "name": name,
                "sort_name": name.lower(),
                "search_text": f"{name.lower()} {number}",
                "email": f"kund{number}@example.se",
                "phone": f"08-{n % 1000:03d} {n // 1000 % 100:02d} {n % 97:02d}",
                "status": "active",
                "last_activity_at": stamp,
                "created_at": stamp,
            }

    def addresses():
        for n in range(count):
            for k, kind in enumerate(("postal", "invoice")):
                postcode, city = CITIES[(n + k) % len(CITIES)]
                yield {
                    "customer_id": first_customer + n,
                    "kind": kind,
                    "is_head_office": k == 0,
                    "line1": f"{STREETS[(n + k) % len(STREETS)]} {n % 120 + 1}",
                    "line2": "" if k == 0 else f"Box {n % 9000 + 100}",
                    "postcode": postcode,
                    "city": city,
                }

    def contacts():
        for n in range(count):
            yield {
                "id": first_contact + n,
                "number": n + 1,
                "first_name": FIRST[(n + 1) % len(FIRST)],
                "last_name": f"{LAST[n % len(LAST)]}-{n}",
            }

    def links():
        for n in range(count):
            yield {"customer_id": first_customer + n, "contact_id": first_contact + n}

    own = {"tenant_id": tid}
    tracked = own | {"created_at": stamp, "updated_at": stamp}
    with _bulk_mode(), transaction.atomic(using="owner"):
        _copy(Customer, tracked | {"country": "SE", "language": "sv"}, customers(), with_id=True)
        _copy(Address, tracked | {"country": "SE"}, addresses())
        _copy(Contact, tracked, contacts(), with_id=True)
        _copy(CustomerContact, own | {"created_at": stamp}, links())
    _vacuum()


def _baseline(tenant: Tenant) -> float:
    """The same customers fetched with a bare ``.iterator()`` loop: the floor."""
    started = time.perf_counter()
    with tenant_context(tenant):
        for _customer in Customer.objects.filter(status="active").iterator(chunk_size=1000):
            pass
    return time.perf_counter() - started


def _export(tenant, user, membership, report: str, fmt: str, scratch: Path) -> dict:
    from config.celery import app

    queue = f"bench-exports-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    criteria = QueryDict(mutable=True)
    criteria["report"] = report
    with _worker(queue, 200, scratch) as (sampler, idle):
        started = time.perf_counter()
        with tenant_context(tenant):
            _form, plan = export_sources.plan(
                "report",
                fmt=fmt,
                criteria=criteria,
                key="",
                user=user,
                membership=membership,
                tenant=tenant,
            )
            total = plan.customers.count()
            job = jobs.export_job_create(
                plan=plan, criteria=criteria, user=user, total=total, language="sv"
            )

        def finished() -> bool:
            with tenant_context(tenant):
                return not ExportJob.objects.get(pk=job.pk).active

        _wait(finished, timeout=6 * 3600, what="the export job")
        seconds = time.perf_counter() - started
        peak = sampler.peak_child
    with tenant_context(tenant):
        job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    size = default_storage.size(job.file)
    default_storage.delete(job.file)
    return {
        "seconds": seconds,
        "rows": job.rows_written,
        "bytes": size,
        "peak": peak,
        "idle": idle,
    }


def _mib(value: int) -> str:
    return f"{value / 2**20:,.1f} MiB"


def _measure(size: int, scratch: Path) -> dict:
    slug = f"bench-exp-{size}-{uuid.uuid4().hex[:6]}"
    tenant = tenant_create(name=f"Export {size} AB", country="SE", slug=slug)
    user = get_user_model().objects.create_user(username=slug, password=uuid.uuid4().hex)
    membership = Membership.objects.create(user=user, tenant=tenant, role=Role.ADMIN)
    started = time.perf_counter()
    _load(tenant, size)
    loaded = time.perf_counter() - started
    print(f"  {size:,} customers loaded in {loaded:.0f} s", flush=True)
    out = {"size": size, "loaded": loaded, "baseline": _baseline(tenant), "files": {}}
    for label, report, fmt in FILES:
        out["files"][label] = _export(tenant, user, membership, report, fmt, scratch)
        print(f"  {size:,} {label}: {out['files'][label]['seconds']:.1f} s", flush=True)
    return out


@benchmark
def export_jobs(ctx: Context) -> list[Figures]:
    small, big = min(SIZES), max(SIZES)
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as scratch:
        media = Path(scratch) / "media"
        media.mkdir()
        # The worker writes under MEDIA_ROOT (its env); this process reads it back there.
        os.environ["MEDIA_ROOT"] = str(media)
        try:
            with override_settings(MEDIA_ROOT=str(media)):
                results = [_measure(size, Path(scratch)) for size in sorted(SIZES)]
        finally:
            os.environ.pop("MEDIA_ROOT", None)
    load_after = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = []
    for r in results:
        n = f"{r['size']:,}"
        rows.append((f"{n}: bulk load (COPY as the owner)", f"{r['loaded']:.0f} s"))
        rows.append(
            (f"{n}: baseline, bare .iterator() over the customers", f"{r['baseline']:.2f} s")
        )
        for label, f in r["files"].items():
            rows.append(
                (
                    f"{n}: {label}, job created until DONE",
                    f"{f['seconds']:,.1f} s, {f['rows']:,} rows, {_mib(f['bytes'])}",
                )
            )
            rows.append(
                (
                    f"{n}: {label}, worker peak RSS (idle)",
                    f"{_mib(f['peak'])} ({_mib(f['idle'])})",
                )
            )
    low = next(r for r in results if r["size"] == small)
    top = next(r for r in results if r["size"] == big)
    ratios = []
    for label, _report, _fmt in FILES:
        ratio = top["files"][label]["peak"] / max(low["files"][label]["peak"], 1)
        ratios.append(ratio)
        rows.append(
            (
                f"{label}: worker peak memory, {big:,} over {small:,}",
                f"{ratio:.2f}x (target ≤ 1.2x)",
            )
        )
    first = FILES[0][0]  # the CSV unless left out
    csv_ratio = top["files"][first]["seconds"] / max(top["baseline"], 1e-9)
    note = (
        "Each size in a fresh tenant: customers with a postal head office, an invoice address "
        "and one contact person, COPY'd in as the owner (triggers off), then VACUUM ANALYZE. "
        "Each file: the Reports page's plan (an admin's, all columns) and "
        "`reports.jobs.export_job_create`, then a fresh prefork Celery worker process "
        "(`benchmarks.anonymization_worker`, DEBUG off, MEDIA_ROOT in a scratch folder) writes "
        "it; the clock runs from the job's creation until it is DONE (the worker was started "
        "and answered before). Peak RSS: the worker child, sampled twice a second. Baseline: "
        "the customers fetched with a bare `.iterator(chunk_size=1000)` in this process. "
        f"Load average at the start {load}, at the end {load_after} (1/5/15 min); "
        f"PostgreSQL, this process and the worker share {os.cpu_count()} cores."
    )
    if len(FILES) < 3:
        note += f" Only {', '.join(f[0] for f in FILES)} (BENCH_EXPORT_FORMATS)."
    if (small, big) != (10_000, 100_000):
        note += (
            f" Scaled down (BENCH_EXPORT_SIZES={','.join(map(str, SIZES))}) from the issue's "
            "10,000 and 100,000."
        )
    return [
        Figures(
            f"exports of {big:,} customers to CSV, XLSX and PDF labels through export jobs",
            rows,
            ratio=csv_ratio,
            ratio_means=f"{first} job time over the bare .iterator() loop at {big:,}",
            note=note,
        )
    ]
