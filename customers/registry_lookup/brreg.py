"""Norway: Brønnøysundregistrene's Enhetsregisteret (open data, no key).

``GET https://data.brreg.no/enhetsregisteret/api/enheter/{orgnr}`` answers 200
with the unit, 404 for an unknown number, 410 Gone for a deleted unit and 400
for a malformed number.
"""

from __future__ import annotations

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import orgnr

from .base import RegistryRecord, get_json, text

URL = "https://data.brreg.no/enhetsregisteret/api/enheter/{orgnr}"


def _address(unit: dict) -> dict:
    # The business address; units without one (e.g. some associations) have only a postal one.
    for key in ("forretningsadresse", "postadresse"):
        address = unit.get(key)
        if isinstance(address, dict) and any(address.get(k) for k in ("adresse", "postnummer")):
            lines = [text(line) for line in address.get("adresse") or [] if text(line)]
            return {
                "line1": lines[0] if lines else "",
                "line2": ", ".join(lines[1:]),
                "postcode": text(address.get("postnummer")),
                "city": text(address.get("poststed")),
                "country": text(address.get("landkode")).upper()[:2] or "NO",
            }
    return {}


def lookup(number: str) -> RegistryRecord | None:
    try:
        number = orgnr.validate(number)
    except StdnumError:
        return None
    unit = get_json(URL.format(orgnr=number), not_found=(400, 404, 410))
    if not isinstance(unit, dict) or not unit.get("navn"):
        return None
    return RegistryRecord(
        registry="brreg",
        number=text(unit.get("organisasjonsnummer")) or number,
        name=text(unit.get("navn")),
        email=text(unit.get("epostadresse")),
        website=text(unit.get("hjemmeside")),
        **_address(unit),
    )
