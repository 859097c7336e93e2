"""The active tenant: in the ORM (django-scopes) and in PostgreSQL (``app.tenant_id``).

Every way in — web request, API call, Celery task, management command —
enters :func:`tenant_context`. It opens a transaction and sets the database
variable *transaction-locally* (``set_config(..., true)``), so the value
ends with the transaction: it cannot carry over to the next request on a
reused connection, and it is safe behind PgBouncer in transaction mode.

Cross-tenant platform work goes through :func:`each_tenant` and nothing else
(grep for it), which visits tenants one at a time, each in its own context.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections, transaction
from django_scopes import scope

from .models import Tenant

_current: ContextVar[Tenant | None] = ContextVar("kundreg_tenant", default=None)

DB_SETTING = "app.tenant_id"


class NoTenantError(RuntimeError):
    """Raised when tenant-owned data is touched with no tenant active."""


def current_tenant() -> Tenant | None:
    return _current.get()


def require_tenant() -> Tenant:
    tenant = _current.get()
    if tenant is None:
        raise NoTenantError("No tenant is active; enter tenancy.context.tenant_context().")
    return tenant


def set_db_tenant(tenant_id: int | None, using: str = "default") -> None:
    """Set ``app.tenant_id`` for the current transaction only."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, true)",
            [DB_SETTING, "" if tenant_id is None else str(tenant_id)],
        )


@contextmanager
def tenant_context(tenant: Tenant, using: str = "default") -> Iterator[Tenant]:
    """Run the block as ``tenant``: scoped ORM, row security, one transaction."""
    previous = _current.get()
    token = _current.set(tenant)
    try:
        with transaction.atomic(using=using), scope(tenant=tenant):
            set_db_tenant(tenant.pk, using)
            yield tenant
            # Hand the variable back (to the outer tenant, or to none). On an error
            # there is nothing to do: the rollback restores it, and a statement on an
            # aborted transaction would only hide the real error.
            if not connections[using].needs_rollback:
                set_db_tenant(previous.pk if previous else None, using)
    finally:
        _current.reset(token)


def each_tenant(queryset=None) -> Iterator[Tenant]:
    """THE way to do cross-tenant platform work: one tenant at a time, each in its context."""
    tenants = list((queryset if queryset is not None else Tenant.objects.all()).order_by("pk"))
    for tenant in tenants:
        with tenant_context(tenant):
            yield tenant
