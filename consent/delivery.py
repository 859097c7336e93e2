"""Sending consent requests and hearing back: the seam between consent/ and notifications/.

Outbound: :func:`request_dispatch` hands a new request to notifications.message_queue;
the raw token exists only at that moment, so the link is rendered into the message then.
Inbound: receivers of notifications' documented signals map delivery statuses onto the
request, and SMS replies (JA/YES, NEJ/NEI/NO, STOP) go to consent.replies, which finds the
request a reply answers by its reply code.
"""

from __future__ import annotations

import logging

from django.utils import formats, timezone
from django.utils.translation import override

from notifications.services import message_queue
from tenancy.context import require_tenant

from .models import ConsentRequest
from .replies import REPLIES, reply_context, reply_receive  # noqa: F401  (REPLIES: re-export)

logger = logging.getLogger(__name__)

REFERENCE_PREFIX = "consent_request:"

# The delivery statuses a consent request follows; "sending" says nothing new.
DELIVERY_STATUS = {
    "sent": "sent",
    "delivered": "delivered",
    "failed": "failed",
    "undelivered": "failed",
}


TEMPLATE = "consent_request"  # notifications/consent_request.<channel>.txt


def request_message_context(request: ConsentRequest, *, tenant, link: str) -> dict:
    """What the message of ``request`` says (also the set-based batch chunk's, so that the
    two cannot drift): an SMS request needs its reply code assigned already or assigns it."""
    with override(request.language):
        expires = formats.date_format(timezone.localtime(request.expires_at), "DATE_FORMAT")
    return {
        "name": request.customer.name,
        "tenant_name": tenant.name,
        "link": link,
        "expires": expires,
        **reply_context(request),  # SMS: "JA K7QX" / "NEJ K7QX" (consent.replies)
    }


def request_dispatch(request: ConsentRequest, *, link: str = "") -> None:
    """Queue the email or SMS for a new request (inside consent_request_create's transaction).

    A tenant without an SMS subscription gets notifications.SmsNotEnabled (a
    ValidationError), which rolls the request back: a clear error, never a silent skip.
    """
    message_queue(
        channel=request.channel,
        to=request.destination,
        language=request.language,
        template=TEMPLATE,
        context=request_message_context(request, tenant=require_tenant(), link=link),
        customer=request.customer,
        reference=f"{REFERENCE_PREFIX}{request.pk}",
    )
    if request.dispatch_ready_at is None:
        request.dispatch_ready_at = timezone.now()
        ConsentRequest.objects.filter(pk=request.pk).update(
            dispatch_ready_at=request.dispatch_ready_at
        )


def _request_id_of(message) -> int | None:
    reference = getattr(message, "reference", "") or ""
    if not reference.startswith(REFERENCE_PREFIX):
        return None
    pk = reference.removeprefix(REFERENCE_PREFIX)
    return int(pk) if pk.isdigit() else None


def on_message_status_changed(sender, message, old, new, **kwargs) -> None:
    # In every send's result transaction: one UPDATE, no read (consent_requests_mark_delivery).
    from .services import consent_requests_mark_delivery

    status = DELIVERY_STATUS.get(new)
    request_id = _request_id_of(message)
    if status and request_id is not None:
        consent_requests_mark_delivery(request_ids=[request_id], status=status)


def on_sms_received(
    sender, from_number, body, sender_key="", provider_message_id="", **kwargs
) -> None:
    """A customer's SMS (no tenant active): consent.replies finds the one request it
    answers by its reply code, or keeps it for a person to handle. YES grants, NO declines,
    STOP withdraws."""
    reply_receive(
        sender_key=sender_key,
        from_number=from_number,
        body=body,
        provider_message_id=provider_message_id,
    )
