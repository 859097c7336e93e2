"""Retention settings (issue 9 item 3): presets, the default before anything is saved,
validation that changes nothing, who may edit, and audit entries with old and new values."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from anonymization.models import PRESETS, RetentionPolicy
from anonymization.selectors import preset_for_country, retention_policy
from anonymization.services import retention_policy_update, retention_preset_apply
from audit.actors import Actor
from audit.models import AuditEvent
from customers.models import Customer
from tenancy.context import tenant_context
from tenancy.models import Tenant
from tests.customers.test_card_views import _settings_data
from tests.factories import make_customer

URL = "/settings/retention/"
SYSTEM = Actor.system("tests")
GOOD = {
    "customer_years": 7,
    "prospect_years": 2,
    "fiscal_year_end_month": 12,
    "fiscal_year_end_day": 31,
}


def _form(**changes) -> dict:
    return {"form": "settings", **{k: str(v) for k, v in (GOOD | changes).items()}}


def test_presets_name_their_law_and_years():
    assert {c: p.years for c, p in PRESETS.items()} == {"DK": 5, "SE": 7, "NO": 5, "FI": 6}
    assert [p.law for p in PRESETS.values()] == [
        "Bogføringsloven",
        "Bokföringslagen",
        "Bokføringsloven",
        "Kirjanpitolaki",
    ]
    for preset in PRESETS.values():
        assert preset.law in str(preset.source)
        assert preset.prospect_years == 2 <= preset.years
    assert preset_for_country("dk").years == 5
    assert preset_for_country("DE").years == 7  # unknown country: the longest, until decided


def test_default_policy_is_the_countrys_preset_with_a_calendar_year(personas):
    with tenant_context(personas.tenant_a):  # SE
        policy = retention_policy()
        assert not policy.is_saved
        assert (policy.customer_years, policy.prospect_years, policy.preset) == (7, 2, "SE")
        assert (policy.fiscal_year_end_month, policy.fiscal_year_end_day) == (12, 31)
        assert not RetentionPolicy.objects.exists()  # reading saves nothing
    with tenant_context(personas.tenant_b):  # NO
        policy = retention_policy()
        assert (policy.customer_years, policy.prospect_years, policy.preset) == (5, 2, "NO")


def test_update_saves_and_audits_old_and_new_values(personas):
    with tenant_context(personas.tenant_a):
        policy = retention_policy_update(
            actor=SYSTEM,
            customer_years=10,
            prospect_years=3,
            fiscal_year_end_month=6,
            fiscal_year_end_day=30,
        )
        assert policy.is_saved and policy.preset == ""  # no longer the Swedish preset
        tenant = Tenant.objects.get(pk=personas.tenant_a.pk)
        assert (tenant.fiscal_year_end_month, tenant.fiscal_year_end_day) == (6, 30)
        event = AuditEvent.objects.get(action="retention.policy_changed")
        assert event.data["old"] == {
            "customer_years": 7,
            "prospect_years": 2,
            "fiscal_year_end_month": 12,
            "fiscal_year_end_day": 31,
            "preset": "SE",
        }
        assert event.data["new"] == {
            "customer_years": 10,
            "prospect_years": 3,
            "fiscal_year_end_month": 6,
            "fiscal_year_end_day": 30,
            "preset": "",
        }
        values = [*event.data["old"].values(), *event.data["new"].values()]
        assert all(isinstance(v, int) or v in ("SE", "") for v in values)
        # Saving the same values again changes and audits nothing.
        retention_policy_update(
            actor=SYSTEM,
            customer_years=10,
            prospect_years=3,
            fiscal_year_end_month=6,
            fiscal_year_end_day=30,
        )
        assert AuditEvent.objects.filter(action="retention.policy_changed").count() == 1
        assert RetentionPolicy.objects.count() == 1


def test_applying_a_preset_keeps_the_fiscal_year(personas):
    with tenant_context(personas.tenant_a):
        retention_policy_update(actor=SYSTEM, **(GOOD | {"fiscal_year_end_month": 3}))
        policy = retention_preset_apply(actor=SYSTEM, country="FI")
        assert (policy.customer_years, policy.prospect_years, policy.preset) == (6, 2, "FI")
        assert policy.fiscal_year_end_month == 3
        with pytest.raises(ValidationError):
            retention_preset_apply(actor=SYSTEM, country="DE")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer_years": 0}, "customer_years"),
        ({"customer_years": 21}, "customer_years"),
        ({"customer_years": "x"}, "customer_years"),
        ({"prospect_years": 0}, "prospect_years"),
        ({"prospect_years": 8}, "prospect_years"),  # longer than the customers' 7
        ({"fiscal_year_end_month": 13}, "fiscal_year_end_month"),
        ({"fiscal_year_end_month": 2, "fiscal_year_end_day": 29}, "fiscal_year_end_day"),
        ({"fiscal_year_end_month": 4, "fiscal_year_end_day": 31}, "fiscal_year_end_day"),
        ({"preset": "DE"}, "preset"),
    ],
)
def test_bad_input_changes_nothing(personas, changes, field):
    with tenant_context(personas.tenant_a):
        with pytest.raises(ValidationError) as caught:
            retention_policy_update(actor=SYSTEM, **(GOOD | changes))
        assert field in caught.value.message_dict
        assert not RetentionPolicy.objects.exists()
        assert not AuditEvent.objects.filter(action__startswith="retention.").exists()
        assert Tenant.objects.get(pk=personas.tenant_a.pk).fiscal_year_end_month == 12


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"prospect_years": 9}, "prospect_years"),
        ({"customer_years": 25}, "customer_years"),
        ({"fiscal_year_end_month": 2, "fiscal_year_end_day": 29}, "fiscal_year_end_day"),
        ({"customer_years": "sju"}, "customer_years"),
    ],
)
def test_the_page_shows_field_errors_and_saves_nothing(personas, changes, field):
    response = personas.client(personas.alice).post(URL, _form(**changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    with tenant_context(personas.tenant_a):
        assert not RetentionPolicy.objects.exists()


def test_admin_edits_on_the_page(personas):
    alice = personas.client(personas.alice)
    page = alice.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    for law in ("Bogføringsloven", "Bokföringslagen", "Bokføringsloven", "Kirjanpitolaki"):
        assert law in html
    assert 'id="retention-default"' in html
    response = alice.post(URL, _form(customer_years=8, prospect_years=1))
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        policy = retention_policy()
        assert (policy.customer_years, policy.prospect_years) == (8, 1)
    response = alice.post(URL, {"form": "preset", "preset-country": "DK"})
    assert response.status_code == 302
    with tenant_context(personas.tenant_a):
        policy = retention_policy()
        assert (policy.customer_years, policy.prospect_years, policy.preset) == (5, 2, "DK")
    assert "Bogføringsloven § 12" in alice.get(URL).content.decode()
    response = alice.post(URL, {"form": "preset", "preset-country": "XX"})
    assert response.status_code == 200 and "country" in response.context["preset_form"].errors


@pytest.mark.parametrize("who", ["bea", "bob", "erik"])
def test_only_admins_may_change_retention(personas, who):
    client = personas.client(getattr(personas, who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, _form(customer_years=3)).status_code == 403
    with tenant_context(personas.tenant_a):
        assert not RetentionPolicy.objects.exists()


def test_another_tenants_admin_changes_only_their_own(personas):
    charlie = personas.client(personas.charlie)
    assert charlie.post(URL, _form(customer_years=9)).status_code == 302
    with tenant_context(personas.tenant_a):
        assert not RetentionPolicy.objects.exists()
    with tenant_context(personas.tenant_b):
        assert retention_policy().customer_years == 9


def test_the_settings_menu_links_the_page_for_admins_only(personas):
    # The nav's one "Settings" entry leads to the settings menu (issue 14, item 3).
    assert URL in personas.client(personas.alice).get("/settings/").content.decode()
    assert personas.client(personas.bea).get("/settings/").status_code == 403
    assert URL not in personas.client(personas.bea).get("/").content.decode()


def test_admin_sets_a_customer_override_on_the_card(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Överstyrd AB")
    alice = personas.client(personas.alice)
    url = f"/customers/{customer.pk}/settings/"
    data = _settings_data(alice, url)
    data["retention_years"] = "10"
    response = alice.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(personas.tenant_a):
        assert Customer.objects.get(pk=customer.pk).retention_years == 10


@pytest.mark.parametrize("value", ["0", "99"])
def test_a_customer_override_out_of_range_is_refused(personas, value):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="Utanför AB")
    alice = personas.client(personas.alice)
    url = f"/customers/{customer.pk}/settings/"
    response = alice.post(url, _settings_data(alice, url) | {"retention_years": value})
    assert response.status_code == 200
    assert "retention_years" in response.context["form"].errors
    with tenant_context(personas.tenant_a):
        assert Customer.objects.get(pk=customer.pk).retention_years is None


def test_the_api_refuses_an_override_out_of_range(personas):
    with tenant_context(personas.tenant_a):
        customer = make_customer(name="API AB")
    client = personas.client(personas.alice)
    url = f"/api/v1/customers/{customer.pk}/"
    response = client.patch(url, {"retention_years": 0}, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    response = client.patch(url, {"retention_years": 20}, content_type="application/json")
    assert response.status_code == 200 and response.json()["retention_years"] == 20
