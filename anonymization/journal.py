"""The erasure journal: what was erased, kept outside the database (issue 10 item 7).

A restored database backup is as old as the backup, and so is its audit log: the record of
every anonymization and deletion since then is gone with it. The journal is that record,
appended to a file outside the database (``ERASURE_JOURNAL_DIR/erasure-journal.jsonl``),
one JSON line per erasure, and ``manage.py replay_erasures`` re-applies it after a restore.

A line holds ids, never personal data::

    {"v": 1, "n": 12, "prev": "<mac of line 11>", "tenant": 3, "slug": "nordljus",
     "kind": "anonymized", "model": "customers.Customer", "ids": [1042, 1043],
     "categories": ["addresses", "name", ...], "run": 7, "seq": 311,
     "at": "2026-11-30T21:40:00.123456+00:00", "mac": "<hmac>"}

``kind`` is ``anonymized`` (the erasure engine), ``deleted`` (mass deletion) or
``contact_erased`` (a contact person deleted for good); ``run`` the anonymization run,
``seq`` the audit event that recorded it (when there is one in the same transaction).
Like the audit checkpoints (``audit/anchor.py``, ADR 0006), every line carries an HMAC
keyed with ``AUDIT_CHAIN_KEY`` (a context string of its own) over the line and the MAC of
the line before it, and its line number: a forged, removed, inserted or reordered line is
reported by :func:`read_journal`.

A line is written only once the erasure's transaction has committed
(``transaction.on_commit``): a rolled-back chunk leaves none. Appends hold an exclusive
``flock``, write the line with one ``write()`` on an ``O_APPEND`` descriptor and ``fsync``;
each line also goes to the ``anonymization.journal`` logger, for shipped logs. An append
never refuses: losing the record of an erasure would be worse than a line after a damaged
one, which verification reports by its number anyway.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.anchor import _key, mac_matches
from tenancy.context import require_tenant

logger = logging.getLogger("anonymization.journal")

JOURNAL_MAC_CONTEXT = b"kundreg-erasure-journal-v1:"
JOURNAL_FILE = "erasure-journal.jsonl"
JOURNAL_VERSION = 1
FIRST_LINK = "0" * 64

ANONYMIZED = "anonymized"
DELETED = "deleted"
CONTACT_ERASED = "contact_erased"
KINDS = (ANONYMIZED, DELETED, CONTACT_ERASED)
_MODELS = {ANONYMIZED: "customers.Customer", DELETED: "customers.Customer"}

_FIELDS = {
    "v",
    "n",
    "prev",
    "tenant",
    "slug",
    "kind",
    "model",
    "ids",
    "categories",
    "run",
    "seq",
    "at",
    "mac",
}
_TAIL_BLOCK = 65536

__all__ = [
    "ANONYMIZED",
    "CONTACT_ERASED",
    "DELETED",
    "JournalEntry",
    "JournalError",
    "JournalLog",
    "journal_entries",
    "journal_path",
    "journal_record",
    "read_journal",
]


def journal_path() -> Path:
    return Path(settings.ERASURE_JOURNAL_DIR) / JOURNAL_FILE


def _line_mac(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != "mac"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(_key(), JOURNAL_MAC_CONTEXT + canonical, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class JournalEntry:
    """One recorded erasure, as verified."""

    line: int
    tenant_id: int
    slug: str
    kind: str
    model: str
    ids: tuple[int, ...]
    categories: tuple[str, ...] | None
    run_id: int | None
    audit_seq: int | None
    at: str  # ISO 8601, UTC

    @property
    def at_datetime(self):
        from datetime import datetime

        return datetime.fromisoformat(self.at)


@dataclass
class JournalLog:
    """What the journal file says, and what is wrong with it.

    ``entries`` holds every line whose MAC matches (in file order), also when the chain
    around it is broken; ``problems`` names each damaged line by its number.
    """

    path: Path
    exists: bool = False
    entries: list[JournalEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lines: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class JournalError(RuntimeError):
    """The journal is damaged: what it says cannot be trusted whole."""

    def __init__(self, log: JournalLog):
        self.log = log
        super().__init__(f"{log.path}: " + "; ".join(log.problems))


def _optional_int(value) -> bool:
    return value is None or type(value) is int


def _valid_shape(record: object) -> bool:
    if not isinstance(record, dict) or set(record) != _FIELDS:
        return False
    if not all(type(record[k]) is int for k in ("v", "n", "tenant")):
        return False
    if not all(isinstance(record[k], str) for k in ("prev", "slug", "kind", "model", "at", "mac")):
        return False
    if record["kind"] not in KINDS or not _optional_int(record["run"]):
        return False
    if not _optional_int(record["seq"]):
        return False
    ids, categories = record["ids"], record["categories"]
    if not isinstance(ids, list) or not all(type(i) is int for i in ids):
        return False
    return categories is None or (
        isinstance(categories, list) and all(isinstance(c, str) for c in categories)
    )


def _entry(record: dict, line: int) -> JournalEntry:
    categories = record["categories"]
    return JournalEntry(
        line=line,
        tenant_id=record["tenant"],
        slug=record["slug"],
        kind=record["kind"],
        model=record["model"],
        ids=tuple(record["ids"]),
        categories=tuple(categories) if categories is not None else None,
        run_id=record["run"],
        audit_seq=record["seq"],
        at=record["at"],
    )


def parse_journal(data: bytes, path: Path) -> JournalLog:
    log = JournalLog(path=path, exists=True)
    *lines, tail = data.split(b"\n")
    expected_n: int | None = 1
    prev: str | None = FIRST_LINK
    for number, raw in enumerate(lines, 1):
        try:
            record = json.loads(raw)
        except ValueError:
            record = None
        if not _valid_shape(record):
            log.problems.append(f"line {number}: unreadable")
            expected_n, prev = None, None
            continue
        if not mac_matches(_line_mac(record), record["mac"]):
            log.problems.append(
                f"line {number}: its keyed hash does not match (forged, or another key)"
            )
        else:
            if expected_n is not None and record["n"] != expected_n:
                log.problems.append(
                    f"line {number}: numbered {record['n']}, expected {expected_n} "
                    "(lines removed, added or reordered)"
                )
            elif prev is not None and record["prev"] != prev:
                log.problems.append(f"line {number}: link to the line before it broken")
            # Authentic (its MAC matches): what it records happened, damage around it or not.
            log.entries.append(_entry(record, number))
        expected_n, prev = record["n"] + 1, record["mac"]
    if tail:
        log.problems.append(
            f"line {len(lines) + 1}: incomplete (the file was cut off, or a write torn)"
        )
    log.lines = len(lines)
    return log


def read_journal(path: Path | None = None) -> JournalLog:
    """Read and check the journal (a missing file is an empty, intact journal)."""
    path = path or journal_path()
    try:
        with open(path, "rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH)  # no half-appended line
            data = fh.read()
    except FileNotFoundError:
        return JournalLog(path=path)
    return parse_journal(data, path)


def journal_entries(tenant=None, *, path: Path | None = None) -> list[JournalEntry]:
    """The verified entries (of ``tenant``, a Tenant or its id, when given), oldest first.

    Raises :class:`JournalError` when any line is damaged.
    """
    log = read_journal(path)
    if not log.ok:
        raise JournalError(log)
    if tenant is None:
        return list(log.entries)
    tenant_id = getattr(tenant, "pk", tenant)
    return [e for e in log.entries if e.tenant_id == tenant_id]


# --- Appending ----------------------------------------------------------------------


def _last_line(fh) -> tuple[bytes, bool]:
    """The file's last line (without its newline) and whether the file ends with one."""
    size = fh.seek(0, os.SEEK_END)
    if size == 0:
        return b"", True
    data = b""
    pos = size
    while pos > 0:
        step = min(_TAIL_BLOCK, pos)
        pos -= step
        fh.seek(pos)
        data = fh.read(step) + data
        body = data[:-1] if data.endswith(b"\n") else data
        if b"\n" in body or pos == 0:
            break
    complete = data.endswith(b"\n")
    body = data[:-1] if complete else data
    return body.rsplit(b"\n", 1)[-1], complete


def _link(fh) -> tuple[int, str, bool]:
    """(number of the next line, MAC to link it to, whether a newline must come first)."""
    last, complete = _last_line(fh)
    if not last:
        return 1, FIRST_LINK, False
    try:
        record = json.loads(last)
    except ValueError:
        record = None
    if complete and _valid_shape(record):
        return record["n"] + 1, record["mac"], False
    # A torn or unreadable last line: count the lines, end it, and go on after it (it
    # stays in the file, reported by its number).
    fh.seek(0)
    count = fh.read().count(b"\n")
    logger.error("erasure journal %s: its last line is damaged", fh.name)
    return count + (0 if complete else 1) + 1, "", not complete


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _append(entry: dict, path: Path | None = None) -> dict:
    path = path or journal_path()
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # one writer at a time: the lines form a chain
        if created:
            _fsync_dir(path.parent)
        n, prev, newline_first = _link(fh)
        record = {"v": JOURNAL_VERSION, "n": n, "prev": prev, **entry}
        record["mac"] = _line_mac(record)
        line = json.dumps(record, sort_keys=True, separators=(",", ":"))
        fh.write((b"\n" if newline_first else b"") + line.encode() + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    logger.info("erasure journal %s", line)  # a second copy, for whoever ships the logs
    return record


def journal_record(
    *,
    kind: str,
    ids: Iterable[int],
    categories: Iterable[str] | None = None,
    run_id: int | None = None,
    audit_seq: int | None = None,
    model: str | None = None,
) -> None:
    """Journal an erasure of the active tenant once the current transaction commits.

    Call it inside the erasure's transaction (right after its audit entry): a rollback
    leaves no line. Outside a transaction the line is written at once. A failure to write
    is logged (CRITICAL, with the line's content: ids only), never raised: the erasure
    itself has been committed by then.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown erasure kind {kind!r}; one of {KINDS}.")
    model = model or _MODELS.get(kind)
    if model is None:
        raise ValueError(f"Say which model a {kind!r} erasure erased.")
    tenant = require_tenant()
    entry = {
        "tenant": tenant.pk,
        "slug": tenant.slug,
        "kind": kind,
        "model": model,
        "ids": sorted({int(pk) for pk in ids}),
        "categories": sorted(categories) if categories is not None else None,
        "run": run_id,
        "seq": audit_seq,
        "at": timezone.now().isoformat(),
    }
    if not entry["ids"]:
        return

    def write() -> None:
        try:
            _append(entry)
        except Exception:
            logger.critical(
                "erasure journal: could not record %s; a restore would bring this back",
                json.dumps(entry, sort_keys=True),
                exc_info=True,
            )

    transaction.on_commit(write)
