"""A real Celery worker for the benchmarks (and the pacing test), started as a separate process.

    python -m benchmarks.fanout_worker QUEUE CONCURRENCY [POOL]

POOL is ``prefork`` (default) or ``threads`` (the sending queue's pool). Environment:
BENCH_DB_NAME (the benchmark's throwaway database, or the test database), BENCH_TWILIO_URL
(the :class:`benchmarks.fake_twilio.FakeTwilioServer`, optional), BENCH_REDIS_COUNTER (the
key the no-op task counts in), BENCH_SETTINGS (optional JSON object of settings to set,
e.g. the test settings' SMS backend swapped for one another process can read).
Everything else is the product's own code and settings: the worker differs only in where
the database lives and where Twilio's API answers.
"""

from __future__ import annotations

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
django.setup()

from celery import shared_task  # noqa: E402
from django.conf import settings  # noqa: E402

TWILIO_API = "https://api.twilio.com"


@shared_task(name="benchmarks.noop")
def noop() -> None:
    """The baseline task: nothing but counting itself, so its throughput is Celery's own."""
    from notifications.pacing import _redis

    _redis().incr(os.environ["BENCH_REDIS_COUNTER"])


def _use_benchmark_database() -> None:
    name = os.environ["BENCH_DB_NAME"]
    for alias in ("default", "owner"):
        settings.DATABASES[alias]["NAME"] = name


def _apply_settings() -> None:
    for name, value in json.loads(os.environ.get("BENCH_SETTINGS") or "{}").items():
        setattr(settings, name, value)


def _point_twilio_at_fake() -> None:
    from twilio.http.http_client import TwilioHttpClient

    fake = os.environ.get("BENCH_TWILIO_URL")
    if not fake:
        return
    real_request = TwilioHttpClient.request

    def request(self, method, url, *args, **kwargs):
        return real_request(self, method, url.replace(TWILIO_API, fake), *args, **kwargs)

    TwilioHttpClient.request = request


def _profile_threads(path: str) -> None:
    """Profile every thread of the worker (cProfile is per thread); merged into ``path``
    (pstats) at exit. BENCH_PROFILE=path turns it on (bench_sending's BENCH_SENDING_PROFILE)."""
    import atexit
    import cProfile
    import pstats
    import threading
    import time

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start(*_args) -> None:
        # Called once in each new thread: from then on cProfile's hook replaces this one.
        # Timed by the thread's CPU clock: a thread waiting on a socket costs nothing.
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.enable()

    def dump() -> None:
        with lock:
            done = [p for p in profiles if p.getstats()]
        if done:
            stats = pstats.Stats(done[0])
            for profile in done[1:]:
                stats.add(profile)
            stats.dump_stats(path)

    threading.setprofile(start)
    start()
    atexit.register(dump)


def main(argv: list[str]) -> None:
    queue, concurrency = argv[0], argv[1]
    pool = argv[2] if len(argv) > 2 else "prefork"
    _use_benchmark_database()
    _apply_settings()
    _point_twilio_at_fake()
    if os.environ.get("BENCH_PROFILE"):
        _profile_threads(os.environ["BENCH_PROFILE"])
    from config.celery import app

    app.conf.task_default_queue = queue
    app.worker_main(
        [
            "worker",
            "--queues",
            queue,
            "--concurrency",
            concurrency,
            "--pool",
            pool,
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )


if __name__ == "__main__":
    main(sys.argv[1:])
