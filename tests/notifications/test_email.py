"""Email through Django's mail API to a real SMTP server (aiosmtpd, fixture smtp_server in
tests/smtp.py) in the test."""

from __future__ import annotations

import pytest

from notifications.models import Status
from notifications.sending import TransientSendError, message_send
from notifications.services import message_queue
from tenancy.context import tenant_context
from tests.smtp import free_port


def _email(tenant, to):
    with tenant_context(tenant):
        return message_queue(
            channel="email",
            to=to,
            language="sv",
            template="plain",
            context={"text": "Hej och välkommen", "subject_text": "Välkommen"},
            reference="welcome:1",
        )


def test_email_goes_out_over_smtp_once(personas, smtp_server):
    message = _email(personas.tenant_a, "kund@example.test")
    with tenant_context(personas.tenant_a):
        message_send(message_id=message.pk)
        message_send(message_id=message.pk)
        message.refresh_from_db()
    assert len(smtp_server.messages) == 1
    rcpts, mail = smtp_server.messages[0]
    assert rcpts == ["kund@example.test"]
    assert mail["Subject"] == "Välkommen"
    assert "Hej och välkommen" in mail.get_content()
    assert message.status == Status.SENT
    assert message.provider == "smtp"
    assert mail["Message-ID"].strip("<>") == message.provider_id


def test_refused_recipient_fails_with_the_smtp_code(personas, smtp_server):
    message = _email(personas.tenant_a, "nobody@example.test")
    with tenant_context(personas.tenant_a):
        message_send(message_id=message.pk)
        message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.FAILED, "550")
    assert smtp_server.messages == []


def test_temporary_smtp_refusal_is_retried(personas, smtp_server):
    message = _email(personas.tenant_a, "later@example.test")
    with tenant_context(personas.tenant_a):
        with pytest.raises(TransientSendError):
            message_send(message_id=message.pk)
        message.refresh_from_db()
    assert message.status == Status.QUEUED


def test_smtp_server_down_is_transient(personas, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_TIMEOUT = 2
    message = _email(personas.tenant_a, "kund@example.test")
    with tenant_context(personas.tenant_a), pytest.raises(TransientSendError):
        message_send(message_id=message.pk)
