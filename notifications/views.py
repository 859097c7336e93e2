"""Provider webhooks: thin, fast, signature-checked. Unsigned or forged requests change nothing."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from tenancy.context import tenant_context

from .backends.twilio import STATUS_MAP
from .esp import tracking_view
from .models import OutboundMessage
from .selectors import inbound_sender_key, route_tenant
from .services import message_status_update
from .signals import sms_received

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _twilio_signed(request) -> bool:
    """X-Twilio-Signature over the public URL (SITE_URL: we may sit behind a proxy)."""
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.TWILIO_AUTH_TOKEN
    if not signature or not token:
        return False
    url = settings.SITE_URL + request.get_full_path()
    return RequestValidator(token).validate(url, request.POST, signature)


@csrf_exempt
@require_POST
def twilio_status(request):
    if not _twilio_signed(request):
        return HttpResponseForbidden()
    sid = request.POST.get("MessageSid", "")
    twilio_status_value = request.POST.get("MessageStatus", "")
    status = STATUS_MAP.get(twilio_status_value)
    if not sid or status is None:
        return HttpResponse(status=204)  # queued/accepted/...: nothing to record
    tenant = route_tenant(provider="twilio", provider_id=sid)
    if tenant is None:
        # Not (yet) ours: the send may not have committed; polling picks it up later.
        logger.info("Twilio status for unknown message %s", sid)
        return HttpResponse(status=204)
    with tenant_context(tenant):
        message_status_update(
            provider="twilio",
            provider_id=sid,
            status=status,
            event_id=f"{sid}:{twilio_status_value}",
            payload=request.POST.dict(),
            error_code=request.POST.get("ErrorCode", ""),
        )
    return HttpResponse(status=204)


def _posted(request, name: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL, and no field of ours is longer than ``limit``.
    return request.POST.get(name, "").replace("\x00", "")[:limit]


@csrf_exempt
@require_POST
def twilio_inbound(request):
    """A customer's SMS to one of our numbers, handed on (``sms_received``) with no tenant.

    Which tenant, and which of its requests, it answers is for the receiver to find from
    the sender written to, the customer's number and the reply code in the text (consent:
    consent.replies); never "whoever wrote to this number last": a shared sender serves
    many tenants.
    """
    if not _twilio_signed(request):
        return HttpResponseForbidden()
    to_number = _posted(request, "To", 40)
    sms_received.send(
        sender=OutboundMessage,
        from_number=_posted(request, "From", 40),
        to_number=to_number,
        sender_key=inbound_sender_key(
            to_number=to_number,
            messaging_service_sid=_posted(request, "MessagingServiceSid", 64),
        ),
        body=_posted(request, "Body", 1600),
        provider_message_id=_posted(request, "MessageSid", 64),
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
def anymail_tracking(request, esp: str):
    """The configured ESP's tracking webhook (notifications/esp.py); any other is a 404.

    So is the configured one until its webhook secret (and signing key) is set: it fails
    closed. Anymail's view then checks them and sends its ``tracking`` signal.
    """
    view = tracking_view(esp)
    if view is None:
        raise Http404
    return view(request)
