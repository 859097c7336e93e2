"""The "Consent" filter of the customer list (customers.hooks.consent_status_filter, set by
consent/): every status, "none" for customers never asked, with the search, in saved lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.actors import Actor
from consent.models import ConsentRequest, ConsentStatus
from consent.services import consent_record, consent_request_create, consent_terms_publish
from customers import hooks
from customers.models import SavedList
from tenancy.context import tenant_context
from tests.factories import make_customer

SYSTEM = Actor.system("test")


@pytest.fixture
def by_status(personas):
    """One customer of tenant A per consent status (names "Kund <status>")."""
    with tenant_context(personas.tenant_a):
        terms = consent_terms_publish(language="sv", text="Vi sparar dina uppgifter.", actor=SYSTEM)
        made = {
            status: make_customer(
                name=f"Kund {status}", email=f"{status}@example.test", language="sv"
            )
            for status in ConsentStatus.values
        }
        for status in ("requested", "expired"):
            consent_request_create(customer=made[status], channel="email", actor=SYSTEM)
        # Nobody answered in time: the request reads as expired.
        ConsentRequest.objects.filter(customer=made["expired"]).update(
            expires_at=timezone.now() - timedelta(days=1)
        )
        for decision in ("granted", "declined", "withdrawn"):
            if decision == "withdrawn":
                consent_record(
                    customer=made[decision],
                    decision="granted",
                    method="manual",
                    actor=SYSTEM,
                    terms_version=terms.version,
                )
            consent_record(
                customer=made[decision],
                decision=decision,
                method="manual",
                actor=SYSTEM,
                terms_version=terms.version,
            )
    with tenant_context(personas.tenant_b):
        make_customer(name="Kund none i B")
    return made


def _names(response) -> set[str]:
    assert response.status_code == 200, response.content[:500]
    return {c.name for c in response.context["page"]}


@pytest.mark.parametrize("status", ConsentStatus.values)
def test_each_status_filters_the_list(personas, by_status, status):
    client = personas.client(personas.bob)
    assert _names(client.get(f"/customers/?consent={status}")) == {f"Kund {status}"}


def test_filter_works_with_the_search(personas, by_status):
    client = personas.client(personas.bob)
    assert _names(client.get("/customers/?q=Kund&consent=granted")) == {"Kund granted"}
    assert _names(client.get("/customers/?q=granted&consent=declined")) == set()
    assert _names(client.get("/customers/?q=Kund")) == {f"Kund {s}" for s in ConsentStatus.values}


def test_filter_is_offered_with_every_status(personas, by_status):
    page = personas.client(personas.bob).get("/customers/").content.decode()
    assert '<select name="consent"' in page
    for status in ConsentStatus.values:
        assert f'value="{status}"' in page


def test_an_unknown_status_is_a_field_error(personas, by_status):
    response = personas.client(personas.bob).get("/customers/?consent=maybe")
    assert response.status_code == 200
    assert response.context["page"] is None
    assert response.context["form"].errors["consent"]


def test_saved_list_and_print_keep_the_filter(personas, by_status):
    client = personas.client(personas.bob)
    response = client.post(
        "/customers/lists/", {"list-name": "Samtyckta", "status": "active", "consent": "granted"}
    )
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        saved = SavedList.objects.get(name="Samtyckta")
    assert saved.filters["consent"] == "granted"
    opened = client.get(f"/customers/lists/{saved.pk}/")
    assert "consent=granted" in opened["Location"]
    printed = client.get("/customers/?consent=granted&print=1").content.decode()
    assert "Kund granted" in printed and "Kund declined" not in printed
    assert "Consent approved" in printed
    export = client.get("/customers/export/csv/?consent=declined").getvalue().decode("utf-8-sig")
    assert "Kund declined" in export and "Kund granted" not in export


def test_without_the_hook_there_is_no_filter(personas, by_status, monkeypatch):
    monkeypatch.setattr(hooks, "consent_status_filter", None)
    response = personas.client(personas.bob).get("/customers/?consent=granted")
    assert '<select name="consent"' not in response.content.decode()
    assert len(_names(response)) == len(ConsentStatus.values)
