"""How webhook endpoints read in the audit log (audit/describe.py discovers this module)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as L

from audit.describe import action

G = "integrations"


def _endpoint(template):
    return lambda d: d.say(
        template,
        endpoint=d.event.object_id,
        events=", ".join(d.data.get("event_types") or []) or "—",
        failures=d.number(d.data.get("failures", 0)),
    )


action(
    "webhook.created",
    L("Webhook created"),
    G,
    lambda d: _endpoint(_("{actor} created the webhook {endpoint} for {events}."))(d),
)
action(
    "webhook.updated",
    L("Webhook changed"),
    G,
    lambda d: _endpoint(_("{actor} changed the webhook {endpoint}: now for {events}."))(d),
)
action(
    "webhook.deleted",
    L("Webhook deleted"),
    G,
    lambda d: _endpoint(_("{actor} deleted the webhook {endpoint}."))(d),
)
action(
    "webhook.enabled",
    L("Webhook switched on"),
    G,
    lambda d: _endpoint(_("{actor} switched the webhook {endpoint} on."))(d),
)
action(
    "webhook.disabled",
    L("Webhook switched off"),
    G,
    lambda d: _endpoint(
        _("{actor} switched the webhook {endpoint} off after {failures} failures.")
        if d.data.get("failures")
        else _("{actor} switched the webhook {endpoint} off.")
    )(d),
)
action(
    "webhook.secret_rotated",
    L("Webhook secret renewed"),
    G,
    lambda d: _endpoint(_("{actor} renewed the signing secret of the webhook {endpoint}."))(d),
)
action(
    "webhook.replayed",
    L("Webhook delivery replayed"),
    G,
    lambda d: d.say(_("{actor} sent a webhook delivery again.")),
)
