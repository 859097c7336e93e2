"""Finland: PRH's open data of the Business Information System (YTJ), API v3 (no key).

``GET https://avoindata.prh.fi/opendata-ytj-api/v3/companies?businessId=...``
answers 200 with ``{"totalResults": n, "companies": [...]}``; an unknown
Business ID gives no companies, a malformed one a 400. Names, addresses and
post offices come as lists with types, languages and end dates.
"""

from __future__ import annotations

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import ytunnus

from .base import RegistryRecord, get_json, text

URL = "https://avoindata.prh.fi/opendata-ytj-api/v3/companies"
NAME_COMPANY = "1"  # names[].type: 1 = the company's name (others: parallel and auxiliary names)
VISITING, POSTAL = "1", "2"  # addresses[].type
FINNISH = "1"  # languageCode: 1 Finnish, 2 Swedish, 3 English


def _current(entries) -> list[dict]:
    return [e for e in entries or [] if isinstance(e, dict) and not e.get("endDate")]


def _name(company: dict) -> str:
    names = _current(company.get("names"))
    main = [n for n in names if str(n.get("type")) == NAME_COMPANY] or names
    return text(main[0].get("name")) if main else ""


def _city(address: dict) -> str:
    offices = [o for o in address.get("postOffices") or [] if isinstance(o, dict)]
    finnish = [o for o in offices if str(o.get("languageCode")) == FINNISH]
    chosen = (finnish or offices)[:1]
    return text(chosen[0].get("city")) if chosen else ""


def _street(address: dict) -> str:
    street = " ".join(
        text(address.get(k))
        for k in ("street", "buildingNumber", "entrance")
        if text(address.get(k))
    )
    apartment = text(address.get("apartmentNumber")) + text(address.get("apartmentIdSuffix"))
    if street and apartment:
        street = f"{street} {apartment}"
    if not street and text(address.get("postOfficeBox")):
        street = f"PL {text(address.get('postOfficeBox'))}"
    return street or text(address.get("freeAddressLine"))


def _address(company: dict) -> dict:
    addresses = _current(company.get("addresses"))
    for wanted in (VISITING, POSTAL):
        for address in addresses:
            if str(address.get("type")) == wanted and (_street(address) or address.get("postCode")):
                country = text(address.get("country")).upper()
                return {
                    "line1": _street(address),
                    "line2": f"c/o {text(address['co'])}" if text(address.get("co")) else "",
                    "postcode": text(address.get("postCode")),
                    "city": _city(address),
                    "country": country if len(country) == 2 else "FI",
                }
    return {}


def _website(company: dict) -> str:
    website = company.get("website")
    if isinstance(website, dict):
        return text(website.get("url"))
    return text(website)


def _business_id(company: dict) -> str:
    value = company.get("businessId")
    return text(value.get("value") if isinstance(value, dict) else value)


def lookup(number: str) -> RegistryRecord | None:
    try:
        business_id = ytunnus.format(ytunnus.validate(number))
    except StdnumError:
        return None
    data = get_json(URL, params={"businessId": business_id}, not_found=(400, 404))
    companies = data.get("companies") if isinstance(data, dict) else None
    matches = [c for c in companies or [] if isinstance(c, dict) and _business_id(c) == business_id]
    if not matches or not _name(matches[0]):
        return None
    company = matches[0]
    return RegistryRecord(
        registry="prh",
        number=business_id,
        name=_name(company),
        website=_website(company),
        **_address(company),  # YTJ's open data publishes no email address
    )
