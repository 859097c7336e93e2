"""Connections beside Django's, for tests that must look at the database from outside.

The owner role (what migrations run as; row security still applies to it) and the
embedded server's superuser (row security does not; skipped on an external server).
"""

from __future__ import annotations

from contextlib import contextmanager

import psycopg
import pytest
from django.conf import settings


def owner_conninfo(dbname: str | None = None) -> str:
    cfg = settings.DATABASES["owner"]
    return psycopg.conninfo.make_conninfo(
        dbname=dbname or cfg["NAME"],
        user=cfg["USER"],
        password=cfg.get("PASSWORD") or None,
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
    )


def superuser_conninfo(dbname: str = "postgres") -> str:
    from config.embedded import SUPERUSER

    cfg = settings.DATABASES["owner"]
    return psycopg.conninfo.make_conninfo(
        dbname=dbname, user=SUPERUSER, host=cfg.get("HOST") or None, port=cfg.get("PORT")
    )


@contextmanager
def superuser(dbname: str = "postgres"):
    """An autocommit connection as the embedded server's superuser, or the test skips."""
    try:
        conn = psycopg.connect(superuser_conninfo(dbname), autocommit=True)
    except psycopg.OperationalError as exc:  # an external server: no superuser to borrow
        pytest.skip(f"needs the embedded server's superuser: {exc}")
    with conn:
        yield conn
