"""The real twilio library, faked only at its HTTP boundary (responses)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.utils import timezone

from notifications.models import OutboundMessage, Status
from notifications.sending import TransientSendError, message_send
from notifications.services import message_queue
from notifications.tasks import poll_pending_sms
from tenancy.context import tenant_context

from .conftest import (
    TWILIO_MESSAGES_URL,
    enable_sms,
    twilio_message_json,
    twilio_message_url,
)

SID = "SM" + "a" * 32


@pytest.fixture(autouse=True)
def _twilio_backend(settings):
    # The settings fixture, not override_settings: the two must not interleave.
    settings.SMS_BACKEND = "notifications.backends.twilio.TwilioBackend"


def _queue(personas, **settings_fields):
    enable_sms(personas.tenant_a, **settings_fields)
    with tenant_context(personas.tenant_a):
        return message_queue(
            channel="sms",
            to="+46701234567",
            language="sv",
            template="plain",
            context={"text": "Svara JA"},
            reference="consent_request:42",
        )


@responses.activate
def test_twilio_gets_the_form_the_library_sends(personas):
    responses.post(TWILIO_MESSAGES_URL, json=twilio_message_json(SID), status=201)
    message = _queue(personas)
    with tenant_context(personas.tenant_a):
        message_send(message_id=message.pk)
        message.refresh_from_db()
    assert len(responses.calls) == 1
    form = parse_qs(responses.calls[0].request.body)
    assert form["To"] == ["+46701234567"]
    assert form["Body"] == ["Svara JA"]
    assert form["MessagingServiceSid"] == ["MG00000000000000000000000000000000"]
    assert form["StatusCallback"] == ["http://127.0.0.1:8000/hooks/twilio/status/"]
    assert "From" not in form
    assert message.status == Status.SENT
    assert (message.provider, message.provider_id) == ("twilio", SID)


@responses.activate
def test_a_tenants_own_sender_is_used_as_from(personas):
    responses.post(TWILIO_MESSAGES_URL, json=twilio_message_json(SID), status=201)
    message = _queue(personas, sms_sender="+46700000001")
    with tenant_context(personas.tenant_a):
        message_send(message_id=message.pk)
    form = parse_qs(responses.calls[0].request.body)
    assert form["From"] == ["+46700000001"]
    assert "MessagingServiceSid" not in form


@responses.activate
@pytest.mark.parametrize("code", [21211, 21610])
def test_permanent_error_fails_at_once_with_the_code(personas, code):
    responses.post(
        TWILIO_MESSAGES_URL,
        json={"code": code, "message": "nope", "status": 400, "more_info": ""},
        status=400,
    )
    message = _queue(personas)
    with tenant_context(personas.tenant_a):
        message_send(message_id=message.pk)  # no exception: nothing to retry
        message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.error_code == str(code)
    assert message.failed_at is not None
    assert message.attempts == 1


@responses.activate
@pytest.mark.parametrize(
    "failure",
    [
        {"status": 429, "json": {"code": 20429, "message": "Too Many Requests", "status": 429}},
        {"status": 503, "json": {"code": 20500, "message": "down", "status": 503}},
        {"body": requests.ConnectionError("connection refused")},
        {"body": requests.ConnectTimeout("no connection within TWILIO_TIMEOUT_SECONDS")},
    ],
)
def test_transient_error_is_raised_for_a_retry(personas, failure):
    responses.post(TWILIO_MESSAGES_URL, **failure)
    message = _queue(personas)
    with tenant_context(personas.tenant_a):
        with pytest.raises(TransientSendError):
            message_send(message_id=message.pk)
        message.refresh_from_db()
    assert message.status == Status.QUEUED  # claimable again by the retry
    assert message.attempts == 1
    assert message.last_error


@responses.activate
def test_transient_errors_give_up_after_the_last_attempt(personas, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    responses.post(TWILIO_MESSAGES_URL, json={"code": 20500, "status": 503}, status=503)
    message = _queue(personas)
    with tenant_context(personas.tenant_a):
        with pytest.raises(TransientSendError):
            message_send(message_id=message.pk)
        message_send(message_id=message.pk)
        message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.attempts == 2


@responses.activate
def test_polling_moves_a_message_whose_callback_never_came(personas):
    responses.post(TWILIO_MESSAGES_URL, json=twilio_message_json(SID), status=201)
    responses.get(twilio_message_url(SID), json=twilio_message_json(SID, "delivered"))
    message = _queue(personas)
    with tenant_context(personas.tenant_a):
        message_send(message_id=message.pk)
        OutboundMessage.objects.filter(pk=message.pk).update(
            sent_at=timezone.now() - timedelta(minutes=30)
        )
    assert poll_pending_sms() == 1
    assert poll_pending_sms() == 0  # nothing left to ask about
    with tenant_context(personas.tenant_a):
        message.refresh_from_db()
        events = list(message.events.values_list("event_id", "payload"))
    assert message.status == Status.DELIVERED
    assert events == [(f"{SID}:delivered", {"source": "poll", "MessageStatus": "delivered"})]
    assert len([c for c in responses.calls if c.request.method == "GET"]) == 1


@responses.activate
def test_polling_leaves_recent_messages_alone(personas):
    responses.post(TWILIO_MESSAGES_URL, json=twilio_message_json(SID), status=201)
    message = _queue(personas)
    with tenant_context(personas.tenant_a):
        message_send(message_id=message.pk)
    assert poll_pending_sms() == 0
    assert [c.request.method for c in responses.calls] == ["POST"]


@responses.activate
def test_one_client_per_thread_with_a_timeout(personas, settings):
    """The client (and its HTTP session to Twilio) is reused between a thread's messages;
    another send thread (the sending queue's threads pool) has its own."""
    import threading

    from notifications.backends import twilio

    settings.TWILIO_TIMEOUT_SECONDS = 7.5
    responses.post(TWILIO_MESSAGES_URL, json=twilio_message_json(SID), status=201)
    responses.post(TWILIO_MESSAGES_URL, json=twilio_message_json("SM" + "b" * 32), status=201)
    first, second = _queue(personas), _queue(personas)
    with tenant_context(personas.tenant_a):
        message_send(message_id=first.pk)
        client = twilio._client()
        message_send(message_id=second.pk)
    assert twilio._client() is client
    assert client.http_client.timeout == 7.5
    assert len(responses.calls) == 2
    other = []
    thread = threading.Thread(target=lambda: other.append(twilio._client()))
    thread.start()
    thread.join()
    assert other[0] is not client
