"""The task base every job uses, and the floor's own periodic tasks.

Every task of the app (``AfterCommitTask``, the Celery app's ``task_cls``) is sent only
after the surrounding transaction commits: ``delay()`` or ``apply_async()`` inside a
transaction waits for the commit (and is dropped with a rollback), so a worker never
looks for a row that is not there yet. Tenant tasks take a tenant id (never objects)
and enter that tenant's *scope* (ORM scope and the database's ``app.tenant_id``), not a
transaction: a task commits its own short transactions, so a claim is durable before a
provider is called and no network call waits with locks held (docs/adr/0005).
"""

from __future__ import annotations

from datetime import timedelta

from celery import Task, shared_task
from celery.utils import uuid
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .context import current_tenant, each_tenant, tenant_scope
from .models import IdempotencyRecord, Tenant

HEARTBEAT_KEY = "worker:heartbeat"


class AfterCommitTask(Task):
    """Sends after the current transaction commits (at once when there is none)."""

    abstract = True

    def apply_async(self, args=None, kwargs=None, task_id=None, **options):
        if not transaction.get_connection().in_atomic_block:
            return super().apply_async(args, kwargs, task_id=task_id, **options)
        task_id = task_id or uuid()
        send = super().apply_async
        transaction.on_commit(lambda: send(args, kwargs, task_id=task_id, **options))
        return self.AsyncResult(task_id)


class TenantTask(AfterCommitTask):
    """A task run inside one tenant's scope; call with ``tenant_id=`` as a keyword."""

    abstract = True
    typing = False  # the tenant_id keyword is ours, not the task function's
    acks_late = True
    reject_on_worker_lost = True

    def __call__(self, *args, tenant_id: int, **kwargs):
        tenant = Tenant.objects.get(pk=tenant_id, is_active=True)
        with tenant_scope(tenant):
            # self.run, not super().__call__: the latter would push a request without
            # tenant_id, and self.retry() re-sends the request's kwargs (the worker has
            # already pushed the full request, tenant_id included).
            return self.run(*args, **kwargs)

    def enqueue(self, *args, tenant: Tenant | None = None, **kwargs) -> None:
        """Send for ``tenant`` (default: the active one) after the transaction commits."""
        tenant = tenant or current_tenant()
        if tenant is None:
            raise RuntimeError(f"{self.name} needs a tenant to run under.")
        self.apply_async(args=args, kwargs={**kwargs, "tenant_id": tenant.pk})


def tenant_task(*args, **options):
    """``@tenant_task`` = ``@shared_task(base=TenantTask, bind=...)``."""
    options.setdefault("base", TenantTask)
    return shared_task(*args, **options)


@shared_task
def heartbeat() -> str:
    """Beat's proof of life for /healthz: a worker ran a scheduled task recently."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=300)
    return now


@shared_task
def purge_idempotency_records() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    removed = 0
    for _tenant in each_tenant():
        removed += IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()[0]
    return removed


@tenant_task
def worker_ping(token: str) -> None:
    """Leave proof in the tenant's audit log that a worker ran as that tenant.

    Records the tenant as both the ORM and the database see it; used by
    ``manage.py`` diagnostics and the tests of the task base.
    """
    from django.db import connection

    from audit.actors import Actor
    from audit.services import audit_record

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        (db_tenant,) = cursor.fetchone()
    audit_record(
        action="worker.ping",
        actor=Actor.system("worker"),
        data={"token": token, "orm_tenant": current_tenant().pk, "db_tenant": db_tenant},
    )
