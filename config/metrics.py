"""Prometheus metrics (prometheus-client): requests, tasks, messages, batch and run progress.

Counters live in the process that counts them. gunicorn's workers and Celery's prefork
children are several processes: with PROMETHEUS_MULTIPROC_DIR set (an empty directory per
container, before the process starts) they share their counts through files there, and
whoever serves them adds them up. The web serves /metrics (its own counts and the progress
gauges, computed from the database at scrape time); the worker, given WORKER_METRICS_PORT,
serves its task and message counts on that port (docs/operations.md, "Monitoring").

/metrics answers only a bearer token (METRICS_TOKEN) or a peer in METRICS_ALLOWED_NETWORKS,
and is answered first in the middleware, so a scraper inside the network needs neither an
allowed Host nor HTTPS. Nothing here names a tenant: the gauges are sums over all of them.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

PATH = "/metrics"
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

HTTP_REQUESTS = Counter("kundreg_http_requests", "HTTP requests answered", ["method", "status"])
HTTP_LATENCY = Histogram(
    "kundreg_http_request_duration_seconds",
    "Time to answer an HTTP request, by view",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TASKS = Counter("kundreg_celery_tasks", "Celery tasks finished", ["task", "queue", "state"])
MESSAGES = Counter("kundreg_messages", "Outbound messages reaching a status", ["channel", "status"])


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


# --- /metrics ------------------------------------------------------------------------------


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        peer in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS
    )


def metrics_view(request):
    """The scrape: 404 (as if there were none) unless the token or the peer is allowed."""
    if request.method not in ("GET", "HEAD") or not _allowed(request):
        return HttpResponseNotFound(b"", content_type="text/plain")
    progress = CollectorRegistry()
    progress.register(ProgressCollector())
    body = generate_latest(_registry()) + generate_latest(progress)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


class ProgressCollector:
    """Consent batches and anonymization/deletion runs still working, and what they have left.

    Read tenant by tenant through each_tenant (row security allows nothing else), summed.
    """

    def collect(self):
        from anonymization.models_deletion import DeletionRun
        from anonymization.models_runs import AnonymizationRun, RunStatus
        from consent.models import BatchStatus, ConsentBatch
        from tenancy.context import each_tenant
        from tenancy.models import Tenant

        jobs = {
            "consent_batch": (
                ConsentBatch,
                [BatchStatus.PENDING, BatchStatus.RUNNING],
                ("sent", "skipped", "failed"),
            ),
            "anonymization_run": (
                AnonymizationRun,
                [RunStatus.QUEUED, RunStatus.RUNNING],
                ("anonymized", "skipped"),
            ),
            "deletion_run": (
                DeletionRun,
                [RunStatus.QUEUED, RunStatus.RUNNING],
                ("deleted", "skipped"),
            ),
        }
        active = dict.fromkeys(jobs, 0)
        remaining = dict.fromkeys(jobs, 0)
        for _tenant in each_tenant(Tenant.objects.filter(is_active=True)):
            for kind, (model, working, done) in jobs.items():
                for row in model.objects.filter(status__in=working).values("total", *done):
                    active[kind] += 1
                    remaining[kind] += max(0, row["total"] - sum(row[f] for f in done))
        jobs_gauge = GaugeMetricFamily(
            "kundreg_jobs_active", "Batches and runs queued or working", labels=["kind"]
        )
        left_gauge = GaugeMetricFamily(
            "kundreg_jobs_customers_remaining",
            "Customers the active batches and runs have still to do",
            labels=["kind"],
        )
        for kind in jobs:
            jobs_gauge.add_metric([kind], active[kind])
            left_gauge.add_metric([kind], remaining[kind])
        yield jobs_gauge
        yield left_gauge


# --- requests ------------------------------------------------------------------------------


class MetricsMiddleware:
    """Serves /metrics before Host and HTTPS checks; counts and times every other request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PATH:
            return metrics_view(request)
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match._func_path) if match is not None else "unresolved"
        method = request.method if request.method in _METHODS else "other"
        HTTP_REQUESTS.labels(method, f"{response.status_code // 100}xx").inc()
        HTTP_LATENCY.labels(view).observe(time.perf_counter() - start)
        return response


# --- tasks and messages --------------------------------------------------------------------


def _queue(request) -> str:
    info = getattr(request, "delivery_info", None) or {}
    return info.get("routing_key") or "unknown"


def _task_success(sender=None, **kwargs):
    TASKS.labels(sender.name, _queue(sender.request), "success").inc()


def _task_failure(sender=None, **kwargs):
    TASKS.labels(sender.name, _queue(sender.request), "failure").inc()


def _task_retry(sender=None, request=None, **kwargs):
    TASKS.labels(sender.name, _queue(request), "retry").inc()


def _message_status(sender=None, message=None, new="", **kwargs):
    # Counted when the status moves (notifications.services.move_status): sent, failed,
    # undelivered, uncertain, delivered, by channel.
    if new != "queued":
        MESSAGES.labels(message.channel, new).inc()


def connect_signals() -> None:
    """Hooked up by config/celery.py, which web, worker and beat all import."""
    from celery import signals

    from notifications.signals import message_status_changed

    signals.task_success.connect(_task_success, weak=False)
    signals.task_failure.connect(_task_failure, weak=False)
    signals.task_retry.connect(_task_retry, weak=False)
    message_status_changed.connect(_message_status, weak=False, dispatch_uid="kundreg.metrics")


def start_worker_server(**kwargs) -> None:
    """celery worker's main process: serve its (children's) counts on WORKER_METRICS_PORT."""
    port = os.environ.get("WORKER_METRICS_PORT", "")
    if port:
        start_http_server(int(port), registry=_registry())
        logger.info("Worker metrics on port %s", port)
