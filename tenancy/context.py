"""The active tenant: in the ORM (django-scopes) and in PostgreSQL (``app.tenant_id``).

Two separate things (docs/adr/0005-tenant-scope-and-transactions.md):

- :func:`tenant_scope` makes a tenant active: the ORM refuses to query without one, and
  every transaction that runs while the scope is active carries ``app.tenant_id`` for
  row security. It opens no transaction itself, so a task can commit a claim, call a
  provider with no transaction open, and record the result in a second transaction.
- :func:`tenant_context` is a scope plus one ``transaction.atomic()`` (a web request,
  a management command, a short use case).

The database variable is always set *transaction-locally* (``set_config(..., true)``):
it ends with the transaction, cannot carry over to the next request on a reused
connection, and is safe behind PgBouncer in transaction mode. An execute wrapper
installed on every connection (:func:`install`) sets it right before the first
statement of each transaction, and again whenever the active tenant changed within
one (a nested scope and its exit). A statement in autocommit mode runs in a short
transaction of its own so that it, too, sees the variable.

Cross-tenant platform work goes through :func:`each_tenant` and nothing else (grep
for it), which visits tenants one at a time, each in its own scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.db.backends.signals import connection_created
from django_scopes import scope
from psycopg.pq import TransactionStatus

from .models import Tenant

_current: ContextVar[Tenant | None] = ContextVar("kundreg_tenant", default=None)

DB_SETTING = "app.tenant_id"
SET_SQL = "SELECT set_config('app.tenant_id', %s, true)"
# The connection attribute holding the tenant id this transaction's variable carries.
_MARK = "_kundreg_db_tenant"
_UNKNOWN = object()


class NoTenantError(RuntimeError):
    """Raised when tenant-owned data is touched with no tenant active."""


def current_tenant() -> Tenant | None:
    return _current.get()


def require_tenant() -> Tenant:
    tenant = _current.get()
    if tenant is None:
        raise NoTenantError("No tenant is active; enter tenancy.context.tenant_scope().")
    return tenant


@contextmanager
def tenant_scope(tenant: Tenant) -> Iterator[Tenant]:
    """Make ``tenant`` active (ORM scope, row security) without opening a transaction."""
    token = _current.set(tenant)
    try:
        with scope(tenant=tenant):
            yield tenant
    finally:
        _current.reset(token)


@contextmanager
def tenant_context(tenant: Tenant, using: str = "default") -> Iterator[Tenant]:
    """Run the block as ``tenant`` in one transaction (scope + ``atomic``)."""
    with tenant_scope(tenant), transaction.atomic(using=using):
        yield tenant


@contextmanager
def no_tenant() -> Iterator[None]:
    """Leave every tenant for the block (platform reads such as webhook routing)."""
    token = _current.set(None)
    try:
        with scope(tenant=None):
            yield
    finally:
        _current.reset(token)


def each_tenant(queryset=None) -> Iterator[Tenant]:
    """THE way to do cross-tenant platform work: one tenant at a time, each in its scope.

    No transaction is held across the ``yield``: work done for one tenant commits (or
    not) by its own transactions, and a ``break`` loses nothing.
    """
    tenants = list((queryset if queryset is not None else Tenant.objects.all()).order_by("pk"))
    for tenant in tenants:
        with tenant_scope(tenant):
            yield tenant


# --- keeping the database variable in step with the scope --------------------------------


def _wanted() -> str:
    tenant = _current.get()
    return "" if tenant is None else str(tenant.pk)


def _set_variable(connection, value: str) -> None:
    # The raw cursor: this statement must not pass through the wrapper again.
    with connection.connection.cursor() as cursor:
        cursor.execute(SET_SQL, [value])
    setattr(connection, _MARK, value)


def _tenant_variable(execute, sql, params, many, context):
    connection = context["connection"]
    wanted = _wanted()
    if connection.get_autocommit():
        if not wanted:
            return execute(sql, params, many, context)
        # One statement, one short transaction that carries the variable.
        with transaction.atomic(using=connection.alias):
            _set_variable(connection, wanted)
            return execute(sql, params, many, context)
    if connection.connection.info.transaction_status == TransactionStatus.IDLE:
        # The next statement opens a transaction: no variable is set in it yet.
        setattr(connection, _MARK, "")
    if getattr(connection, _MARK, _UNKNOWN) != wanted:
        _set_variable(connection, wanted)
    try:
        return execute(sql, params, many, context)
    finally:
        if isinstance(sql, str) and sql.startswith("ROLLBACK TO SAVEPOINT"):
            # The rollback restored whatever the variable held at the savepoint.
            setattr(connection, _MARK, _UNKNOWN)


def _on_connection_created(sender, connection, **kwargs) -> None:
    if _tenant_variable not in connection.execute_wrappers:
        connection.execute_wrappers.append(_tenant_variable)
    setattr(connection, _MARK, _UNKNOWN)


def install() -> None:
    """Called from TenancyConfig.ready(): every new database connection gets the wrapper."""
    connection_created.connect(_on_connection_created, dispatch_uid="tenancy.tenant_variable")
