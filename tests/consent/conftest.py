from __future__ import annotations

import itertools

import pytest

from audit.actors import Actor
from consent.services import consent_terms_publish
from tenancy.context import tenant_context
from tests.factories import make_customer

SV_TEXT = "Vi sparar dina uppgifter för att kunna ge dig service.\nDu kan när som helst återkalla."
EN_TEXT = "We keep your details to serve you.\nYou may withdraw at any time."
NB_TEXT = "Vi lagrer opplysningene dine for å kunne gi deg service."

_ips = itertools.count(1)


@pytest.fixture(autouse=True)
def _generous_page_rate(settings):
    settings.CONSENT_PAGE_RATE = 1000


@pytest.fixture(autouse=True)
def _sms_subscribed(request):
    """Both test tenants subscribe to SMS (tests of the missing subscription opt out)."""
    if "personas" not in request.fixturenames or "no_sms" in request.keywords:
        return
    from notifications.services import notification_settings_update

    personas = request.getfixturevalue("personas")
    for tenant in (personas.tenant_a, personas.tenant_b):
        with tenant_context(tenant):
            notification_settings_update(sms_enabled=True)


@pytest.fixture
def ip():
    """A fresh client IP per test, so the page's rate limit (in the shared cache) is per test."""
    n = next(_ips)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@pytest.fixture
def in_a(personas):
    return lambda: tenant_context(personas.tenant_a)


@pytest.fixture
def in_b(personas):
    return lambda: tenant_context(personas.tenant_b)


@pytest.fixture
def terms_a(personas, in_a):
    actor = Actor.user(personas.alice)
    with in_a():
        sv = consent_terms_publish(language="sv", text=SV_TEXT, actor=actor)
        en = consent_terms_publish(language="en", text=EN_TEXT, actor=actor)
    return {"sv": sv, "en": en}


@pytest.fixture
def terms_b(personas, in_b):
    with in_b():
        return consent_terms_publish(
            language="nb", text=NB_TEXT, actor=Actor.user(personas.charlie)
        )


@pytest.fixture
def customer_a(in_a, terms_a):
    with in_a():
        return make_customer(
            name="Åsa Lind", email="asa@example.test", mobile="+46701234567", language="sv"
        )


@pytest.fixture
def customer_b(in_b, terms_b):
    with in_b():
        return make_customer(name="Kari Nordmann", email="kari@example.test", language="nb")
