"""Structured logs (issue 15 item 7): JSON lines in UTC with request and tenant ids, one line
for a foreign Host, and every failed send logged with its reason but not its address."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest
from django.test import Client

from config.logging import ContextFilter, JsonFormatter, TextFormatter, logging_config
from config.request_id import HEADER
from notifications.models import Status
from notifications.sending import TransientSendError, message_send
from tenancy.context import tenant_scope
from tests.config.test_metrics import queue_email
from tests.smtp import free_port


@pytest.fixture
def json_lines():
    """What the root logger writes through the production formatter, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


@pytest.fixture
def records():
    """Every record reaching the root logger, after the loggers' own filters."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record)

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield seen
    finally:
        root.removeHandler(handler)


def _utc(stamp: str) -> datetime:
    assert stamp.endswith("Z"), stamp
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert moment.utcoffset().total_seconds() == 0
    return moment


def test_a_request_logs_json_with_its_request_id_and_tenant(personas, json_lines):
    client = personas.client(personas.alice)
    response = client.get("/customers/999999/", HTTP_X_REQUEST_ID="req-from-proxy-0001")
    assert response.status_code == 404
    assert response[HEADER] == "req-from-proxy-0001"
    [line] = [x for x in json_lines() if x["logger"] == "django.request"]
    assert line["level"] == "WARNING"
    assert line["message"].startswith("Not Found: ")
    assert line["request_id"] == "req-from-proxy-0001"
    assert line["tenant_id"] == personas.tenant_a.pk
    assert abs((datetime.now(UTC) - _utc(line["timestamp"])).total_seconds()) < 60
    assert "request" not in line  # Django's request object is not a field


def test_a_request_without_a_sane_id_gets_one_of_its_own(db):
    first = Client().get("/accounts/login/")
    odd = Client().get("/accounts/login/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert len(first[HEADER]) == 32 and first[HEADER] != odd[HEADER]
    assert "bad" not in odd[HEADER]


def test_a_log_line_in_a_tenant_scope_carries_the_tenant_and_extras(personas, json_lines):
    log = logging.getLogger("tests.logging")
    with tenant_scope(personas.tenant_b):
        log.warning("Batch %s stalled", 7, extra={"batch_id": 7})
    log.warning("outside")
    inside, outside = json_lines()
    assert inside["message"] == "Batch 7 stalled" and inside["batch_id"] == 7
    assert inside["tenant_id"] == personas.tenant_b.pk
    assert "tenant_id" not in outside and "request_id" not in outside


def test_exceptions_are_kept_in_the_line(json_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("tests.logging").exception("it broke")
    [line] = json_lines()
    assert line["level"] == "ERROR" and "ValueError: boom" in line["exc_info"]


def test_text_format_is_utc_too():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello", None, None)
    ContextFilter().filter(record)
    assert TextFormatter().format(record).split(" ")[1].endswith("Z")


def test_log_format_is_checked_and_production_defaults_to_json():
    assert logging_config(fmt="json", level="INFO")["handlers"]["console"]["formatter"] == "json"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(fmt="xml", level="INFO")


def test_a_foreign_host_is_one_line_without_traceback(db, records):
    response = Client().get("/", HTTP_HOST="scanner.example.net")
    assert response.status_code == 400
    assert len(records) == 1, [r.getMessage() for r in records]
    [record] = records
    assert record.name == "django.security.DisallowedHost"
    assert record.levelname == "WARNING"
    assert record.exc_info is None and record.exc_text is None
    assert "scanner.example.net" in record.getMessage()
    assert "\n" not in JsonFormatter().format(record)


# --- failed sends: the reason, never the address -----------------------------------------


def _send_warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "notifications.sending"]


def _no_address(record: logging.LogRecord, address: str) -> None:
    ContextFilter().filter(record)
    assert address not in JsonFormatter().format(record)
    assert address not in record.getMessage()


def test_a_refused_email_logs_its_reason_without_the_address(personas, smtp_server, caplog):
    message = queue_email(personas.tenant_a, "nobody@example.test")
    with caplog.at_level(logging.WARNING), tenant_scope(personas.tenant_a):
        message_send(message_id=message.pk)
    [record] = _send_warnings(caplog)
    assert record.levelno == logging.WARNING
    text = record.getMessage()
    assert f"message {message.pk} (email, attempt 1 of " in text
    assert "permanent, not retried" in text and "SMTPRecipientsRefused" in text
    assert "550" in text
    assert (record.message_id, record.channel, record.attempt, record.error_code) == (
        message.pk,
        "email",
        1,
        "550",
    )
    _no_address(record, "nobody@example.test")


def test_a_deferred_email_logs_the_retry(personas, smtp_server, caplog):
    message = queue_email(personas.tenant_a, "later@example.test")
    with (
        caplog.at_level(logging.WARNING),
        tenant_scope(personas.tenant_a),
        pytest.raises(TransientSendError),
    ):
        message_send(message_id=message.pk)
    [record] = _send_warnings(caplog)
    assert "will retry" in record.getMessage() and "451" in record.getMessage()
    _no_address(record, "later@example.test")


def test_an_smtp_outage_logs_each_failure_with_its_reason(personas, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_TIMEOUT = 2
    message = queue_email(personas.tenant_a, "kund@example.test")
    with caplog.at_level(logging.WARNING), tenant_scope(personas.tenant_a):
        with pytest.raises(TransientSendError):
            message_send(message_id=message.pk)
        message.refresh_from_db()
        assert message.status == Status.QUEUED
    [record] = _send_warnings(caplog)
    assert "will retry" in record.getMessage()
    assert "ConnectionRefusedError" in record.getMessage()
    _no_address(record, "kund@example.test")
