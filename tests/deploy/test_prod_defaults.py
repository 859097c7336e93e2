"""Production has no silent defaults for where mail comes from and what links point at."""

from __future__ import annotations

import importlib
import json
import secrets
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

GOOD = {
    "SECRET_KEY": secrets.token_urlsafe(60),
    "AUDIT_CHAIN_KEY": secrets.token_hex(32),
    "ALLOWED_HOSTS": "kundreg.example.com",
    "SITE_URL": "https://kundreg.example.com",
    "DEFAULT_FROM_EMAIL": "Kundreg <no-reply@kundreg.example.com>",
    "SMS_BACKEND": "notifications.backends.file.FileBackend",
}


def _import_prod(monkeypatch, **env: str | None):
    for name in ("SECRET_KEY_FILE", "AUDIT_CHAIN_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (GOOD | env).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "config.settings.prod", raising=False)
    try:
        return importlib.import_module("config.settings.prod")
    finally:
        sys.modules.pop("config.settings.prod", None)


def test_prod_loads_with_a_sender_and_a_site(monkeypatch):
    prod = _import_prod(monkeypatch)
    sender = GOOD["DEFAULT_FROM_EMAIL"]
    assert {prod.DEFAULT_FROM_EMAIL, prod.SERVER_EMAIL} == {sender}  # error mails too


@pytest.mark.parametrize(
    "sender",
    [
        None,
        "",
        "Kundreg <no-reply@kundreg.localhost>",  # base.py's development default
        "no-reply@localhost",
        "no-reply@kundreg.test",
        "not an address",
    ],
)
def test_prod_refuses_a_missing_or_made_up_sender(monkeypatch, sender):
    with pytest.raises(ImproperlyConfigured, match="DEFAULT_FROM_EMAIL"):
        _import_prod(monkeypatch, DEFAULT_FROM_EMAIL=sender)


@pytest.mark.parametrize("site", [None, "", "kundreg.example.com", "ftp://kundreg.example.com"])
def test_prod_refuses_a_missing_site_url(monkeypatch, site):
    with pytest.raises(ImproperlyConfigured, match="SITE_URL"):
        _import_prod(monkeypatch, SITE_URL=site)


@pytest.mark.django_db
def test_problem_types_are_under_the_sites_own_address(settings, personas):
    settings.SITE_URL = "https://kundreg.nordljus.se"
    api = personas.api(personas.key_a)
    # Raised through DRF (a validation error) ...
    invalid = api.post("/api/v1/reference-entries/", "{}", content_type="application/json")
    # ... and answered by the API guard before any view (NUL in the body).
    guarded = api.post(
        "/api/v1/reference-entries/",
        json.dumps({"register": "district", "code": "N\x00", "name": "x"}),
        content_type="application/json",
    )
    # ... and without any credentials.
    anonymous = Client().get("/api/v1/reference-entries/")
    for response in (invalid, guarded, anonymous):
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["type"].startswith("https://kundreg.nordljus.se/problems/")
