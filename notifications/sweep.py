"""The periodic sweep: no message is left queued with no task, or sending with no worker.

A task can be lost (a broker without persistence restarted, a worker killed before it
acknowledged); a claimed send can be cut off between the provider's answer and our
record of it. The sweep runs every minute per tenant (tasks.sweep):

- a message ``queued`` for longer than ``NOTIFICATIONS_SWEEP_AFTER_SECONDS`` past its
  due time gets a new send task (a duplicate finds nothing to claim, so it is harmless);
- a message ``sending`` whose claim is older than ``NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS``
  is reconciled with the provider (sending.message_reconcile), never sent blindly.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import OutboundMessage, Status
from .sending import message_reconcile, stale_claim_age

# At most this many of each kind per tenant and run; the next run takes the rest.
SWEEP_LIMIT = 1000


def message_sweep() -> dict[str, int]:
    """Sweep the active tenant's messages; returns counts (requeued, reconciled, ...)."""
    from .tasks import send_message

    now = timezone.now()
    grace = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS)
    stranded = list(
        OutboundMessage.objects.filter(status=Status.QUEUED)
        .annotate(due=Coalesce("next_attempt_at", "queued_at", "created_at"))
        .filter(due__lt=now - grace)
        .order_by("due")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    # Re-enqueued once per grace period, not once a minute, while it waits in a long queue.
    OutboundMessage.objects.filter(pk__in=stranded, status=Status.QUEUED).update(
        queued_at=now, next_attempt_at=None
    )
    for pk in stranded:
        send_message.enqueue(pk)
    counts = {"requeued": len(stranded), "sent": 0, "queued": 0, "uncertain": 0}
    stale = OutboundMessage.objects.filter(
        Q(claimed_at__lt=now - stale_claim_age()) | Q(claimed_at=None), status=Status.SENDING
    ).order_by("claimed_at")[:SWEEP_LIMIT]
    for message in stale:
        outcome = message_reconcile(message=message, reason="The worker sending it stopped")
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == Status.QUEUED:
            send_message.enqueue(message.pk)
    return counts
