"""Look a company up in its country's business registry (seed 001 "Uppdatera kundinformation").

``lookup(country, number)`` returns a :class:`RegistryRecord`, ``None`` when the
registry does not know the number, and raises :class:`RegistryUnavailable`
when the registry cannot be asked. Backends: Norway (Brønnøysund's
Enhetsregisteret) and Finland (PRH/YTJ open data).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import ytunnus
from stdnum.no import orgnr

from . import brreg, prh
from .base import RegistryRecord, RegistryUnavailable

BACKENDS: dict[str, Callable[[str], RegistryRecord | None]] = {
    "NO": brreg.lookup,
    "FI": prh.lookup,
}
SUPPORTED_COUNTRIES = tuple(BACKENDS)

__all__ = [
    "SUPPORTED_COUNTRIES",
    "RegistryRecord",
    "RegistryUnavailable",
    "lookup",
    "registry_number",
]


def lookup(country: str, number: str) -> RegistryRecord | None:
    backend = BACKENDS.get((country or "").upper())
    if backend is None:
        raise ValueError(f"no business registry for {country!r}")
    return backend(number)


def _from_vat(vat_number: str, country: str) -> str:
    """The registry number inside a VAT number: NO + orgnr + MVA, FI + Business ID digits."""
    digits = re.sub(r"\D", "", vat_number or "")
    if country == "NO":
        return digits[:9]
    if country == "FI":
        return digits[:8]
    return ""


def registry_number(customer) -> str:
    """The number to look ``customer`` up by: its organisation number, else its VAT number.

    Empty when the customer's country has no backend or it has no usable company number.
    """
    country = (customer.country or "").upper()
    module = {"NO": orgnr, "FI": ytunnus}.get(country)
    if module is None:
        return ""
    for candidate in (customer.org_number, _from_vat(customer.vat_number, country)):
        try:
            number = module.validate(candidate or "")
        except StdnumError:
            continue
        return module.format(number) if country == "FI" else number
    return ""
