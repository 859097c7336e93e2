"""What every business-registry backend returns, and the one way they fetch over HTTP."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from django.conf import settings

DEFAULT_TIMEOUT = 5.0  # seconds; the user is waiting for the page
MAX_RESPONSE_BYTES = 1024 * 1024
USER_AGENT = "Kundreg/1.0 (customer registry; business-registry update)"


class RegistryUnavailable(Exception):
    """The registry could not be asked (timeout, network, server error, unreadable answer)."""


@dataclass(frozen=True)
class RegistryRecord:
    """A company as a business registry describes it, mapped to the card's fields."""

    registry: str  # "brreg" or "prh"
    number: str
    name: str = ""
    line1: str = ""
    line2: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""
    email: str = ""
    website: str = ""


def timeout() -> float:
    return float(getattr(settings, "REGISTRY_LOOKUP_TIMEOUT", DEFAULT_TIMEOUT))


def get_json(url: str, *, params: dict | None = None, not_found=(404,)) -> dict | list | None:
    """The decoded JSON body; None for a ``not_found`` status; RegistryUnavailable otherwise."""
    try:
        response = requests.get(
            url,
            params=params,
            timeout=timeout(),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise RegistryUnavailable(type(exc).__name__) from exc
    if response.status_code in not_found:
        return None
    if response.status_code != 200:
        raise RegistryUnavailable(f"HTTP {response.status_code}")
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise RegistryUnavailable("response too large")
    try:
        return response.json()
    except ValueError as exc:
        raise RegistryUnavailable("not JSON") from exc


def text(value) -> str:
    """A clean single-line string from whatever the registry sent (None, numbers, padding)."""
    if value is None or isinstance(value, dict | list):
        return ""
    return " ".join(str(value).split())
