"""The next customer and contact numbers (Settings → Numbering)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from audit.actors import Actor
from tenancy.selectors import number_series_next
from tenancy.services import number_series_set_next

from . import contacts, customers


@dataclass(frozen=True)
class Series:
    key: str
    start: int  # the first number, before anything is drawn


# The starts are those customer_create and contact_create draw with.
CUSTOMER = Series(customers.NUMBER_SERIES, 1000)
CONTACT = Series(contacts.NUMBER_SERIES, 1)
SERIES = {"customer_next": CUSTOMER, "contact_next": CONTACT}


def numbering_current() -> dict[str, int]:
    """The next number of each series, by the form field that shows it."""
    return {name: number_series_next(series=s.key, start=s.start) for name, s in SERIES.items()}


@transaction.atomic
def numbering_update(*, actor: Actor, **next_values: int) -> list[str]:
    """Set the next numbers that changed; returns their names. Each change is audited.

    A number already taken is skipped when drawn (customer numbers are looked up, contact
    numbers drawn again), so setting a lower number never makes a duplicate.
    """
    current = numbering_current()
    changed = [n for n, v in next_values.items() if n in SERIES and v != current[n]]
    for name in changed:
        number_series_set_next(series=SERIES[name].key, next_value=next_values[name], actor=actor)
    return changed
