"""Audit tasks: thin wrappers around audit.services."""

from __future__ import annotations

from celery import shared_task

from .services import audit_checkpoint_write


@shared_task(name="audit.write_checkpoints")
def write_checkpoints() -> dict:
    """Beat: anchor every tenant's chain head outside the database (config/celery.py).

    Idempotent: a head that has not moved gets no new line. A broken chain is logged as
    an error and left at its last good checkpoint; a damaged checkpoint file fails the
    task (audit.anchor.CheckpointFileError) until a person has looked at it.
    """
    run = audit_checkpoint_write()
    return {"written": len(run.written), "unchanged": run.unchanged, "refused": run.refused}
