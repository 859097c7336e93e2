"""Hooks through which higher apps show their state in the registry (docs/design.md: customers/
imports no higher app; the higher app registers here from its AppConfig.ready()).

``consent_status_provider(customer) -> dict`` — the customer's consent as docs/api.md shows
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


# ``card_panels``: callables ``(customer, request) -> str`` returning safe HTML that the card
# shows at the top of its "Contact info" tab, just under the header and its consent badge
# (consent/ registers its panel; customers.templatetags.registry.card_panels renders them).
card_panels: list[Callable[[Any, Any], str]] = []


def register_card_panel(panel: Callable[[Any, Any], str]) -> None:
    if panel not in card_panels:
        card_panels.append(panel)


# ``consent_status_filter(queryset, status) -> queryset``: customers whose consent status is
# ``status``, one of ``consent_status_choices`` ((value, label) pairs; "none" = never asked).
# Set by consent/; the customer list shows its "Consent" filter only while it is set.
consent_status_filter: Callable[[Any, str], Any] | None = None
consent_status_choices: list[tuple[str, Any]] = []


def set_consent_status_filter(
    status_filter: Callable[[Any, str], Any] | None, choices: list[tuple[str, Any]] = ()
) -> None:
    global consent_status_filter, consent_status_choices
    consent_status_filter, consent_status_choices = status_filter, list(choices)
