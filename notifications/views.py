"""Provider webhooks: thin, fast, signature-checked. Unsigned or forged requests change nothing."""

from __future__ import annotations

import importlib
import logging

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from tenancy.context import tenant_context

from .backends.twilio import STATUS_MAP
from .models import OutboundMessage
from .selectors import inbound_sms_owner, route_tenant
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


@csrf_exempt
@require_POST
def twilio_inbound(request):
    if not _twilio_signed(request):
        return HttpResponseForbidden()
    from_number = request.POST.get("From", "")
    owner = inbound_sms_owner(from_number=from_number, to_number=request.POST.get("To", ""))
    if owner is None:
        logger.info("Inbound SMS %s matches no tenant", request.POST.get("MessageSid", ""))
    else:
        tenant, message_id = owner
        with tenant_context(tenant):
            message = OutboundMessage.objects.filter(pk=message_id).first()
            sms_received.send(
                sender=OutboundMessage,
                tenant=tenant,
                from_number=from_number,
                body=request.POST.get("Body", ""),
                message=message,
            )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def _anymail_view_class(esp: str):
    if esp not in settings.NOTIFICATIONS_ANYMAIL_ESPS:
        raise Http404
    from anymail.webhooks.base import AnymailBaseWebhookView

    module = importlib.import_module(f"anymail.webhooks.{esp}")
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, AnymailBaseWebhookView)
            and value.__name__.endswith("TrackingWebhookView")
            and value.__module__ == module.__name__
        ):
            return value
    raise Http404


_anymail_views: dict[str, object] = {}


@csrf_exempt
def anymail_tracking(request, esp: str):
    """Anymail's own view for the ESP (it checks the webhook secret and sends ``tracking``)."""
    view = _anymail_views.get(esp)
    if view is None:
        view = _anymail_views[esp] = _anymail_view_class(esp).as_view()
    return view(request)
