"""A tenant's scope is not a transaction (docs/adr/0005): tasks commit their own work,
``each_tenant`` holds nothing open across its ``yield``, and tasks are sent after commit."""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_record
from config.celery import app
from tenancy.context import each_tenant, tenant_context, tenant_scope
from tenancy.models import ReferenceEntry, Tenant
from tenancy.tasks import heartbeat, worker_ping
from tests.factories import ReferenceEntryFactory


def _queued() -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.client.llen(settings.CELERY_TASK_DEFAULT_QUEUE)


def test_a_scope_opens_no_transaction_and_each_statement_still_sees_the_tenant(live_personas):
    with tenant_context(live_personas.tenant_a):
        ReferenceEntryFactory(code="A1")
    with tenant_context(live_personas.tenant_b):
        ReferenceEntryFactory(code="B1")
    with tenant_scope(live_personas.tenant_a):
        assert not connection.in_atomic_block
        with connection.cursor() as cursor:  # autocommit: its own short transaction
            cursor.execute("SELECT code FROM tenancy_referenceentry")
            assert [row[0] for row in cursor.fetchall()] == ["A1"]
        assert list(ReferenceEntry.objects.values_list("code", flat=True)) == ["A1"]
    with connection.cursor() as cursor:  # out of the scope: row security sees nobody
        cursor.execute("SELECT count(*) FROM tenancy_referenceentry")
        assert cursor.fetchone()[0] == 0


def test_work_done_for_a_tenant_survives_a_break_out_of_each_tenant(live_personas):
    for _tenant in each_tenant(Tenant.objects.filter(pk=live_personas.tenant_a.pk)):
        ReferenceEntryFactory(code="KEPT")
        break
    with tenant_context(live_personas.tenant_a):
        assert ReferenceEntry.objects.filter(code="KEPT").count() == 1


def test_a_task_sent_inside_a_transaction_leaves_only_at_commit(live_personas):
    app.control.purge()
    with transaction.atomic():
        result = heartbeat.delay()
        assert _queued() == 0  # not yet: a worker could not see what we write here
    assert _queued() == 1
    assert result.id  # the caller gets its id at once
    with transaction.atomic():
        worker_ping.enqueue("never", tenant=live_personas.tenant_a)
        transaction.set_rollback(True)
    assert _queued() == 1  # rolled back: never sent
    heartbeat.apply_async()  # no transaction: at once
    assert _queued() == 2
    app.control.purge()


def test_a_tenant_task_runs_in_the_scope_without_a_transaction(live_personas, celery_worker):
    worker_ping.enqueue("t1", tenant=live_personas.tenant_a)
    from tests.notifications.conftest import wait_for

    def ping():
        with tenant_context(live_personas.tenant_a):
            return AuditEvent.objects.filter(action="worker.ping").first()

    event = wait_for(ping, timeout=20)
    assert event is not None
    tenant_id = live_personas.tenant_a.pk
    assert event.data == {"token": "t1", "orm_tenant": tenant_id, "db_tenant": str(tenant_id)}


def test_audit_record_in_a_scope_commits_on_its_own(live_personas):
    with tenant_scope(live_personas.tenant_a):
        audit_record(action="test.one", actor=Actor.system("t"))
        assert not connection.in_atomic_block
    with tenant_context(live_personas.tenant_a):
        assert AuditEvent.objects.filter(action="test.one").count() == 1
