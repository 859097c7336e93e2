"""A worker keeps its database connection between tasks for CONN_MAX_AGE, like the web.

Celery's Django fixup would close every connection before and after each task (config/
celery.py): a send paid a new PostgreSQL connection per message. Here a worker thread's
task start and end are signalled as the worker signals them, with the fixup installed.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from celery import signals
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection, connections

from config.celery import app


class _Task:
    name = "tests.task"
    request = SimpleNamespace(is_eager=False)


def _task_runs() -> None:
    """What the worker does around a task: the fixup's handlers, then every receiver."""
    fixup = DjangoWorkerFixup(app)
    fixup.on_task_prerun(sender=_Task)
    signals.task_prerun.send(sender=_Task, task_id="t", task=_Task, args=(), kwargs={})
    fixup.on_task_postrun(sender=_Task)
    signals.task_postrun.send(sender=_Task, task_id="t", task=_Task, args=(), kwargs={})


def _in_a_thread(work):
    """Run ``work`` in a new thread (a threads-pool worker's): its own connections."""
    result: dict = {}

    def run() -> None:
        try:
            result["value"] = work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return result["value"]


def test_a_task_keeps_the_connection_until_it_is_older_than_conn_max_age(live_db, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)

    def work():
        connection.ensure_connection()
        first = connection.connection
        for _ in range(3):
            _task_runs()
        kept = connection.connection is first
        connection.close_at = time.monotonic() - 1  # as if 60 s had passed
        _task_runs()
        return kept, connection.connection is None

    assert _in_a_thread(work) == (True, True)


def test_with_conn_max_age_0_every_task_gets_a_fresh_connection(live_db, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)

    def work():
        connection.ensure_connection()
        _task_runs()
        return connection.connection is None

    assert _in_a_thread(work) is True


def test_a_task_run_inline_leaves_the_callers_connection_alone(live_db, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    eager = type("Eager", (), {"name": "tests.task", "request": SimpleNamespace(is_eager=True)})

    def work():
        connection.ensure_connection()
        signals.task_postrun.send(sender=eager, task_id="t", task=eager, args=(), kwargs={})
        return connection.connection is not None

    assert _in_a_thread(work) is True
