"""How messages and SMS settings read in the audit log
(audit/describe.py discovers this module)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as L

from audit.describe import action

from .models import Channel, NotificationSettings


def _channel(d) -> str:
    return d.choice(Channel, d.data.get("channel"))


action(
    "notifications.sms_settings_changed",
    L("SMS settings changed"),
    "settings",
    lambda d: d.say(
        _("{actor} changed the SMS settings: {fields}."), fields=d.fields(NotificationSettings)
    ),
)
action(
    "notifications.message_resend",
    L("Uncertain message sent again"),
    "messages",
    lambda d: d.say(_("{actor} sent an uncertain message ({channel}) again."), channel=_channel(d)),
)
action(
    "notifications.message_sent",
    L("Uncertain message marked sent"),
    "messages",
    lambda d: d.say(
        _("{actor} marked an uncertain message ({channel}) as sent."), channel=_channel(d)
    ),
)
action(
    "notifications.message_failed",
    L("Uncertain message marked failed"),
    "messages",
    lambda d: d.say(
        _("{actor} marked an uncertain message ({channel}) as failed."), channel=_channel(d)
    ),
)
