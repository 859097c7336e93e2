"""Consent requests go out through notifications/, and delivery and SMS replies come back."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from audit.actors import Actor
from consent.models import ConsentRequest
from consent.selectors import consent_state_of
from consent.services import consent_request_create
from notifications import late
from notifications.models import OutboundMessage
from notifications.services import message_status_update
from notifications.signals import sms_received

SYSTEM = Actor.system("test")


def test_request_queues_an_email_with_the_link_in_the_customers_language(in_a, customer_a):
    with in_a():
        request, token = consent_request_create(
            customer=customer_a, channel="email", language="sv", actor=SYSTEM
        )
        message = OutboundMessage.objects.get(reference=f"consent_request:{request.pk}")
        sent_body = late.expand(message.body)  # what the provider gets, as it is sent
    assert message.channel == "email" and message.language == "sv"
    assert f"/c/{token}" in sent_body
    # The stored message holds no usable link: only a marker for the send.
    assert token not in message.body and "/c/" not in message.body
    assert "samtycke" in (message.subject + message.body).lower()


def test_delivery_status_moves_the_request(in_a, customer_a):
    with in_a():
        request, _token = consent_request_create(
            customer=customer_a, channel="sms", language="sv", actor=SYSTEM
        )
        message = OutboundMessage.objects.get(reference=f"consent_request:{request.pk}")
        OutboundMessage.objects.filter(pk=message.pk).update(
            status="sent", provider="twilio", provider_id="SM123"
        )
        message_status_update(
            provider="twilio", provider_id="SM123", status="delivered", event_id="SM123:delivered"
        )
        assert ConsentRequest.objects.get(pk=request.pk).status == "delivered"


def _sms_reply(body: str, from_number: str) -> None:
    """A reply as notifications/ hands it on: no tenant active, the shared sender."""
    sms_received.send(
        sender=OutboundMessage,
        from_number=from_number,
        to_number="+46769000000",
        sender_key="",
        body=body,
        provider_message_id="SMtest",
    )


@pytest.mark.parametrize(
    ("reply", "status"), [("JA", "granted"), ("Yes!", "granted"), ("nei", "declined")]
)
def test_sms_reply_decides(in_a, customer_a, personas, reply, status):
    with in_a():
        request, _token = consent_request_create(
            customer=customer_a, channel="sms", language="sv", actor=SYSTEM
        )
        message = OutboundMessage.objects.get(reference=f"consent_request:{request.pk}")
    _sms_reply(reply, message.destination)
    with in_a():
        assert consent_state_of(customer_a).status == status


def test_stop_withdraws(in_a, customer_a, personas):
    with in_a():
        request, _token = consent_request_create(
            customer=customer_a, channel="sms", language="sv", actor=SYSTEM
        )
        message = OutboundMessage.objects.get(reference=f"consent_request:{request.pk}")
    _sms_reply("JA", message.destination)
    _sms_reply("STOP", message.destination)
    with in_a():
        assert consent_state_of(customer_a).status == "withdrawn"


@pytest.mark.no_sms
def test_tenant_without_sms_gets_a_clear_error(in_a, customer_a):
    with in_a(), pytest.raises(ValidationError) as exc:
        consent_request_create(customer=customer_a, channel="sms", language="sv", actor=SYSTEM)
    assert "SMS is not enabled" in " ".join(exc.value.messages)
    with in_a():
        assert not ConsentRequest.objects.exists()
