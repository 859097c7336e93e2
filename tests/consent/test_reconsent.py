"""Customers who consented to older terms, and asking them again (source outdated_terms)."""

from __future__ import annotations

import pytest

from audit.actors import Actor
from consent.batches import consent_batch_chunk
from consent.models import ConsentBatch, ConsentBatchItem, ConsentRequest
from consent.selectors import customers_on_outdated_terms
from consent.services import consent_record, consent_terms_publish
from tests.factories import make_customer

SYSTEM = Actor.system("test")


def _grant(customer, version, language=None):
    consent_record(
        customer=customer,
        decision="granted",
        method="manual",
        actor=SYSTEM,
        terms_version=version,
        language=language,
    )


@pytest.fixture
def outdated(in_a, terms_a):
    """Swedish v1 → v2; English stays at v1. Tenant A's default language is Swedish."""
    with in_a():
        old_sv = make_customer(name="Gammal Svensk", email="gs@example.test", language="sv")
        old_default = make_customer(name="Gammal Standard", mobile="+46702222222")
        _grant(old_sv, 1)
        _grant(old_default, 1, language="sv")
        consent_terms_publish(language="sv", text="Ny text, version 2.", actor=SYSTEM)
        new_sv = make_customer(name="Ny Svensk", email="ns@example.test", language="sv")
        _grant(new_sv, 2)
        english = make_customer(name="English Current", email="en@example.test", language="en")
        _grant(english, 1)
        declined = make_customer(name="Nej Tack", email="nt@example.test", language="sv")
        _grant(declined, 1)
        consent_record(customer=declined, decision="declined", method="manual", actor=SYSTEM)
        never = make_customer(name="Aldrig Tillfrågad", email="at@example.test", language="sv")
    return {"old_sv": old_sv, "old_default": old_default, "never": never, "new_sv": new_sv}


def test_selector_lists_granted_to_an_older_version_in_their_language(in_a, outdated):
    with in_a():
        rows = {
            c.name: (c.consented_version, c.current_version) for c in customers_on_outdated_terms()
        }
    assert rows == {"Gammal Svensk": (1, 2), "Gammal Standard": (1, 2)}


def test_page_lists_them_and_ask_again_starts_a_batch(personas, in_a, outdated):
    client = personas.client(personas.bob)
    page = client.get("/consent/reconsent/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Gammal Svensk" in html and "Gammal Standard" in html and "Ny Svensk" not in html
    response = client.post("/consent/reconsent/", {"channel": "any"})
    assert response.status_code == 302
    with in_a():
        batch = ConsentBatch.objects.get()
        assert response["Location"] == f"/t/nordljus/consent/batches/{batch.pk}/"
        assert set(ConsentBatchItem.objects.values_list("customer_id", flat=True)) == {
            outdated["old_sv"].pk,
            outdated["old_default"].pk,
        }
        consent_batch_chunk(batch_id=batch.pk)
        batch.refresh_from_db()
        requests = list(ConsentRequest.objects.filter(batch=batch).select_related("terms"))
    assert (batch.source, batch.sent) == ("outdated_terms", 2)
    assert {r.terms.version for r in requests} == {2}


def test_nobody_outdated_is_a_clear_error(personas, in_a, terms_a):
    response = personas.client(personas.bob).post("/consent/reconsent/", {"channel": "email"})
    assert response.status_code == 200
    assert "There are no customers to ask." in response.content.decode()
    with in_a():
        assert not ConsentBatch.objects.exists()


def test_bad_channel_is_a_field_error(personas, in_a, outdated):
    response = personas.client(personas.bob).post("/consent/reconsent/", {"channel": "pigeon"})
    assert response.status_code == 200
    assert response.context["form"].errors["channel"]
    with in_a():
        assert not ConsentBatch.objects.exists()


def test_another_tenant_sees_none_of_them(personas, outdated):
    page = personas.client(personas.charlie).get("/consent/reconsent/")
    assert "Gammal" not in page.content.decode()
    response = personas.client(personas.charlie).post("/consent/reconsent/", {"channel": "any"})
    assert response.status_code == 200
