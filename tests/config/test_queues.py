"""Every task goes to a queue some worker consumes: `make run`'s one worker, compose's per queue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from config.celery import DEFAULT_QUEUE, LEGACY_QUEUE, QUEUES, TASK_QUEUES, app, route_task

BASE_DIR = Path(__file__).resolve().parents[2]


def _queues_option(command: list[str] | str) -> set[str]:
    parts = command.split() if isinstance(command, str) else [str(p) for p in command]
    for flag in ("--queues", "-Q"):
        if flag in parts:
            return set(parts[parts.index(flag) + 1].split(","))
    return {LEGACY_QUEUE}  # Celery's own default when no queue is named


def _procfile_workers() -> dict[str, str]:
    """`make run`'s Celery workers: Procfile process name → command."""
    lines = re.findall(r"^(\w+):(.*)$", (BASE_DIR / "Procfile").read_text(), re.M)
    return {name: command for name, command in lines if "celery -A config worker" in command}


def _procfile_worker_queues() -> set[str]:
    workers = _procfile_workers()
    assert workers, "Procfile has no worker"
    return set().union(*(_queues_option(command) for command in workers.values()))


def _pool_option(command: list[str] | str) -> str:
    parts = command.split() if isinstance(command, str) else [str(p) for p in command]
    for flag in ("--pool", "-P"):
        if flag in parts:
            return parts[parts.index(flag) + 1]
    return "prefork"


def _compose_workers() -> dict[str, list[str]]:
    services = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]
    return {
        name: spec["command"]
        for name, spec in services.items()
        if " ".join(map(str, spec.get("command", []))).startswith("celery -A config worker")
    }


def _compose_queues() -> dict[str, set[str]]:
    return {name: _queues_option(command) for name, command in _compose_workers().items()}


@pytest.fixture
def product_routing(monkeypatch):
    """Routes as a deployment has them (the tests' own default queue takes everything)."""
    monkeypatch.setitem(app.conf, "task_default_queue", LEGACY_QUEUE)


def _registered_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_every_task_routes_to_a_queue_the_run_worker_and_compose_consume(product_routing):
    procfile = _procfile_worker_queues()
    compose = set().union(*_compose_queues().values())
    tasks = _registered_tasks()
    assert "notifications.send_message" in tasks
    for name in tasks:
        queue = route_task(name, (), {}, {})["queue"]
        assert queue in QUEUES, name
        assert queue in procfile, f"{name} -> {queue}: make run's worker does not consume it"
        assert queue in compose, f"{name} -> {queue}: no compose worker consumes it"


def test_the_routes_name_registered_tasks_only():
    assert set(TASK_QUEUES) <= set(_registered_tasks())


def test_make_run_has_a_worker_for_every_queue_including_the_old_default():
    assert _procfile_worker_queues() == {*QUEUES, LEGACY_QUEUE}


def test_sends_run_on_a_threads_pool_everything_else_on_prefork():
    """Sends wait on providers (I/O): threads; the rest is CPU-bound work: processes."""
    workers = {**_procfile_workers(), **_compose_workers()}
    for name, command in workers.items():
        queues = _queues_option(command)
        expected = "threads" if queues == {"sending"} else "prefork"
        assert "sending" not in queues or queues == {"sending"}, name
        assert _pool_option(command) == expected, name


def test_compose_has_a_worker_service_per_queue():
    services = _compose_queues()
    assert services["worker"] == {DEFAULT_QUEUE, LEGACY_QUEUE}
    for queue in set(QUEUES) - {DEFAULT_QUEUE}:
        assert services[f"worker-{queue}"] == {queue}


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("notifications.send_message", "sending"),
        ("notifications.send_messages", "sending"),
        ("consent.batch_work", "batches"),
        ("anonymization.run_work", "anonymization"),
        ("anonymization.deletion_work", "anonymization"),
        ("reports.export_job_work", "exports"),
        ("notifications.sweep", DEFAULT_QUEUE),
        ("tenancy.tasks.heartbeat", DEFAULT_QUEUE),
    ],
)
def test_routes(product_routing, task, queue):
    assert route_task(task, (), {}, {})["queue"] == queue


def test_a_run_with_its_own_default_queue_keeps_every_task(settings):
    """Tests and benchmarks serve one queue of their own: no task may leave it."""
    own = app.conf.task_default_queue
    assert own == settings.CELERY_TASK_DEFAULT_QUEUE and own not in QUEUES
    for name in _registered_tasks():
        assert route_task(name, (), {}, {})["queue"] == own
