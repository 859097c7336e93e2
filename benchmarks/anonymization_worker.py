"""A real Celery worker for the anonymization benchmark, started as a separate process.

    python -m benchmarks.anonymization_worker QUEUE

Environment: BENCH_DB_NAME (the benchmark's throwaway database), BENCH_READY_KEY (the Redis
key the ready task sets), and whatever the product's settings read (the benchmark passes
ANONYMIZATION_CHUNK_SIZE, DEBUG=false and empty outbox folders). Everything else is the
product's own code: the worker differs only in where the database lives and which queue it
serves. One prefork process: a run's chunks follow one another (each sends the next).
"""

from __future__ import annotations

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
django.setup()

from celery import shared_task  # noqa: E402
from django.conf import settings  # noqa: E402


@shared_task(name="benchmarks.anonymization_ready")
def ready() -> None:
    """Answered once the worker takes tasks: the run's clock starts after it."""
    from notifications.pacing import _redis

    _redis().set(os.environ["BENCH_READY_KEY"], "1", ex=3600)


def main(argv: list[str]) -> None:
    queue = argv[0]
    name = os.environ["BENCH_DB_NAME"]
    for alias in ("default", "owner"):
        settings.DATABASES[alias]["NAME"] = name
    from config.celery import app

    app.conf.task_default_queue = queue  # the next chunk goes where this one came from
    app.worker_main(
        [
            "worker",
            "--queues",
            queue,
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )


if __name__ == "__main__":
    main(sys.argv[1:])
