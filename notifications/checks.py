"""Deployment checks for the email service provider (``manage.py check --deploy``).

- E001: an ESP is configured, but its tracking webhook lacks ANYMAIL_WEBHOOK_SECRET or the
  signing key anymail needs to verify the ESP's calls (the route answers 404 until then).
- E002: a package the ESP's webhook needs is not installed.
- E003: ANYMAIL_ESP names no ESP django-anymail can send through.
"""

from __future__ import annotations

import importlib.util

from django.core import checks

from .esp import TRACKING_HOOKS, configured_esp, tracking_hook_missing


def _anymail_backend_exists(esp: str) -> bool:
    if not esp.replace("_", "").isalnum():
        return False
    return importlib.util.find_spec(f"anymail.backends.{esp}") is not None


@checks.register(checks.Tags.security, deploy=True)
def check_anymail_webhook(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    esp = configured_esp()
    if not esp:
        return []
    if not _anymail_backend_exists(esp):
        return [
            checks.Error(
                f"ANYMAIL_ESP={esp!r} is not an email service provider django-anymail supports.",
                hint="Use the name of a module in anymail.backends, e.g. mailgun or postmark.",
                id="notifications.E003",
            )
        ]
    if esp not in TRACKING_HOOKS:
        return []  # anymail has no tracking webhook for it: no route, nothing to secure
    missing = tracking_hook_missing(esp)
    errors: list[checks.CheckMessage] = []
    path = f"/hooks/anymail/{esp}/tracking/"
    if missing.settings:
        errors.append(
            checks.Error(
                f"The {esp} tracking webhook is not secured: {', '.join(missing.settings)} "
                f"not set. Until it is, {path} answers 404 and delivery reports are lost.",
                hint="Set ANYMAIL_WEBHOOK_SECRET (or _FILE) to a random 'user:password', give "
                f"the ESP https://user:password@<host>{path}, and set the signing key from "
                "the ESP's webhook settings.",
                id="notifications.E001",
            )
        )
    if missing.packages:
        errors.append(
            checks.Error(
                f"The {esp} tracking webhook needs {', '.join(missing.packages)}, which is not "
                "installed.",
                hint=f"pip install 'django-anymail[{esp.replace('_', '-')}]'",
                id="notifications.E002",
            )
        )
    return errors
