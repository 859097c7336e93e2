"""Provider callbacks: signed, idempotent, forward-only; forged ones change nothing."""

from __future__ import annotations

import base64
import json

from django.conf import settings
from django.test import Client
from twilio.request_validator import RequestValidator

from notifications.models import MessageEvent, OutboundMessage, ProviderRoute, Status
from notifications.sending import message_send
from notifications.services import message_queue
from notifications.signals import sms_received
from tenancy.context import current_tenant, tenant_context

from .conftest import enable_sms

STATUS_PATH = "/hooks/twilio/status/"
INBOUND_PATH = "/hooks/twilio/inbound/"


def _sign(path: str, params: dict, token: str | None = None) -> str:
    validator = RequestValidator(token or settings.TWILIO_AUTH_TOKEN)
    return validator.compute_signature(settings.SITE_URL + path, params)


def _post(path: str, params: dict, signature: str | None = None):
    headers = {} if signature is None else {"HTTP_X_TWILIO_SIGNATURE": signature}
    return Client().post(path, params, **headers)


def _sent_sms(tenant, to="+46701234567"):
    enable_sms(tenant)
    with tenant_context(tenant):
        message = message_queue(
            channel="sms", to=to, language="sv", template="plain", context={"text": "Hej"}
        )
        message_send(message_id=message.pk)
        message.refresh_from_db()
    return message


def _state(tenant, message):
    with tenant_context(tenant):
        message.refresh_from_db()
        return message.status, MessageEvent.objects.filter(message=message).count()


def _status_params(message, status: str, **extra) -> dict:
    return {
        "MessageSid": message.provider_id,
        "MessageStatus": status,
        "AccountSid": settings.TWILIO_ACCOUNT_SID,
        "To": message.destination,
        **extra,
    }


def _twilio_routed(personas):
    # The locmem provider id stands in for a Twilio SID: route it as twilio.
    message = _sent_sms(personas.tenant_a)
    with tenant_context(personas.tenant_a):
        OutboundMessage.objects.filter(pk=message.pk).update(provider="twilio")
    ProviderRoute.objects.filter(provider_id=message.provider_id).update(provider="twilio")
    return message


def test_signed_status_callback_moves_the_message(personas):
    message = _twilio_routed(personas)
    params = _status_params(message, "delivered")
    response = _post(STATUS_PATH, params, _sign(STATUS_PATH, params))
    assert response.status_code == 204
    assert _state(personas.tenant_a, message) == (Status.DELIVERED, 1)
    with tenant_context(personas.tenant_a):
        payload = MessageEvent.objects.get().payload
    assert "To" not in payload and payload["MessageStatus"] == "delivered"

    # The same callback again, then a late "sent": nothing changes.
    assert _post(STATUS_PATH, params, _sign(STATUS_PATH, params)).status_code == 204
    late = _status_params(message, "sent")
    assert _post(STATUS_PATH, late, _sign(STATUS_PATH, late)).status_code == 204
    assert _state(personas.tenant_a, message) == (Status.DELIVERED, 2)


def test_forged_or_unsigned_callbacks_are_refused_and_change_nothing(personas):
    message = _twilio_routed(personas)
    params = _status_params(message, "failed", ErrorCode="30003")
    assert _post(STATUS_PATH, params).status_code == 403
    assert _post(STATUS_PATH, params, _sign(STATUS_PATH, params, "wrong-token")).status_code == 403
    signed = _sign(STATUS_PATH, params)
    tampered = {**params, "MessageStatus": "undelivered"}
    assert _post(STATUS_PATH, tampered, signed).status_code == 403
    assert Client().get(STATUS_PATH).status_code == 405
    assert _state(personas.tenant_a, message) == (Status.SENT, 0)


def test_failed_callback_records_the_error_code(personas):
    message = _twilio_routed(personas)
    params = _status_params(message, "undelivered", ErrorCode="30003")
    assert _post(STATUS_PATH, params, _sign(STATUS_PATH, params)).status_code == 204
    with tenant_context(personas.tenant_a):
        message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.UNDELIVERED, "30003")


def test_unknown_message_is_answered_and_ignored(personas):
    params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    assert _post(STATUS_PATH, params, _sign(STATUS_PATH, params)).status_code == 204


def test_inbound_reply_is_handed_on_with_no_tenant(personas):
    # Whom it answers is the receiver's to find (consent.replies, by the reply code):
    # notifications/ no longer guesses "the tenant that wrote last".
    _sent_sms(personas.tenant_a, to="+46701234567")
    _sent_sms(personas.tenant_b, to="+46701234567")
    received = []

    def listener(sender, from_number, to_number, sender_key, body, provider_message_id, **kw):
        received.append((current_tenant(), from_number, to_number, sender_key, body))

    sms_received.connect(listener)
    try:
        params = {
            "MessageSid": "SMin",
            "From": "+46701234567",
            "To": "+46769000000",
            "Body": "JA K7QX",
            "MessagingServiceSid": settings.TWILIO_MESSAGING_SERVICE_SID,
        }
        assert _post(INBOUND_PATH, params).status_code == 403
        response = _post(INBOUND_PATH, params, _sign(INBOUND_PATH, params))
        own = {**params, "To": "+4759000001"}
        del own["MessagingServiceSid"]
        _post(INBOUND_PATH, own, _sign(INBOUND_PATH, own))
    finally:
        sms_received.disconnect(listener)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert received == [
        (None, "+46701234567", "+46769000000", "", "JA K7QX"),
        (None, "+46701234567", "+4759000001", "+4759000001", "JA K7QX"),
    ]


def _anymail_email(personas, provider_id="pm-1"):
    with tenant_context(personas.tenant_a):
        message = message_queue(
            channel="email",
            to="kund@example.test",
            language="sv",
            template="plain",
            context={"text": "x", "subject_text": "y"},
        )
        message_send(message_id=message.pk)
        OutboundMessage.objects.filter(pk=message.pk).update(
            provider="anymail:postmark", provider_id=provider_id
        )
    ProviderRoute.objects.filter(message_id=message.pk).update(
        provider="anymail:postmark", provider_id=provider_id
    )
    return message


def _postmark(payload: dict, auth: str | None = "hookuser:hookpass"):
    headers = {}
    if auth:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return Client().post(
        "/hooks/anymail/postmark/tracking/",
        json.dumps(payload),
        content_type="application/json",
        **headers,
    )


def test_anymail_tracking_moves_the_email_once(personas):
    message = _anymail_email(personas)
    delivery = {
        "RecordType": "Delivery",
        "MessageID": "pm-1",
        "Recipient": "kund@example.test",
        "DeliveredAt": "2026-11-23T12:00:00Z",
        "Details": "",
        "Tag": "",
        "ServerID": 1,
        "Metadata": {},
    }
    assert _postmark(delivery, auth=None).status_code in (400, 401, 403)
    assert _postmark(delivery, auth="hookuser:wrong").status_code in (400, 401, 403)
    assert _state(personas.tenant_a, message) == (Status.SENT, 0)
    assert _postmark(delivery).status_code == 200
    assert _postmark(delivery).status_code == 200
    assert _state(personas.tenant_a, message) == (Status.DELIVERED, 1)
    with tenant_context(personas.tenant_a):
        payload = MessageEvent.objects.get().payload
    assert "kund@example.test" not in json.dumps(payload)


def test_unknown_esp_is_404(personas):
    assert Client().post("/hooks/anymail/nosuchesp/tracking/").status_code == 404
