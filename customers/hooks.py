"""Hooks through which higher apps show their state in the registry (DESIGN.md: customers/
imports no higher app; the higher app registers here from its AppConfig.ready()).

``consent_status_provider(customer) -> dict`` — the customer's consent as API.md shows
it (``status``, ``terms_version``, ``decided_at``, ``method``); set by consent/.
``consent_status_label(status) -> str`` — the translated label of a status ("Samtycke
godkänt"), for the badge in lists and on the card (customers.templatetags.registry).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

consent_status_provider: Callable[[Any], dict] | None = None
consent_status_label: Callable[[str], str] | None = None


def set_consent_status_provider(provider: Callable[[Any], dict] | None) -> None:
    global consent_status_provider
    consent_status_provider = provider


def set_consent_status_label(labeller: Callable[[str], str] | None) -> None:
    global consent_status_label
    consent_status_label = labeller
