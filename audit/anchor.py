"""Anchoring the audit chain outside the database (docs/adr/0006-audit-chain-anchoring.md).

The hash chain alone proves nothing against someone who can write the table: they can
delete its newest events, or rewrite a row and recompute every later hash. Two anchors
close that, both keyed with ``AUDIT_CHAIN_KEY``, which lives in the application's
environment and never in the database:

- every event carries ``mac``, an HMAC over its chain hash (:func:`event_mac`), so a
  rewritten chain no longer verifies without the key;
- head checkpoints: per tenant and chain, the last sequence number, its hash, the count
  and the time, appended to a file outside the database (``AUDIT_CHECKPOINT_DIR``). Each line
  carries an HMAC and the HMAC of the line before it, so a forged, removed or cut-off
  line is itself reported. A chain shorter than its last checkpoint, or different at
  the checkpointed position, has been tampered with.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("audit.checkpoints")

# Domain separation: an event's MAC can never pass for a checkpoint line's, or back.
EVENT_MAC_CONTEXT = b"kundreg-audit-event-v1:"
CHECKPOINT_MAC_CONTEXT = b"kundreg-audit-checkpoint-v1:"
CHECKPOINT_FILE = "audit-checkpoints.jsonl"
# Version 2 lines name the chain (a tenant's log is several chains, audit/services.py);
# version 1 lines, written when there was one chain per tenant, are chain 0's.
CHECKPOINT_VERSION = 2
FIRST_LINK = "0" * 64
_FIELDS_V1 = {"v", "n", "prev", "tenant", "seq", "event", "hash", "count", "at", "mac"}
_FIELDS = {1: _FIELDS_V1, 2: _FIELDS_V1 | {"chain"}}


def _key() -> bytes:
    key = getattr(settings, "AUDIT_CHAIN_KEY", "")
    if not key:
        raise ImproperlyConfigured("AUDIT_CHAIN_KEY is not set.")
    return key.encode()


def event_mac(chain_hash: str) -> str:
    """The keyed hash of one event: an HMAC over its chain hash (which covers the rest)."""
    return hmac.new(_key(), EVENT_MAC_CONTEXT + chain_hash.encode(), hashlib.sha256).hexdigest()


def mac_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), (given or "").encode())


def _line_mac(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != "mac"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(_key(), CHECKPOINT_MAC_CONTEXT + canonical, hashlib.sha256).hexdigest()


def checkpoint_path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR) / CHECKPOINT_FILE


@dataclass(frozen=True)
class Checkpoint:
    """The head of one of a tenant's chains as it stood at ``at``."""

    tenant_id: int
    seq: int
    event_id: int
    head_hash: str
    count: int
    at: str  # ISO 8601, UTC
    line: int
    chain: int = 0


@dataclass
class CheckpointLog:
    """What the checkpoint file says, and what is wrong with it."""

    path: Path
    exists: bool = False
    latest: dict[tuple[int, int], Checkpoint] = field(default_factory=dict)  # (tenant, chain)
    problems: list[str] = field(default_factory=list)
    lines: int = 0
    last_mac: str = FIRST_LINK

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def tenants(self) -> set[int]:
        return {tenant for tenant, _chain in self.latest}

    def heads(self, tenant_id: int) -> dict[int, Checkpoint]:
        """The tenant's last checkpoint of each of its chains, by chain."""
        return {chain: c for (tenant, chain), c in self.latest.items() if tenant == tenant_id}


class CheckpointFileError(RuntimeError):
    """The checkpoint file is damaged: nothing is appended to it until a person looks."""

    def __init__(self, log: CheckpointLog):
        self.log = log
        super().__init__(f"{log.path}: " + "; ".join(log.problems))


def _valid_shape(record: object) -> bool:
    if not isinstance(record, dict) or type(record.get("v")) is not int:
        return False
    if set(record) != _FIELDS.get(record["v"]):
        return False
    ints = ("v", "n", "tenant", "seq", "event", "count", *(("chain",) if "chain" in record else ()))
    strs = ("prev", "hash", "at", "mac")
    return all(type(record[k]) is int for k in ints) and all(
        isinstance(record[k], str) for k in strs
    )


def parse_checkpoints(data: bytes, path: Path) -> CheckpointLog:
    log = CheckpointLog(path=path, exists=True)
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
        elif expected_n is not None and record["n"] != expected_n:
            log.problems.append(
                f"line {number}: numbered {record['n']}, expected {expected_n} "
                "(lines removed, added or reordered)"
            )
        elif prev is not None and record["prev"] != prev:
            log.problems.append(f"line {number}: link to the line before it broken")
        else:
            checkpoint = Checkpoint(
                tenant_id=record["tenant"],
                seq=record["seq"],
                event_id=record["event"],
                head_hash=record["hash"],
                count=record["count"],
                at=record["at"],
                line=number,
                chain=record.get("chain", 0),
            )
            key = (checkpoint.tenant_id, checkpoint.chain)
            earlier = log.latest.get(key)
            if earlier is not None and checkpoint.seq < earlier.seq:
                log.problems.append(
                    f"line {number}: tenant #{checkpoint.tenant_id} chain {checkpoint.chain} "
                    f"goes back from #{earlier.seq} to #{checkpoint.seq}"
                )
            else:
                log.latest[key] = checkpoint
        expected_n, prev = record["n"] + 1, record["mac"]
    if tail:
        log.problems.append(
            f"line {len(lines) + 1}: incomplete (the file was cut off, or a write torn)"
        )
    log.lines = len(lines)
    log.last_mac = prev or ""
    return log


def read_checkpoints(path: Path | None = None) -> CheckpointLog:
    """Read and check the checkpoint file (a missing file is an empty, intact log)."""
    path = path or checkpoint_path()
    try:
        with open(path, "rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH)  # no half-appended batch
            data = fh.read()
    except FileNotFoundError:
        return CheckpointLog(path=path)
    return parse_checkpoints(data, path)


class CheckpointWriter:
    """Collects checkpoint lines; :func:`checkpoint_writer` appends them in one write."""

    def __init__(self, log: CheckpointLog):
        self.log = log
        self.pending: list[dict] = []

    def add(
        self,
        *,
        tenant_id: int,
        seq: int,
        event_id: int,
        head_hash: str,
        at: datetime,
        chain: int = 0,
    ) -> Checkpoint:
        record = {
            "v": CHECKPOINT_VERSION,
            "n": self.log.lines + len(self.pending) + 1,
            "prev": self.pending[-1]["mac"] if self.pending else self.log.last_mac,
            "tenant": tenant_id,
            "chain": chain,
            "seq": seq,
            "event": event_id,
            "hash": head_hash,
            "count": seq,  # sequence numbers run 1, 2, 3, … without gaps
            "at": at.isoformat(),
        }
        record["mac"] = _line_mac(record)
        self.pending.append(record)
        return Checkpoint(
            tenant_id, seq, event_id, head_hash, seq, record["at"], record["n"], chain
        )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def checkpoint_writer(path: Path | None = None) -> Iterator[CheckpointWriter]:
    """Hold the file's lock, hand over what it says, append the new lines on exit.

    Refuses (:class:`CheckpointFileError`) while the file is damaged: appending would
    bury the evidence under lines that look good.
    """
    path = path or checkpoint_path()
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # one writer at a time: the lines form a chain
        if created:
            _fsync_dir(path.parent)
        fh.seek(0)
        log = parse_checkpoints(fh.read(), path)
        if not log.ok:
            raise CheckpointFileError(log)
        writer = CheckpointWriter(log)
        yield writer
        if not writer.pending:
            return
        lines = [json.dumps(r, sort_keys=True, separators=(",", ":")) for r in writer.pending]
        fh.write("".join(line + "\n" for line in lines).encode())
        fh.flush()
        os.fsync(fh.fileno())
    # A second copy off this host, for whoever ships the logs.
    for line in lines:
        logger.info("audit checkpoint %s", line)
