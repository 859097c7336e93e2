"""Identity numbers validated per country with python-stdnum, with messages users understand."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import ean
from stdnum.dk import cpr as dk_cpr
from stdnum.dk import cvr as dk_cvr
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import hetu as fi_hetu
from stdnum.fi import ytunnus as fi_ytunnus
from stdnum.no import fodselsnummer as no_fnr
from stdnum.no import mva as no_mva
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum.se import personnummer as se_pnr

# (company module, person module) per country
ORG_NUMBER_MODULES = {
    "SE": (se_orgnr, se_pnr),
    "NO": (no_orgnr, no_fnr),
    "DK": (dk_cvr, dk_cpr),
    "FI": (fi_ytunnus, fi_hetu),
}
ORG_NUMBER_EXAMPLES = {
    "SE": "556677-8899",
    "NO": "923 609 016",
    "DK": "13585628",
    "FI": "2077474-0",
}


def clean_org_number(value: str, *, country: str, kind: str) -> str:
    """The number in its standard format, or a ValidationError naming the country's format."""
    value = (value or "").strip()
    modules = ORG_NUMBER_MODULES.get((country or "").upper())
    if not value or modules is None:
        return value
    company, person = modules
    for module in (company, person) if kind == "company" else (person, company):
        try:
            number = module.validate(value)
        except StdnumError:
            continue
        return module.format(number) if hasattr(module, "format") else number
    raise ValidationError(
        {
            "org_number": _(
                "This is not a valid organisation or personal identity number for %(country)s "
                "(for example %(example)s)."
            )
            % {"country": country.upper(), "example": ORG_NUMBER_EXAMPLES[country.upper()]}
        }
    )


def clean_vat_number(value: str, *, country: str) -> str:
    value = (value or "").strip().upper().replace(" ", "")
    if not value:
        return value
    try:
        if country.upper() == "NO" or value.startswith("NO"):
            return no_mva.compact(no_mva.validate(value))
        return eu_vat.compact(eu_vat.validate(value))
    except StdnumError as exc:
        raise ValidationError(
            {
                "vat_number": _(
                    "This is not a valid VAT number. Start with the country code, "
                    "for example SE556677889901."
                )
            }
        ) from exc


def clean_gln(value: str) -> str:
    value = (value or "").strip().replace(" ", "")
    if not value:
        return value
    if value.upper().startswith("SE") and value[2:].isdigit():
        return value.upper()  # a Swedish SE number (Sweden-only EDI address)
    try:
        return ean.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            {"edi_reference": _("Give a 13-digit GLN/EAN number or an SE number.")}
        ) from exc
