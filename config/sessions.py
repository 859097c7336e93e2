"""Django's database sessions, where a cookie can only name a key Django could have made.

Django checks a session cookie's length, not its characters: a NUL in it (sent quoted,
``"\\000"``) reached the session query and PostgreSQL refused it, a 500 on every page.
Such a cookie now names no session, like any other unknown one.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

_KEY_CHARS = frozenset(VALID_KEY_CHARS)


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        return super()._validate_session_key(key) and set(key) <= _KEY_CHARS
