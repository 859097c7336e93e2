"""Consent-link tokens: derived with a key the database never holds, stored only hashed.

A request's token for ``slot`` (1 for the first message, 2 for the reminder) is a keyed
hash of the request id and slot under ``SECRET_KEY``. Only its SHA-256 is stored
(``consent_token_private``, looked up by ``kundreg_consent_token_lookup``), and the
outbound message stores a marker (notifications.late) that is turned into the link as
the message is sent. So nothing in the database, its backups or the outbox tables opens
the consent page: the link exists in the provider's hands and the customer's inbox only.
Rotating ``SECRET_KEY`` keeps old links working through ``SECRET_KEY_FALLBACKS``.
"""

from __future__ import annotations

import base64

from django.conf import settings
from django.utils.crypto import salted_hmac

from notifications import late

from . import selectors

SALT = "kundreg.consent.token"
LATE_NAME = "consent.link"
FIRST, REMINDER = 1, 2


def request_token(request_id: int, slot: int, *, secret: str | None = None) -> str:
    """The token of ``slot`` for the request; 192 bits, URL-safe, 32 characters."""
    digest = salted_hmac(SALT, f"{request_id}:{slot}", secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


def consent_link(token: str) -> str:
    return f"{settings.SITE_URL}/c/{token}"


def link_marker(request_id: int, slot: int) -> str:
    """What the stored message holds in place of the link."""
    return late.marker(LATE_NAME, request_id, slot)


def resolve_link(request_id: str, slot: str) -> str:
    """The link for a marker, as the message is sent (in the request's tenant scope).

    Tried with the current key and then the fallbacks, and only a token whose hash was
    stored for this request is used: a rotated-away key or a forged marker builds none.
    """
    for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        token = request_token(int(request_id), int(slot), secret=secret)
        located = selectors.request_locate(token)
        if located is not None and located[0] == int(request_id):
            return consent_link(token)
    raise late.LateValueError(f"no stored token for consent request {request_id}, slot {slot}")


def register() -> None:
    late.register(LATE_NAME, resolve_link)
