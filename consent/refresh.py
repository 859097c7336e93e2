"""'Update consent' (Avance: Uppdatera samtycke): bring pending consent requests up to date now.

Expires the open requests past their expiry and asks the SMS provider, through the
configured SMS backend, for the current status of the messages of the requests still
open, instead of waiting for a late callback or the periodic poll. The status moves
through notifications' own ``message_poll`` (the periodic poll's step: idempotent per
event id, forward only), whose signal reaches ``consent.delivery`` like a callback would.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from audit.actors import Actor
from audit.services import audit_record
from notifications.backends import get_sms_backend
from notifications.models import Channel as MessageChannel
from notifications.models import OutboundMessage, Status
from notifications.services import message_poll
from tenancy.context import require_tenant

from .delivery import REFERENCE_PREFIX
from .models import OPEN_STATUSES, ConsentRequest
from .services import consent_request_expire


@dataclass(frozen=True)
class RefreshResult:
    expired: int = 0  # open requests marked expired
    polled: int = 0  # outbound SMS whose status the provider was asked for


def _messages_to_poll(pending, *, provider: str, customer_ids: list[int] | None, now):
    """The SMS of still-open requests that the provider took and has not reported final."""
    messages = OutboundMessage.objects.filter(
        reference__startswith=REFERENCE_PREFIX,
        channel=MessageChannel.SMS,
        provider=provider,
        status__in=[Status.SENDING, Status.SENT],
    ).exclude(provider_id="")
    if customer_ids is not None:
        messages = messages.filter(customer_id__in=customer_ids)
    by_request: dict[int, list[OutboundMessage]] = {}
    for message in messages.order_by("pk"):
        pk = message.reference.removeprefix(REFERENCE_PREFIX)
        if pk.isdigit():
            by_request.setdefault(int(pk), []).append(message)
    still_open = pending.filter(pk__in=list(by_request), expires_at__gt=now)
    return [m for pk in sorted(still_open.values_list("pk", flat=True)) for m in by_request[pk]]


def consent_refresh(*, actor: Actor, customer_ids: Iterable[int] | None = None) -> RefreshResult:
    """Refresh the pending requests of ``customer_ids`` (None: every customer of the tenant).

    Safe to run twice: an expired request is not expired again and a status already
    recorded is not recorded again. Not one transaction on purpose: each expiry and
    each status is committed by its own service, and the provider is asked over the
    network between them.
    """
    require_tenant()
    ids = None if customer_ids is None else sorted({int(pk) for pk in customer_ids})
    pending = ConsentRequest.objects.filter(status__in=OPEN_STATUSES)
    if ids is not None:
        pending = pending.filter(customer_id__in=ids)
    now = timezone.now()
    expired = 0
    for request in list(pending.filter(expires_at__lte=now).select_related("customer")):
        if consent_request_expire(request=request, actor=actor):
            expired += 1
    polled = 0
    backend = get_sms_backend()
    for message in _messages_to_poll(pending, provider=backend.provider, customer_ids=ids, now=now):
        message_poll(message=message, backend=backend)
        polled += 1
    audit_record(
        action="consent.refreshed",
        actor=actor,
        object_type="consent.requests",
        data={
            "scope": "tenant" if ids is None else "customers",
            "customers": None if ids is None else len(ids),
            "expired": expired,
            "polled": polled,
        },
    )
    return RefreshResult(expired=expired, polled=polled)
