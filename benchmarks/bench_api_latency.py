"""API latency under load, on the production server: gunicorn, as docker-compose runs it.

Four calls a POS makes (GET a customer, search, POST a consent request, POST a decision
taken at the till), each at 1 and at 8 concurrent clients, p50/p95 and throughput, side
by side with the same number of calls to a bare DRF view on the same server
(benchmarks/api_server.py): what our authentication, tenant scope, row security,
throttle, queries and audit add on top of the framework.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
import requests
from django.conf import settings

from audit.actors import Actor
from benchmarks import Context, Figures, benchmark
from config.database_config import celery_redis_url
from consent.services import consent_terms_publish
from customers.models import Customer
from customers.search import customer_search_text, sort_key
from tenancy.context import tenant_context
from tenancy.services import api_key_create

BASE_DIR = Path(__file__).resolve().parent.parent
CUSTOMERS = 5000
WORKERS = 3  # gunicorn's workers, as docker-compose's web (WEB_CONCURRENCY)
CLIENTS = (1, 8)
CALLS = {1: 150, 8: 400}  # per operation and side; POSTs use a fresh customer each
SURNAMES = ["Berg", "Lindqvist", "Sørensen", "Öberg", "Åkesson", "Nyström", "Ek", "Holm"]
ACTOR = Actor.system("benchmark")


def _load(tenant) -> list[int]:
    rng = random.Random(7)
    batch = []
    for i in range(CUSTOMERS):
        surname = SURNAMES[i % len(SURNAMES)]
        customer = Customer(
            tenant=tenant,
            number=str(10000 + i),
            kind="person",
            name=f"Kund{i} {surname}",
            email=f"kund{i}@example.se",
            mobile=f"+4670{rng.randint(1000000, 9999999)}",
            language="sv",
            country="SE",
        )
        customer.search_text = customer_search_text(customer)
        customer.sort_name = sort_key(customer.name, "sv")
        batch.append(customer)
    return [c.pk for c in Customer.objects.bulk_create(batch)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _other_redis_db(url: str) -> str:
    """The broker on the same Redis in a database of its own: the POSTs' send tasks are
    queued for real, then dropped, never reaching a worker of a running `make run`."""
    if url.startswith("unix://"):
        path, _sep, _query = url.partition("?")
        return f"{path}?db=13"
    head, _sep, _db = url.rpartition("/")
    return f"{head}/13"


@contextmanager
def _server() -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "BENCH_DB_NAME": settings.DATABASES["default"]["NAME"],
        "DEBUG": "false",
        "API_THROTTLE_RATE": "100000000/min",  # the throttle's bookkeeping runs, never refuses
        "BENCH_BROKER_URL": celery_redis_url(_other_redis_db(settings.REDIS_URL)),
    }
    process = subprocess.Popen(  # noqa: S603 - gunicorn from our own venv, fixed arguments
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "benchmarks.api_server:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/bench/bare/", timeout=10)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.3)
        yield url
    finally:
        redis.Redis.from_url(_other_redis_db(settings.REDIS_URL)).flushdb()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _run(clients: int, calls: int, call: Callable[[requests.Session, int], int]):
    """``calls`` calls over ``clients`` threads; (latencies, wall seconds, bad statuses)."""
    latencies: list[float] = []
    bad: list[int] = []
    lock = threading.Lock()
    counter = iter(range(calls))

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            start = time.perf_counter()
            status = call(session, n)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if status >= 400:
                    bad.append(status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - began, bad


def _p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * 1000


@benchmark
def api_latency_under_load(ctx: Context) -> list[Figures]:
    with tenant_context(ctx.tenant):
        ids = _load(ctx.tenant)
        terms = consent_terms_publish(language="sv", text="Vi sparar dina uppgifter.", actor=ACTOR)
        _key_row, key = api_key_create(
            name="bench", scopes=["customers:read", "consent:write"], actor=ACTOR
        )
    headers = {"Authorization": f"Api-Key {key}", "Accept": "application/json"}
    rng = random.Random(11)
    fresh = iter(rng.sample(ids, len(ids)))  # each POST to a customer not asked before

    def get_customer(s, n):
        return s.get(f"{url}/api/v1/customers/{rng.choice(ids)}/", headers=headers).status_code

    def search(s, n):
        q = SURNAMES[n % len(SURNAMES)].lower()
        return s.get(f"{url}/api/v1/customers/", params={"search": q}, headers=headers).status_code

    def consent_request(s, n):
        body = {"channel": "email"}
        path = f"{url}/api/v1/customers/{next(fresh)}/consent-requests/"
        return s.post(path, json=body, headers=headers).status_code

    def decision(s, n):
        body = {"decision": "granted", "terms_version": terms.version, "method": "pos"}
        path = f"{url}/api/v1/customers/{next(fresh)}/consent/"
        return s.post(path, json=body, headers=headers).status_code

    def bare_get(s, n):
        return s.get(f"{url}/bench/bare/", headers=headers).status_code

    def bare_post(s, n):
        return s.post(f"{url}/bench/bare/", json={"x": 1}, headers=headers).status_code

    operations = [
        ("GET /api/v1/customers/{id}/", get_customer, bare_get),
        ("GET /api/v1/customers/?search=", search, bare_get),
        ("POST /api/v1/customers/{id}/consent-requests/", consent_request, bare_post),
        ("POST /api/v1/customers/{id}/consent/ (POS decision)", decision, bare_post),
    ]
    results = []
    with _server() as url:
        for _ in range(30):  # warm every worker's connection and caches
            get_customer(requests, 0), bare_get(requests, 0)
        for title, ours, bare in operations:
            rows, ratio = [], 0.0
            for clients in CLIENTS:
                lat, wall, bad = _run(clients, CALLS[clients], ours)
                base_lat, base_wall, base_bad = _run(clients, CALLS[clients], bare)
                assert not bad and not base_bad, (title, bad[:5], base_bad[:5])
                rows += [
                    (
                        f"{clients} client{'s' if clients > 1 else ''}: ours p50 / p95",
                        f"{_p(lat, 50):.1f} / {_p(lat, 95):.1f} ms",
                    ),
                    (
                        f"{clients} client{'s' if clients > 1 else ''}: bare DRF p50 / p95",
                        f"{_p(base_lat, 50):.1f} / {_p(base_lat, 95):.1f} ms",
                    ),
                    (
                        f"{clients} client{'s' if clients > 1 else ''}: ours / bare throughput",
                        f"{len(lat) / wall:.0f} / {len(base_lat) / base_wall:.0f} requests/s",
                    ),
                ]
                if clients == 1:
                    ratio = _p(lat, 50) / _p(base_lat, 50)
            results.append(
                Figures(
                    title,
                    rows,
                    ratio,
                    "ours p50 over the bare DRF view's p50, 1 client",
                    note=(
                        f"gunicorn with {WORKERS} sync workers (docker-compose's web), "
                        f"DEBUG off, {CUSTOMERS:,} customers; {CALLS[1]} calls at 1 client, "
                        f"{CALLS[8]} at 8, each side. The bare view is a DRF APIView with no "
                        "authentication, permission, throttle or query on the same server."
                    ),
                )
            )
    return results
