"""Helpers for the notifications tests."""

from __future__ import annotations

import time

import pytest

from notifications.backends import locmem
from notifications.services import notification_settings_update
from tenancy.context import tenant_context

TWILIO_MESSAGES_URL = (
    "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
)


def twilio_message_url(sid: str) -> str:
    return TWILIO_MESSAGES_URL.removesuffix(".json") + f"/{sid}.json"


def twilio_message_json(sid: str = "SM" + "1" * 32, status: str = "queued") -> dict:
    return {
        "sid": sid,
        "status": status,
        "account_sid": "AC00000000000000000000000000000000",
        "error_code": None,
    }


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    locmem.outbox.clear()
    yield
    locmem.outbox.clear()


def enable_sms(tenant, **fields) -> None:
    with tenant_context(tenant):
        notification_settings_update(sms_enabled=True, **fields)


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
