"""One POS client for the concurrent-audit benchmark, started as a separate process.

    python -m benchmarks.audit_worker

Environment: BENCH_DB_NAME (the benchmark's throwaway database), BENCH_TENANT (tenant
id), BENCH_CUSTOMERS (this client's customer ids, comma-separated), BENCH_TERMS (the
terms version shown), BENCH_SECONDS (how long to record), BENCH_PAUSE_MS (time the
transaction stays open after the decision, default 0), AUDIT_CHAIN_STRIPES (read by the
settings). It warms up, prints ``ready``, waits for a line on stdin, records consent
decisions as the POS API does (``consent.services.consent_record`` in the tenant's
transaction) for BENCH_SECONDS, and prints one JSON line with what it measured.
"""

from __future__ import annotations

import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from audit.actors import Actor  # noqa: E402
from consent.services import consent_record  # noqa: E402
from customers.models import Customer  # noqa: E402
from tenancy.context import tenant_context  # noqa: E402
from tenancy.models import Tenant  # noqa: E402

ACTOR = Actor.system("pos-benchmark")
DECISIONS = ("granted", "withdrawn")


def _backend_cpu(pid: int) -> float:
    """CPU seconds the PostgreSQL backend serving us has used (same host: /proc)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    name = os.environ["BENCH_DB_NAME"]
    for alias in ("default", "owner"):
        settings.DATABASES[alias]["NAME"] = name
    tenant = Tenant.objects.get(pk=int(os.environ["BENCH_TENANT"]))
    ids = [int(i) for i in os.environ["BENCH_CUSTOMERS"].split(",")]
    terms = int(os.environ["BENCH_TERMS"])
    seconds = float(os.environ["BENCH_SECONDS"])
    pause = float(os.environ.get("BENCH_PAUSE_MS", "0")) / 1000
    n = 0

    def decide() -> float:
        nonlocal n
        started = time.perf_counter()
        with tenant_context(tenant):
            customer = Customer.objects.get(pk=ids[n % len(ids)])  # the API's get_customer
            consent_record(
                customer=customer,
                decision=DECISIONS[(n // len(ids)) % 2],
                method="pos",
                actor=ACTOR,
                terms_version=terms,
                language="sv",
                context={"store": "benchmark", "terminal": str(os.getpid())},
                ip="192.0.2.10",
                user_agent="pos-benchmark",
            )
            if pause:
                time.sleep(pause)  # the rest of a request's transaction, chain lock held
        n += 1
        return time.perf_counter() - started

    for _ in range(20):  # connection, caches, the first plans
        decide()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    print("ready", flush=True)
    sys.stdin.readline()
    latencies: list[float] = []
    cpu0, pg0 = time.process_time(), _backend_cpu(backend)
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        latencies.append(decide())
    elapsed = time.perf_counter() - started
    result = {
        "count": len(latencies),
        "elapsed": elapsed,
        "cpu_python": time.process_time() - cpu0,
        "cpu_postgres": _backend_cpu(backend) - pg0,
        "latencies": latencies,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
