"""Email through Django's mail API to a real SMTP server (aiosmtpd) in the test."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from notifications.models import Status
from notifications.services import TransientSendError, message_queue, message_send
from tenancy.context import tenant_context


class Recorder:
    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        if address.startswith("later@"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    handler = Recorder()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield handler
    finally:
        controller.stop()


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
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()
    settings.EMAIL_TIMEOUT = 2
    message = _email(personas.tenant_a, "kund@example.test")
    with tenant_context(personas.tenant_a), pytest.raises(TransientSendError):
        message_send(message_id=message.pk)
