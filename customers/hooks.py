"""Hooks through which higher apps show their state in the registry (DESIGN.md: customers/
imports no higher app; the higher app registers here from its AppConfig.ready()).

``consent_status_provider(customer) -> dict`` — the customer's consent as API.md shows
it (``status``, ``terms_version``, ``decided_at``, ``method``); set by consent/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

consent_status_provider: Callable[[Any], dict] | None = None


def set_consent_status_provider(provider: Callable[[Any], dict] | None) -> None:
    global consent_status_provider
    consent_status_provider = provider
