"""The consent badge consent/ provides for the registry's card and list."""

from __future__ import annotations

from django.test import Client

from audit.actors import Actor
from consent.services import consent_record, consent_terms_publish
from tenancy.context import tenant_context
from tests.factories import make_customer


def test_card_and_list_show_the_consent_status_in_swedish(personas):
    system = Actor.system("test")
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Samtyckande AB")
        terms = consent_terms_publish(language="sv", text="Vi sparar dina uppgifter.", actor=system)
        consent_record(
            customer=customer,
            decision="granted",
            method="manual",
            actor=system,
            language="sv",
            terms_version=terms.version,
        )
        other = make_customer(name="Utan Samtycke AB")
    client: Client = personas.client(personas.bob)
    client.post("/i18n/setlang/", {"language": "sv", "next": "/"})
    card = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Samtycke godkänt" in card
    listing = client.get("/customers/?search=samtyck").content.decode()
    assert listing.count("consent-granted") == 1
    assert "consent-none" in listing
    assert "Utan Samtycke AB" in client.get(f"/customers/{other.pk}/").content.decode()
