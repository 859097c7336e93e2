"""The send protocol: claim (committed) → provider call (no transaction) → record.

A send cut off between the provider's answer and our record of it is reconciled with the
provider (tests here fake Twilio at its HTTP boundary), never sent again blindly.
"""

from __future__ import annotations

import json
from datetime import timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs

import psycopg
import pytest
import requests
import responses
from django.core import mail
from django.db import connection
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from notifications.backends import locmem
from notifications.models import OutboundMessage, Status
from notifications.sending import message_send
from notifications.services import message_decide, message_queue
from notifications.sweep import message_sweep
from tenancy.context import tenant_context, tenant_scope
from tests.db import owner_conninfo

from .conftest import TWILIO_MESSAGES_URL, enable_sms, twilio_message_json, wait_for

SID = "SM" + "b" * 32
BODY = "Svara JA 4KX7"


def _queue_sms(personas):
    enable_sms(personas.tenant_a)
    with tenant_context(personas.tenant_a):
        return message_queue(
            channel="sms",
            to="+46701234567",
            language="sv",
            template="plain",
            context={"text": BODY},
            reference="test:1",
        )


def _owner_status(message_id: int, tenant_id: int) -> str:
    """The message's status as another connection sees it: what is committed."""
    with psycopg.connect(owner_conninfo()) as other:
        other.execute("SELECT set_config('app.tenant_id', %s, false)", [str(tenant_id)])
        (status,) = other.execute(
            "SELECT status FROM notifications_outboundmessage WHERE id = %s", [message_id]
        ).fetchone()
    return status


@pytest.fixture
def twilio(settings):
    settings.SMS_BACKEND = "notifications.backends.twilio.TwilioBackend"


@responses.activate
def test_the_claim_is_committed_and_no_transaction_is_open_during_the_call(live_personas, twilio):
    personas = live_personas
    message = _queue_sms(personas)
    seen = {}

    def provider(request):
        seen["in_transaction"] = connection.in_atomic_block
        seen["committed_status"] = _owner_status(message.pk, personas.tenant_a.pk)
        return (201, {}, json.dumps(twilio_message_json(SID)))

    responses.add_callback(responses.POST, TWILIO_MESSAGES_URL, callback=provider)
    with tenant_scope(personas.tenant_a):
        message_send(message_id=message.pk)
        message.refresh_from_db()
    assert seen == {"in_transaction": False, "committed_status": "sending"}
    assert (message.status, message.provider_id) == (Status.SENT, SID)


def _crash_after_the_provider_took_it(personas, message):
    """What a worker killed between the provider's answer and our record leaves behind."""
    with tenant_scope(personas.tenant_a):
        from notifications.sending import _claim, _send_sms

        claimed = _claim(message.pk)
        _send_sms(claimed, claimed.body)  # the provider has it; the worker dies here
        OutboundMessage.objects.filter(pk=message.pk).update(
            claimed_at=timezone.now() - timedelta(hours=1)
        )


@responses.activate
def test_a_send_cut_off_after_twilio_took_it_is_found_at_twilio_not_sent_again(
    live_personas, twilio
):
    personas = live_personas
    responses.post(TWILIO_MESSAGES_URL, json=twilio_message_json(SID), status=201)
    message = _queue_sms(personas)
    _crash_after_the_provider_took_it(personas, message)
    listed = {
        "messages": [
            {
                **twilio_message_json(SID, status="sent"),
                "to": "+46701234567",
                "body": BODY,
                # Created just after the claim (the crash moved the claim an hour back).
                "date_created": format_datetime(timezone.now() - timedelta(minutes=59)),
            }
        ],
        "page": 0,
        "page_size": 20,
        "next_page_uri": None,
    }
    responses.get(TWILIO_MESSAGES_URL, json=listed)
    with tenant_scope(personas.tenant_a):
        counts = message_sweep()
        message_send(message_id=message.pk)  # a redelivered task finds nothing to claim
        message.refresh_from_db()
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == 1
    assert counts["sent"] == 1, (counts, message.last_error)
    assert (message.status, message.provider_id) == (Status.SENT, SID)


@responses.activate
def test_a_read_timeout_is_never_retried_blindly(live_personas, twilio):
    personas = live_personas
    responses.post(TWILIO_MESSAGES_URL, body=requests.ReadTimeout("no answer"))
    empty = {"messages": [], "page": 0, "page_size": 20, "next_page_uri": None}
    responses.get(TWILIO_MESSAGES_URL, json=empty)
    message = _queue_sms(personas)
    with tenant_scope(personas.tenant_a):
        message_send(message_id=message.pk)
        message.refresh_from_db()
        assert message.status == Status.UNCERTAIN
        assert "cannot say" in message.last_error
        # Neither a redelivered task nor the sweep sends it again.
        message_send(message_id=message.pk)
        message_sweep()
        message.refresh_from_db()
    assert message.status == Status.UNCERTAIN
    assert [c.request.method for c in responses.calls].count("POST") == 1


def test_with_a_backend_that_can_tell_a_lost_send_goes_out_once(live_personas):
    """The locmem backend (like the file backend in development) can say what it has."""
    personas = live_personas
    message = _queue_sms(personas)
    with tenant_scope(personas.tenant_a):
        from notifications.sending import _claim

        _claim(message.pk)  # claimed, then the worker died before calling the provider
        OutboundMessage.objects.filter(pk=message.pk).update(
            claimed_at=timezone.now() - timedelta(hours=1)
        )
        assert message_sweep()["queued"] == 1
        message_send(message_id=message.pk)
        message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(locmem.outbox) == 1


def test_an_email_cut_off_after_sending_is_found_in_the_local_outbox(live_personas):
    personas = live_personas
    with tenant_context(personas.tenant_a):
        message = message_queue(
            channel="email",
            to="kund@example.test",
            language="sv",
            template="plain",
            context={"text": "Hej", "subject_text": "Hej"},
        )
    with tenant_scope(personas.tenant_a):
        from notifications.sending import _claim, _send_email

        claimed = _claim(message.pk)
        _send_email(claimed, claimed.body)
        OutboundMessage.objects.filter(pk=message.pk).update(
            claimed_at=timezone.now() - timedelta(hours=1)
        )
        assert message_sweep()["sent"] == 1
        message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(mail.outbox) == 1


def test_an_uncertain_message_waits_for_a_person_who_may_send_it_again(live_personas):
    personas = live_personas
    message = _queue_sms(personas)
    with tenant_scope(personas.tenant_a):
        OutboundMessage.objects.filter(pk=message.pk).update(status=Status.UNCERTAIN)
        decided = message_decide(
            message_id=message.pk, decision="resend", actor=Actor.user(personas.alice)
        )
        assert decided.status == Status.QUEUED
        message_send(message_id=message.pk)
        message.refresh_from_db()
        assert message.status == Status.SENT
        with pytest.raises(Exception, match="no longer waits"):
            message_decide(message_id=message.pk, decision="sent", actor=Actor.system("t"))


def test_the_sweep_re_sends_a_message_whose_task_is_gone(live_personas, celery_worker):
    personas = live_personas
    message = _queue_sms(personas)  # its task ran before this worker: purged, gone
    with tenant_scope(personas.tenant_a):
        OutboundMessage.objects.filter(pk=message.pk).update(
            queued_at=timezone.now() - timedelta(hours=1)
        )
    from notifications.tasks import sweep

    sweep.delay()
    with tenant_scope(personas.tenant_a):
        assert wait_for(
            lambda: OutboundMessage.objects.get(pk=message.pk).status == Status.SENT, 30
        )
    assert len(locmem.outbox) == 1


def test_a_message_waiting_for_its_retry_is_left_to_it(live_personas):
    personas = live_personas
    message = _queue_sms(personas)
    with tenant_scope(personas.tenant_a):
        OutboundMessage.objects.filter(pk=message.pk).update(
            queued_at=timezone.now() - timedelta(hours=1),
            next_attempt_at=timezone.now() + timedelta(minutes=5),
        )
        assert message_sweep()["requeued"] == 0


def test_two_posts_of_the_form_never_make_a_second_sms(live_personas, twilio):
    personas = live_personas
    with responses.RequestsMock() as rsps:
        rsps.post(TWILIO_MESSAGES_URL, json=twilio_message_json(SID), status=201)
        message = _queue_sms(personas)
        with tenant_scope(personas.tenant_a):
            message_send(message_id=message.pk)
            message_send(message_id=message.pk)
        assert len(rsps.calls) == 1
        assert parse_qs(rsps.calls[0].request.body)["Body"] == [BODY]


# --- The page where a person decides -------------------------------------------------------


def _uncertain_sms(personas):
    message = _queue_sms(personas)
    with tenant_context(personas.tenant_a):
        OutboundMessage.objects.filter(pk=message.pk).update(
            status=Status.UNCERTAIN, last_error="The worker sending it stopped"
        )
    return message


def test_staff_see_uncertain_messages_and_send_one_again(personas):
    message = _uncertain_sms(personas)
    client = personas.client(personas.bob)
    page = client.get("/messages/uncertain/", follow=True)
    html = page.content.decode()
    assert page.status_code == 200
    assert BODY in html and "The worker sending it stopped" in html
    response = client.post(
        f"/messages/uncertain/{message.pk}/decide/", {"decision": "resend"}, follow=True
    )
    assert response.status_code == 200
    with tenant_context(personas.tenant_a):
        message.refresh_from_db()
        assert message.status == Status.QUEUED
        assert AuditEvent.objects.filter(action="notifications.message_resend").count() == 1


def test_a_bad_decision_changes_nothing(personas):
    message = _uncertain_sms(personas)
    client = personas.client(personas.bob)
    response = client.post(
        f"/messages/uncertain/{message.pk}/decide/", {"decision": "explode"}, follow=True
    )
    assert response.status_code == 200
    assert "Choose send again, sent or failed." in response.content.decode()
    with tenant_context(personas.tenant_a):
        message.refresh_from_db()
    assert message.status == Status.UNCERTAIN


def test_another_tenant_neither_sees_nor_decides_them(personas):
    message = _uncertain_sms(personas)
    client = personas.client(personas.charlie)
    assert BODY not in client.get("/messages/uncertain/", follow=True).content.decode()
    response = client.post(f"/messages/uncertain/{message.pk}/decide/", {"decision": "sent"})
    assert response.status_code == 404
    with tenant_context(personas.tenant_a):
        message.refresh_from_db()
    assert message.status == Status.UNCERTAIN


def test_a_stored_consent_link_is_shown_as_a_placeholder(personas):
    from notifications import late

    enable_sms(personas.tenant_a)
    with tenant_context(personas.tenant_a):
        message = message_queue(
            channel="sms",
            to="+46701234567",
            language="sv",
            template="plain",
            context={"text": "Svara här: " + late.marker("consent.link", 1, 1)},
        )
        OutboundMessage.objects.filter(pk=message.pk).update(status=Status.UNCERTAIN)
    html = personas.client(personas.bob).get("/messages/uncertain/", follow=True)
    assert "[consent link]" in html.content.decode()
    assert "[[late:" not in html.content.decode()
