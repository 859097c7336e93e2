"""Queueing, sending once, forward-only statuses, signals, SmsNotEnabled, tenant isolation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from anonymization.registry import unclassified_fields
from notifications.backends import locmem
from notifications.models import MessageEvent, OutboundMessage, ProviderRoute, Status
from notifications.selectors import route_tenant
from notifications.sending import message_send
from notifications.services import (
    SmsNotEnabled,
    message_queue,
    message_status_update,
)
from notifications.signals import message_status_changed
from tenancy.context import tenant_context

from .conftest import enable_sms


def _queue_sms(text="Hej!", to="+46701234567", **kw):
    return message_queue(
        channel="sms",
        to=to,
        language="sv",
        template="plain",
        context={"text": text},
        reference="test:1",
        **kw,
    )


def test_sms_needs_the_tenants_subscription(personas):
    with tenant_context(personas.tenant_a):
        with pytest.raises(SmsNotEnabled) as info:
            _queue_sms()
        assert isinstance(info.value, ValidationError)
        assert "SMS is not enabled" in info.value.messages[0]
        assert OutboundMessage.objects.count() == 0


def test_email_is_rendered_and_queued(personas):
    with tenant_context(personas.tenant_a):
        message = message_queue(
            channel="email",
            to="kund@example.test",
            language="sv",
            template="plain",
            context={"text": "Brödtext", "subject_text": "Ämne  här\n"},
        )
        message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.body == "Brödtext"
    assert message.subject == "Ämne här"
    assert message.queued_at is not None


def test_a_message_is_sent_once_however_often_the_task_runs(personas):
    enable_sms(personas.tenant_a)
    with tenant_context(personas.tenant_a):
        message = _queue_sms()
        message_send(message_id=message.pk)
        message_send(message_id=message.pk)
        message.refresh_from_db()
    assert len(locmem.outbox) == 1
    assert locmem.outbox[0]["to"] == "+46701234567"
    assert locmem.outbox[0]["status_callback"].endswith("/hooks/twilio/status/")
    assert message.status == Status.SENT
    assert message.attempts == 1
    assert message.provider == "locmem" and message.provider_id == locmem.outbox[0]["id"]
    assert route_tenant(provider="locmem", provider_id=message.provider_id) == personas.tenant_a


def _sent_message(personas):
    enable_sms(personas.tenant_a)
    with tenant_context(personas.tenant_a):
        message = _queue_sms()
        message_send(message_id=message.pk)
        message.refresh_from_db()
    return message


def test_statuses_only_move_forward_and_events_are_idempotent(personas):
    message = _sent_message(personas)
    seen = []

    def listener(sender, message, old, new, **kwargs):
        seen.append((old, new))

    message_status_changed.connect(listener)
    try:
        with tenant_context(personas.tenant_a):
            args = {"provider": "locmem", "provider_id": message.provider_id}
            message_status_update(**args, status="delivered", event_id="e1", payload={})
            message_status_update(**args, status="delivered", event_id="e1", payload={})
            message_status_update(**args, status="sent", event_id="e0", payload={})
            message_status_update(**args, status="failed", event_id="e2", payload={})
            message.refresh_from_db()
            events = list(MessageEvent.objects.values_list("event_id", flat=True))
    finally:
        message_status_changed.disconnect(listener)
    assert message.status == Status.DELIVERED
    assert message.delivered_at is not None
    assert seen == [("sent", "delivered")]
    assert sorted(events) == ["e0", "e1", "e2"]  # recorded, but none moved it back


def test_can_move_to_ranks():
    m = OutboundMessage(status=Status.SENT)
    assert m.can_move_to(Status.DELIVERED)
    assert m.can_move_to(Status.FAILED)
    assert not m.can_move_to(Status.SENDING)
    assert not OutboundMessage(status=Status.DELIVERED).can_move_to(Status.FAILED)


def test_event_payload_keeps_no_personal_data(personas):
    message = _sent_message(personas)
    with tenant_context(personas.tenant_a):
        message_status_update(
            provider="locmem",
            provider_id=message.provider_id,
            status="delivered",
            event_id="x",
            payload={"MessageSid": "SM1", "To": "+46701234567", "Body": "Hej!"},
        )
        event = MessageEvent.objects.get()
    assert event.payload == {"MessageSid": "SM1"}


def test_tenant_b_sees_none_of_tenant_as_messages(personas):
    message = _sent_message(personas)
    with tenant_context(personas.tenant_b):
        assert OutboundMessage.objects.count() == 0
        assert MessageEvent.objects.count() == 0
        # Another tenant's provider id changes nothing.
        assert (
            message_status_update(
                provider="locmem",
                provider_id=message.provider_id,
                status="delivered",
                event_id="b",
            )
            is None
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM notifications_outboundmessage")
            assert cursor.fetchone()[0] == 0
    with connection.cursor() as cursor:  # no tenant at all: fails closed
        cursor.execute("SELECT count(*) FROM notifications_outboundmessage")
        assert cursor.fetchone()[0] == 0
    with tenant_context(personas.tenant_a):
        assert OutboundMessage.objects.get().status == Status.SENT
    # The routing table holds ids only.
    assert {f.name for f in ProviderRoute._meta.concrete_fields} == {
        "id",
        "provider",
        "provider_id",
        "tenant",
        "message_id",
        "created_at",
    }


def test_every_notifications_field_is_classified():
    assert [f for f in unclassified_fields() if f.startswith("notifications.")] == []


def test_file_backend_writes_one_json_file_per_message(tmp_path, settings):
    import json

    from notifications.backends import get_sms_backend

    settings.SMS_FILE_PATH = tmp_path
    backend = get_sms_backend("notifications.backends.file.FileBackend")
    provider_id = backend.send(to="+46701234567", body="Hej", status_callback="http://x/")
    (path,) = tmp_path.iterdir()
    record = json.loads(path.read_text())
    assert record["id"] == provider_id and record["body"] == "Hej"
    assert backend.provider == "file"


def test_unknown_channel_or_missing_recipient_is_a_validation_error(personas):
    with tenant_context(personas.tenant_a):
        with pytest.raises(ValidationError):
            message_queue(channel="email", to="", language="sv", template="plain", context={})
        with pytest.raises(ValidationError):
            message_queue(channel="fax", to="1", language="sv", template="plain", context={})


def test_plain_text_messages_are_not_html_escaped(personas):
    with tenant_context(personas.tenant_a):
        message = message_queue(
            channel="email",
            to="kund@example.test",
            language="sv",
            template="plain",
            context={"text": 'Hej Østergaard & Åberg <AB> "Kusin"', "subject_text": "Tom & Jerry"},
        )
    assert message.body == 'Hej Østergaard & Åberg <AB> "Kusin"'
    assert message.subject == "Tom & Jerry"
