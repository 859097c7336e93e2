"""Erasure: the local outboxes forget the messages of an erased person; events' payloads.

The file backends (development: ``SMS_FILE_PATH``, Django's ``EMAIL_FILE_PATH``) and the
locmem ones (tests) keep a copy of every message sent; a real provider keeps its own,
which its retention settings govern. Registered in ``notifications/pii.py`` and run by the
erasure engine after its transaction commits. Messages are found by our key
(``sending.message_key``), which the SMS record stores and the email carries as its
Message-ID.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.core import mail

# Django's file email backend ends every message with this line.
_EMAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def outbox_forget(pks: list[int], tenant_id: int) -> int:
    """Remove the outbox copies of messages ``pks``; return how many were removed."""
    from .backends import locmem
    from .sending import _message_id_header, message_key

    messages = [SimpleNamespace(pk=pk, tenant_id=tenant_id) for pk in pks]
    keys = {message_key(m) for m in messages}
    msgids = {_message_id_header(m) for m in messages}
    removed = 0

    before = len(locmem.outbox)
    locmem.outbox[:] = [m for m in locmem.outbox if m.get("key") not in keys]
    removed += before - len(locmem.outbox)

    outbox = getattr(mail, "outbox", None)
    if outbox is not None:
        before = len(outbox)
        outbox[:] = [m for m in outbox if m.extra_headers.get("Message-ID") not in msgids]
        removed += before - len(outbox)

    folder = Path(getattr(settings, "SMS_FILE_PATH", "") or "")
    if str(folder) not in ("", ".") and folder.is_dir():
        for path in folder.glob("*.json"):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if record.get("key") in keys:
                path.unlink(missing_ok=True)
                removed += 1

    folder = Path(getattr(settings, "EMAIL_FILE_PATH", "") or "")
    if str(folder) not in ("", ".") and folder.is_dir():
        needles = [f"Message-ID: {msgid}".encode() for msgid in msgids]
        for path in folder.glob("*.log"):
            removed += _forget_in_log(path, needles)
    return removed


def event_scrub(pks: list[int]) -> int:
    """Empty the payloads of message events ``pks`` (append-only: through SQL)."""
    from django.db import connection

    if not pks:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT notifications_event_scrub(%s::bigint[])", [list(pks)])
        return cursor.fetchone()[0]


def _forget_in_log(path: Path, needles: list[bytes]) -> int:
    data = path.read_bytes()
    if not any(n in data for n in needles):
        return 0
    entries = data.split(_EMAIL_SEPARATOR)
    kept = [e for e in entries if not any(n in e for n in needles)]
    removed = len(entries) - len(kept)
    rest = _EMAIL_SEPARATOR.join(kept)
    if not rest.strip():
        path.unlink(missing_ok=True)
        return removed
    partial = path.with_suffix(".part")
    partial.write_bytes(rest)
    os.replace(partial, path)
    return removed
