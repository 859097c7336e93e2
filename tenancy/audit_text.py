"""How company settings, members and API keys read in the audit log
(audit/describe.py discovers this module)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as L

from audit.describe import action

# The two-factor entries (mfa.*) read as sentences too.
from . import mfa_audit_text  # noqa: F401
from .models import ApiKeyScope, ReferenceRegister, Tenant
from .roles import Role

G = "settings"

action(
    "tenant.created",
    L("Company created"),
    G,
    lambda d: d.say(_("{actor} created the company account.")),
)
action(
    "tenant.settings_changed",
    L("Company settings changed"),
    G,
    lambda d: d.say(_("{actor} changed the company settings: {fields}."), fields=d.fields(Tenant)),
)
action(
    "member.added",
    L("User added"),
    G,
    lambda d: d.say(
        _("{actor} gave {user} access as {role}."),
        user=d.user(d.data.get("user")),
        role=d.choice(Role, d.data.get("role")).lower(),
    ),
)
action(
    "member.changed",
    L("User access changed"),
    G,
    lambda d: d.say(
        _("{actor} changed a user's access: {role}, active: {active}."),
        role=d.choice(Role, d.data.get("role")).lower(),
        active=d.yes_no(d.data.get("is_active")),
    ),
)
action(
    "api_key.created",
    L("API key created"),
    G,
    lambda d: d.say(
        _("{actor} created the API key “{key}” with the scopes {scopes}."),
        key=d.key(d.event.object_id),
        scopes=", ".join(d.choice(ApiKeyScope, s) for s in d.data.get("scopes") or []) or "—",
    ),
)
action(
    "api_key.revoked",
    L("API key revoked"),
    G,
    lambda d: d.say(_("{actor} revoked the API key “{key}”."), key=d.key(d.event.object_id)),
)
action(
    "number_series.changed",
    L("Number series changed"),
    G,
    lambda d: d.say(
        _("{actor} set the next number of the series “{series}” to {number}."),
        series=d.event.object_id,
        number=d.data.get("next_value", "—"),
    ),
)
action(
    "reference_entry.created",
    L("Register entry added"),
    G,
    lambda d: d.say(
        _("{actor} added the entry {code} to the register {register}."),
        code=d.data.get("code", "—"),
        register=d.choice(ReferenceRegister, d.data.get("register")),
    ),
)
action(
    "reference_entry.changed",
    L("Register entry changed"),
    G,
    lambda d: d.say(
        _("{actor} changed the entry {code} of the register {register}."),
        code=d.data.get("code", "—"),
        register=d.choice(ReferenceRegister, d.data.get("register")),
    ),
)
action(
    "worker.ping",
    L("Worker health check"),
    "system",
    lambda d: d.say(_("A background worker answered a health check.")),
)
