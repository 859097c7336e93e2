"""Is this host's Celery worker alive? For the worker container's healthcheck.

Pings one node through Celery's control API (over the broker) and waits at most --timeout
seconds for its pong: exit 0 when it answered, 1 when it did not or the broker is down.
The node defaults to Celery's default name on this host, celery@<hostname>, the name
`celery -A config worker` gives itself in its container.
"""

from __future__ import annotations

import sys

from celery.utils.nodenames import default_nodename
from django.core.management.base import BaseCommand

from config.celery import app


class Command(BaseCommand):
    help = "Ping this host's Celery worker; exit 0 if it answers within --timeout, else 1."
    # A healthcheck every 30 s: no system checks (they are web's start, not the worker's).
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--node",
            default=None,
            help="the worker's node name (default: celery@<this host's name>)",
        )
        parser.add_argument(
            "--timeout", type=float, default=5.0, help="seconds to wait for the answer"
        )

    def handle(self, *args, node=None, timeout=5.0, **options):
        node = node or default_nodename(None)
        try:
            replies = app.control.ping(destination=[node], timeout=timeout)
        except Exception as exc:  # broker unreachable, …
            self.stderr.write(f"{node}: no answer ({type(exc).__name__}: {exc})")
            sys.exit(1)
        if not any(node in reply and reply[node].get("ok") == "pong" for reply in replies):
            self.stderr.write(f"{node}: no answer within {timeout:g} s")
            sys.exit(1)
        self.stdout.write(f"{node}: pong")
