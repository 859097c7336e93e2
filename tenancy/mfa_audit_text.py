"""How the two-factor sign-in entries read in the audit log (audit/describe.py).

Imported by ``tenancy.mfa``; ``tenancy/audit_text.py`` (discovered by the audit log) may
import it too, so that the sentences exist before anything of mfa was loaded.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as L

from audit.describe import action

G = "settings"

action(
    "mfa.enabled",
    L("Two-factor sign-in turned on"),
    G,
    # Only the user themselves turns it on, off, or makes new codes: the actor is them.
    lambda d: d.say(_("{actor} turned on two-factor sign-in with an authenticator app.")),
)
action(
    "mfa.disabled",
    L("Two-factor sign-in turned off"),
    G,
    lambda d: d.say(_("{actor} turned off two-factor sign-in.")),
)
action(
    "mfa.recovery_codes_generated",
    L("New recovery codes"),
    G,
    lambda d: d.say(
        _("{actor} made {count} new recovery codes; the old ones stopped working."),
        count=d.number(d.data.get("count")),
    ),
)
action(
    "mfa.reset",
    L("Two-factor sign-in reset"),
    G,
    lambda d: d.say(
        _("{actor} reset the two-factor sign-in of {user}, who must set it up again."),
        user=d.user(d.data.get("user")),
    ),
)
