"""Settings → SMS (issue 14, item 2): an administrator switches SMS on and off, with a
sender name or number and a monthly cap; audited without the sender itself."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from audit.actors import Actor
from audit.models import AuditEvent
from notifications.models import NotificationSettings
from notifications.selectors import notification_settings, sms_sent_this_month
from notifications.services import (
    SmsCapReached,
    SmsNotEnabled,
    message_queue,
    sms_sender_clean,
    sms_settings_update,
)
from tenancy.context import tenant_context

URL = "/settings/sms/"
ADMIN = Actor.system("test")


def _queue_sms():
    return message_queue(
        channel="sms", to="+46701234567", language="sv", template="plain", context={"text": "Hej"}
    )


def test_an_admin_switches_sms_on_from_the_settings_page(personas):
    alice = personas.client(personas.alice)
    page = alice.get(URL).content.decode()
    assert 'name="sms_enabled"' in page and 'name="sms_monthly_cap"' in page
    response = alice.post(
        URL, {"sms_enabled": "on", "sms_sender": "Nordljus", "sms_monthly_cap": "500"}
    )
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        settings = notification_settings()
        assert (settings.sms_enabled, settings.sms_sender, settings.sms_monthly_cap) == (
            True,
            "Nordljus",
            500,
        )
        event = AuditEvent.objects.get(action="notifications.sms_settings_changed")
    assert event.actor_id == str(personas.alice.pk)
    assert event.data == {
        "fields": ["enabled", "monthly_cap", "sender"],
        "old": {"enabled": False, "monthly_cap": None, "sender": "platform"},
        "new": {"enabled": True, "monthly_cap": 500, "sender": "name"},
    }
    page = alice.get(URL).content.decode()
    assert "0 SMS of at most 500 sent this month." in page
    # The other tenant is untouched.
    with tenant_context(personas.tenant_b):
        assert not notification_settings().sms_enabled


def test_switching_off_keeps_the_sender_and_cap_and_is_audited(personas):
    with tenant_context(personas.tenant_a):
        sms_settings_update(enabled=True, sender="+46 70 123 45 67", monthly_cap=10, actor=ADMIN)
    response = personas.client(personas.alice).post(
        URL, {"sms_sender": "+46701234567", "sms_monthly_cap": "10"}
    )
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        settings = notification_settings()
        assert not settings.sms_enabled and settings.sms_sender == "+46701234567"
        events = list(
            AuditEvent.objects.filter(action="notifications.sms_settings_changed").order_by("seq")
        )
        with pytest.raises(SmsNotEnabled):
            _queue_sms()
    assert events[-1].data == {
        "fields": ["enabled"],
        "old": {"enabled": True},
        "new": {"enabled": False},
    }
    # The number itself (possibly a person's) is in no audit entry.
    assert all("70123" not in json.dumps(e.data) for e in events)


@pytest.mark.parametrize(
    ("sender", "stored"),
    [
        ("", ""),
        ("Nordljus", "Nordljus"),
        ("  Nordljus AB ", "Nordljus AB"),  # 11 characters with the space
        ("Bygg2Go", "Bygg2Go"),
        ("+46701234567", "+46701234567"),
        ("+47 412 34 567", "+4741234567"),
    ],
)
def test_good_senders(sender, stored):
    assert sms_sender_clean(sender) == stored


@pytest.mark.parametrize(
    "sender",
    [
        "Nordljus AB1",  # 12 characters
        "12345",  # no letter: a name needs one, and it is no E.164 number
        "Östergård",  # not A-Z
        "Nord-ljus",
        "0701234567",  # national form
        "+4670",  # too short
        "+46 70 123 45 67 89 01 23",
        "+00701234567",
    ],
)
def test_bad_senders_are_field_errors(sender):
    with pytest.raises(ValidationError) as info:
        sms_sender_clean(sender)
    assert "sms_sender" in info.value.message_dict


def test_bad_input_on_the_page_changes_nothing(personas):
    alice = personas.client(personas.alice)
    cases = [
        ({"sms_enabled": "on", "sms_sender": "Nordljus"}, "sms_monthly_cap"),  # no cap
        ({"sms_enabled": "on", "sms_monthly_cap": "0"}, "sms_monthly_cap"),
        ({"sms_enabled": "on", "sms_monthly_cap": "-5"}, "sms_monthly_cap"),
        ({"sms_enabled": "on", "sms_monthly_cap": "2.5"}, "sms_monthly_cap"),
        ({"sms_enabled": "on", "sms_monthly_cap": "abc"}, "sms_monthly_cap"),
        ({"sms_enabled": "on", "sms_monthly_cap": "9" * 30}, "sms_monthly_cap"),
        ({"sms_enabled": "on", "sms_monthly_cap": "5", "sms_sender": "Far too long"}, "sms_sender"),
        ({"sms_enabled": "on", "sms_monthly_cap": "5", "sms_sender": "x\x00y"}, "sms_sender"),
    ]
    for data, field in cases:
        response = alice.post(URL, data)
        assert response.status_code == 200, data
        assert field in response.context["form"].errors, (data, response.context["form"].errors)
    with tenant_context(personas.tenant_a):
        assert not NotificationSettings.objects.exists()
        assert not AuditEvent.objects.filter(action__startswith="notifications.").exists()


@pytest.mark.parametrize("cap", [0, -1, True, 2.5, "7"])
def test_the_service_refuses_a_cap_that_is_no_positive_whole_number(personas, cap):
    with tenant_context(personas.tenant_a), pytest.raises(ValidationError) as info:
        sms_settings_update(enabled=True, sender="", monthly_cap=cap, actor=ADMIN)
    assert "sms_monthly_cap" in info.value.message_dict


def test_the_monthly_cap_stops_sms_and_counts_per_tenant(personas):
    with tenant_context(personas.tenant_a):
        sms_settings_update(enabled=True, sender="Nordljus", monthly_cap=2, actor=ADMIN)
        _queue_sms()
        _queue_sms()
        with pytest.raises(SmsCapReached):
            _queue_sms()
        assert sms_sent_this_month() == 2
        # Raising the cap lets the next one through.
        sms_settings_update(enabled=True, sender="Nordljus", monthly_cap=3, actor=ADMIN)
        _queue_sms()
        assert sms_sent_this_month() == 3
    with tenant_context(personas.tenant_b):
        sms_settings_update(enabled=True, sender="", monthly_cap=1, actor=ADMIN)
        _queue_sms()
        assert sms_sent_this_month() == 1


def test_a_message_from_last_month_does_not_count(personas):
    with tenant_context(personas.tenant_a):
        sms_settings_update(enabled=True, sender="", monthly_cap=1, actor=ADMIN)
        _queue_sms()
        NotificationSettings.objects.update(sms_month="2020-01-01")
        assert sms_sent_this_month() == 0
        _queue_sms()
        assert sms_sent_this_month() == 1
