"""``make bench``: run the registered benchmarks on a throwaway database, write the report.

    python -m benchmarks.run [-k NAME ...] [--iterations N] [--output PATH] [--keep-db NAME]

Like tests/conftest.py, it creates a database as the owner role, points both
aliases at it, migrates, and drops it at the end. ``--keep-db NAME`` (or
``BENCH_KEEP_DB=NAME``) instead uses the database NAME, creating it when missing,
migrates it (so a new migration is applied to data already loaded) and keeps it:
a benchmark that loads much data (the search benchmark) reuses it on the next run.
Drop it yourself when done (``DROP DATABASE NAME``). The report replaces only
the part of ``docs/benchmarks.md`` between its markers, so hand-written
sections (the start-up figures) survive a re-run, and within it only the
sections of the benchmarks that ran (``-k`` runs a subset).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
OUTPUT = BASE_DIR / "docs" / "benchmarks.md"
BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"


def discover() -> None:
    """Import every ``benchmarks/bench_*.py``; their ``@benchmark`` functions register."""
    package = Path(__file__).resolve().parent
    for module in pkgutil.iter_modules([str(package)]):
        if module.name.startswith("bench_"):
            importlib.import_module(f"benchmarks.{module.name}")


# --- The throwaway database ---------------------------------------------------------


def _owner_conninfo(dbname: str) -> str:
    import psycopg
    from django.conf import settings

    cfg = settings.DATABASES["owner"]
    return psycopg.conninfo.make_conninfo(
        dbname=dbname,
        user=cfg["USER"],
        password=cfg.get("PASSWORD") or None,
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
    )


def _admin(statement: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_owner_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


def _database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(_owner_conninfo("postgres"), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


@contextmanager
def throwaway_database(keep: str = "") -> Iterator[str]:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    name = keep or f"bench_kundreg_{uuid.uuid4().hex[:8]}"
    if not (keep and _database_exists(name)):
        _admin("CREATE DATABASE {}", name)
    try:
        for alias in ("default", "owner"):
            connections[alias].close()
            settings.DATABASES[alias]["NAME"] = name
            connections[alias].settings_dict["NAME"] = name
        call_command("migrate", verbosity=0)
        yield name
    finally:
        connections.close_all()
        if not keep:
            _admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


# --- The machine --------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(  # noqa: S603 - fixed git arguments
            ["git", *args],  # noqa: S607
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} with uncommitted changes" if git("status", "--porcelain") else head


def machine_info() -> dict[str, str]:
    import django
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg_version,) = cursor.fetchone()
    host = settings.DATABASES["default"].get("HOST") or "localhost"
    where = "Unix socket" if str(host).startswith("/") else f"TCP to {host}"
    return {
        "CPU": _cpu_model(),
        "cores": f"{os.cpu_count()} logical ({len(os.sched_getaffinity(0))} usable)",
        "RAM": _ram(),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "PostgreSQL": f"{pg_version} ({where})",
        "load average": " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1/5/15 min)",
        "commit": _commit(),
    }


# --- The report ---------------------------------------------------------------------


def _figures_lines(f) -> list[str]:
    lines = [
        "",
        f"**{f.title}** — ratio {f.ratio:.2f} ({f.ratio_means})",
        "",
        "| | |",
        "|---|---:|",
        *(f"| {what} | {value} |" for what, value in f.rows),
    ]
    return lines + (["", f.note] if f.note else [])


def _section(bench, results: list, iterations: int, when: datetime, machine: dict) -> str:
    from benchmarks import Figures

    comparisons = [c for c in results if not isinstance(c, Figures)]
    calls = (
        f"{max(len(c.subject.samples) for c in comparisons)} calls per side, "
        if comparisons
        else ""
    )
    lines = [
        f"<!-- benchmark:{bench.name} -->",
        f"### {bench.name}",
        "",
        # What was timed, not what was asked for: a benchmark may choose its own count.
        f"Measured {when:%Y-%m-%d %H:%M} UTC, {calls}commit "
        f"{machine['commit']}, load average {machine['load average']}.",
    ]
    for c in results:
        if isinstance(c, Figures):
            lines += _figures_lines(c)
            continue
        s, b = c.subject, c.baseline
        lines += [
            "",
            f"**{c.title}** — ratio {c.ratio:.2f} (p50 over p50)",
            "",
            "| | p50 ms | p95 ms | calls/s |",
            "|---|---:|---:|---:|",
            f"| `{s.label}` | {s.p50_ms:.3f} | {s.p95_ms:.3f} | {s.per_second:,.0f} |",
            f"| baseline: `{b.label}` | {b.p50_ms:.3f} | {b.p95_ms:.3f} | {b.per_second:,.0f} |",
        ]
        if c.note:
            lines += ["", c.note]
    lines.append(f"<!-- /benchmark:{bench.name} -->")
    return "\n".join(lines)


SECTION = re.compile(r"<!-- benchmark:(?P<name>[\w.]+) -->.*?<!-- /benchmark:(?P=name) -->", re.S)


def render(old_block: str, results: list, machine: dict, iterations: int, when: datetime) -> str:
    """The report block; sections of benchmarks not run this time (``-k``) are kept."""
    sections = {m["name"]: m.group(0) for m in SECTION.finditer(old_block)}
    for bench, comparisons in results:
        sections[bench.name] = _section(bench, comparisons, iterations, when, machine)
    return "\n".join(
        [
            BEGIN,
            "Written by `make bench` (`python -m benchmarks.run`); each section says when it was "
            "measured. Every code path ran against its baseline in the same run, timed call by "
            "call in alternating batches of 100 after a warm-up; times are per call.",
            "",
            "| machine (last run) | |",
            "|---|---|",
            *(f"| {key} | {value} |" for key, value in machine.items()),
            "",
            "\n\n".join(sections[name] for name in sorted(sections)),
            END,
        ]
    )


def write_report(path: Path, results: list, machine: dict, iterations: int) -> None:
    old = path.read_text() if path.exists() else ""
    when = datetime.now(UTC)
    if BEGIN in old and END in old:
        head, _, rest = old.partition(BEGIN)
        old_block, _, tail = rest.partition(END)
        text = head + render(old_block, results, machine, iterations, when) + tail
    else:
        block = render("", results, machine, iterations, when)
        text = f"# Benchmarks\n\n{block}\n" + (f"\n{old}" if old else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _summary(result) -> str:
    from benchmarks import Figures

    if isinstance(result, Figures):
        rows = "; ".join(f"{what} {value}" for what, value in result.rows)
        return f"{result.title}: {rows}; ratio {result.ratio:.2f} ({result.ratio_means})"
    s, b = result.subject, result.baseline
    return (
        f"{s.label} p50 {s.p50_ms:.3f} ms, {b.label} p50 {b.p50_ms:.3f} ms, "
        f"ratio {result.ratio:.2f}"
    )


# --- Main -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("-k", action="append", default=[], help="run benchmarks whose name has K")
    parser.add_argument("--iterations", type=int, default=2000, help="timed calls per side")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--keep-db",
        default=os.environ.get("BENCH_KEEP_DB", ""),
        help="use (create if missing) and keep this database, reusing loaded data",
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log: it would slow every call down

    from benchmarks import REGISTRY, Context
    from tenancy.models import Tenant
    from tenancy.services import tenant_create

    def tenant(name: str, country: str, slug: str):
        # A kept database already has the tenants of the previous run.
        return Tenant.objects.filter(slug=slug).first() or tenant_create(
            name=name, country=country, slug=slug
        )

    discover()
    selected = [b for b in REGISTRY if not args.k or any(k in b.name for k in args.k)]
    if not selected:
        print("No benchmark matches.", file=sys.stderr)
        return 1
    results = []
    with throwaway_database(args.keep_db) as name:
        print(f"Database {name}: {len(selected)} benchmark(s).", flush=True)
        machine = machine_info()  # before the run: the load average is the neighbours'
        ctx = Context(
            tenant=tenant("Benchmark A AB", "SE", "bench-a"),
            other_tenant=tenant("Benchmark B AS", "NO", "bench-b"),
            iterations=args.iterations,
        )
        for bench in selected:
            comparisons = bench.run(ctx)
            results.append((bench, comparisons))
            for c in comparisons:
                print(f"{bench.name}: {_summary(c)}", flush=True)
    write_report(args.output, results, machine, args.iterations)
    print(f"Wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
