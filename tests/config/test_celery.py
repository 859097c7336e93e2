"""A real worker thread, on the real Redis broker, runs tasks under the right tenant."""

from __future__ import annotations

import time
import uuid

import pytest
from django.db import transaction

from audit.models import AuditEvent
from tenancy.context import tenant_context
from tenancy.tasks import tenant_task, worker_ping


def _wait_for_ping(tenant, token: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(tenant):
            event = AuditEvent.objects.filter(action="worker.ping", data__token=token).first()
        if event is not None:
            return event
        time.sleep(0.1)
    return None


def test_worker_runs_the_task_as_its_tenant(live_personas, celery_worker):
    token_a, token_b = uuid.uuid4().hex, uuid.uuid4().hex
    with tenant_context(live_personas.tenant_a):
        worker_ping.enqueue(token_a)
    with tenant_context(live_personas.tenant_b):
        worker_ping.enqueue(token_b)

    event_a = _wait_for_ping(live_personas.tenant_a, token_a)
    event_b = _wait_for_ping(live_personas.tenant_b, token_b)
    assert event_a is not None and event_b is not None
    assert event_a.data["orm_tenant"] == live_personas.tenant_a.pk
    assert event_a.data["db_tenant"] == str(live_personas.tenant_a.pk)
    assert event_b.data["db_tenant"] == str(live_personas.tenant_b.pk)
    # Each tenant's proof sits in its own log only.
    assert _wait_for_ping(live_personas.tenant_b, token_a, timeout=0) is None


def test_task_is_sent_only_after_commit(live_personas, celery_worker):
    token = uuid.uuid4().hex
    with pytest.raises(RuntimeError), tenant_context(live_personas.tenant_a):
        worker_ping.enqueue(token)
        raise RuntimeError("roll back")
    assert _wait_for_ping(live_personas.tenant_a, token, timeout=2.0) is None


def test_enqueue_without_a_tenant_is_refused(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        worker_ping.enqueue("x")


def test_task_base_is_late_acking():
    assert worker_ping.acks_late is True
    assert worker_ping.reject_on_worker_lost is True
    from django.conf import settings

    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] >= 3600


def test_retried_task_keeps_its_tenant(live_personas, celery_worker):
    """A TenantTask that calls self.retry() runs again under the same tenant."""
    token = uuid.uuid4().hex
    with tenant_context(live_personas.tenant_a):
        retry_once_then_ping.enqueue(token)
    event = _wait_for_ping(live_personas.tenant_a, token)
    assert event is not None
    assert event.data["db_tenant"] == str(live_personas.tenant_a.pk)


_attempts: dict[str, int] = {}


@tenant_task(bind=True, max_retries=2)
def retry_once_then_ping(self, token: str) -> None:
    _attempts[token] = _attempts.get(token, 0) + 1
    if _attempts[token] == 1:
        raise self.retry(countdown=0)
    worker_ping.run(token)
