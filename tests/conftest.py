"""Shared fixtures: a real PostgreSQL test database per xdist worker, personas, a real worker.

The test database is created and migrated by the owner role; every test then
talks to it as the runtime role, so row-level security is in force throughout.
"""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import translation
from psycopg import sql

from tests.db import owner_conninfo
from tests.factories import ApiKeyFactory, MembershipFactory, TenantFactory, UserFactory

pytest_plugins = ["tests.personas", "tests.smtp"]


def _use_database(name: str) -> None:
    for alias in ("default", "owner"):
        connections[alias].close()
        settings.DATABASES[alias]["NAME"] = name
        connections[alias].settings_dict["NAME"] = name


def _drop(name: str) -> None:
    with psycopg.connect(owner_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker, worker_id, testrun_uid):
    # Unique per run as well as per worker: concurrent runs may share one server.
    name = f"test_kundreg_{testrun_uid[:8]}_{worker_id}"
    _drop(name)
    with psycopg.connect(owner_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _use_database(name)
    with django_db_blocker.unblock():
        call_command("migrate", verbosity=0)
    yield name
    with django_db_blocker.unblock():
        connections.close_all()
    _drop(name)


# Tables whose rows come from migrations and must survive between committed tests.
_KEEP = {"django_migrations", "django_content_type", "auth_permission"}


def _truncate_all() -> None:
    owner = connections["owner"]
    # The audit log refuses TRUNCATE even to its owner (audit migration 0002): lift that
    # trigger inside this one transaction, which nobody else ever sees lifted.
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        tables = [t for t in owner.introspection.table_names(cursor) if t not in _KEEP]
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_truncate")
        cursor.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in tables)
            )
        )
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_truncate")


@pytest.fixture(autouse=True)
def _reset_language():
    """A request through LocaleMiddleware leaves its language active in the thread."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_send_rate():
    """The per-tenant send-rate buckets live in Redis by tenant id and second; tenant ids
    repeat from test to test, so one test's sends must not count against the next's."""
    yield
    from notifications.pacing import _prefix, _redis

    keys = list(_redis().scan_iter(f"{_prefix()}:notifications:rate:*"))
    if keys:
        _redis().delete(*keys)


@pytest.fixture
def live_db(django_db_setup, django_db_blocker):
    """Committed data (no wrapping transaction): for real workers, threads and owner edits."""
    with django_db_blocker.unblock():
        try:
            yield
        finally:
            connections.close_all()
            _truncate_all()
            connections["owner"].close()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "worker: runs a real Celery worker (make test-rabbitmq runs these on RabbitMQ)"
    )


def pytest_collection_modifyitems(items):
    # The worker tests are the ones that run once more on RabbitMQ (make test-rabbitmq).
    for item in items:
        if "celery_worker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.worker)


@pytest.fixture(scope="session")
def _broker_queue():
    """This test process's queue; on RabbitMQ deleted at the end of the session (it keeps a
    durable queue after its consumers go). Not after each test: a producer that declared the
    queue once does not declare it again, and would publish into nothing."""
    yield
    from config.celery import app

    if app.conf.broker_url.startswith("amqp"):
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(app.conf.task_default_queue)


@pytest.fixture
def celery_worker(live_db, _broker_queue):
    """A real Celery worker thread consuming this test process's queue on the real broker:
    Redis, or whatever CELERY_BROKER_URL names (``make test-rabbitmq``: RabbitMQ)."""
    from celery.contrib.testing.worker import TestWorkController, start_worker

    from config.celery import app

    amqp = app.conf.broker_url.startswith("amqp")

    class SyncLoopWorker(TestWorkController):
        # On RabbitMQ the event loop of a solo worker in a thread left the next message
        # (prefetch 1, late acks) waiting about 10 s for its next timer; the plain loop
        # takes each as it comes.
        def should_use_eventloop(self) -> bool:
            return False

    # Tasks queued by earlier tests (committed, but no worker ran then) name rows that the
    # truncation removed, and would run first: start from an empty queue.
    app.control.purge()
    with start_worker(
        app,
        pool="solo",
        perform_ping_check=False,
        loglevel="WARNING",
        WorkController=SyncLoopWorker if amqp else TestWorkController,
    ) as worker:
        yield worker


__all__ = ["ApiKeyFactory", "MembershipFactory", "TenantFactory", "UserFactory"]
