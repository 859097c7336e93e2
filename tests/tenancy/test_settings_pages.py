"""The tenant settings pages: reference registers and API keys."""

from __future__ import annotations

from django.core.management import call_command

from audit.models import AuditEvent
from tenancy.context import tenant_context
from tenancy.models import ApiKey, ReferenceEntry, Tenant


def test_admin_adds_and_edits_a_register_entry(personas):
    client = personas.client(personas.alice)
    url = "/settings/registers/payment_terms/"
    response = client.post(url, {"code": "30", "name": "30 dagar netto", "sort_order": 1})
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        entry = ReferenceEntry.objects.get(register="payment_terms", code="30")
        assert AuditEvent.objects.filter(action="reference_entry.created").count() == 1
    response = client.post(f"{url}{entry.pk}/", {"code": "30", "name": "30 dagar", "sort_order": 1})
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        entry.refresh_from_db()
        assert entry.name == "30 dagar" and entry.is_active is False  # unchecked box


def test_duplicate_code_is_a_field_error(personas):
    client = personas.client(personas.alice)
    url = "/settings/registers/district/"
    client.post(url, {"code": "N", "name": "Norr", "sort_order": 0})
    response = client.post(url, {"code": "N", "name": "Nord", "sort_order": 0})
    assert response.status_code == 200
    assert "This code is already used in this register." in response.content.decode()
    with tenant_context(personas.tenant_a):
        assert ReferenceEntry.objects.get(code="N").name == "Norr"


def test_unknown_register_is_404(personas):
    assert personas.client(personas.alice).get("/settings/registers/nope/").status_code == 404


def test_api_key_is_shown_once_and_revocable(personas):
    client = personas.client(personas.alice)
    page = client.post(
        "/settings/api-keys/", {"name": "Kassa 2", "scopes": ["customers:read"]}
    ).content.decode()
    with tenant_context(personas.tenant_a):
        key = ApiKey.objects.get(name="Kassa 2")
    assert 'id="new-api-key"' in page and key.prefix in page
    assert 'id="new-api-key"' not in client.get("/settings/api-keys/").content.decode()
    response = client.post(f"/settings/api-keys/{key.prefix}/revoke/")
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        key.refresh_from_db()
        assert key.revoked


def test_api_key_needs_a_scope_and_the_list_names_them(personas):
    client = personas.client(personas.alice)
    response = client.post("/settings/api-keys/", {"name": "Kassa 3"})
    html = response.content.decode()
    assert response.status_code == 200 and "Choose at least one scope." in html
    with tenant_context(personas.tenant_a):
        assert not ApiKey.objects.filter(name="Kassa 3").exists()
    client.post(
        "/settings/api-keys/", {"name": "Kassa 3", "scopes": ["customers:read", "sales:write"]}
    )
    listing = client.get("/settings/api-keys/").content.decode()
    assert "Read customers, Report sales documents" in listing


def test_api_key_form_needs_a_name(personas):
    response = personas.client(personas.alice).post("/settings/api-keys/", {"name": ""})
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()


def test_seed_demo_is_idempotent(db):
    call_command("seed_demo", "--customers", "20")
    call_command("seed_demo", "--customers", "20")
    demo = Tenant.objects.get(slug="demo")
    with tenant_context(demo):
        assert ReferenceEntry.objects.filter(register="payment_terms").count() == 4
        # Consent: the terms in every language, once, and some customers asked or answered.
        from consent.models import ConsentState, ConsentTerms

        assert sorted(ConsentTerms.objects.values_list("language", flat=True)) == [
            "da",
            "en",
            "nb",
            "sv",
        ]
        assert ConsentState.objects.exists()
        # Sales history old enough that the Anonymization page has rows of every kind.
        from anonymization.eligibility import blocked_customers, eligible_customers

        assert eligible_customers(prospects=False).exists()
        assert blocked_customers().exists()
    assert demo.memberships.count() == 4
