"""Company settings and users: admins manage them; the last admin stays."""

from __future__ import annotations

from django.core import mail

from audit.models import AuditEvent
from tenancy.context import tenant_context
from tenancy.models import Membership, Tenant


def test_admin_changes_company_settings(personas):
    client = personas.client(personas.alice)
    response = client.post(
        "/settings/company/",
        {
            "name": "Nordljus Sverige AB",
            "languages": ["sv", "en"],
            "time_zone": "Europe/Stockholm",
            "fiscal_year_end_month": 6,
            "fiscal_year_end_day": 30,
        },
    )
    assert response.status_code == 302
    tenant = Tenant.objects.get(pk=personas.tenant_a.pk)
    assert (tenant.name, tenant.fiscal_year_end_month, tenant.fiscal_year_end_day) == (
        "Nordljus Sverige AB",
        6,
        30,
    )
    with tenant_context(tenant):
        event = AuditEvent.objects.get(action="tenant.settings_changed")
    assert "name" in event.data["fields"]


def test_impossible_fiscal_year_end_is_a_field_error(personas):
    response = personas.client(personas.alice).post(
        "/settings/company/",
        {
            "name": "X",
            "languages": ["sv"],
            "time_zone": "Europe/Stockholm",
            "fiscal_year_end_month": 2,
            "fiscal_year_end_day": 30,
        },
    )
    assert response.status_code == 200
    assert "That day does not exist in that month." in response.content.decode()
    assert Tenant.objects.get(pk=personas.tenant_a.pk).name == "Nordljus AB"


def test_invite_creates_member_and_sends_password_link(
    personas, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = personas.client(personas.alice).post(
            "/settings/members/", {"email": "nyanstalld@nordljus.se", "role": "staff"}
        )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="nyanstalld@nordljus.se")
    assert membership.tenant == personas.tenant_a and membership.role == "staff"
    assert len(mail.outbox) == 1
    assert settings.SITE_URL + "/accounts/reset/" in mail.outbox[0].body


def test_inviting_an_existing_member_is_a_field_error(personas):
    response = personas.client(personas.alice).post(
        "/settings/members/", {"email": "bob@example.test", "role": "admin"}
    )
    assert response.status_code == 200
    assert "already a member" in response.content.decode()


def test_last_admin_cannot_be_demoted(personas):
    alice = Membership.objects.get(user=personas.alice, tenant=personas.tenant_a)
    client = personas.client(personas.alice)
    client.post(f"/settings/members/{alice.pk}/", {"role": "staff", "is_active": "on"})
    alice.refresh_from_db()
    assert alice.role == "admin"


def test_admin_changes_a_role(personas):
    bob = Membership.objects.get(user=personas.bob, tenant=personas.tenant_a)
    personas.client(personas.alice).post(f"/settings/members/{bob.pk}/", {"role": "bookkeeper"})
    bob.refresh_from_db()
    assert bob.role == "bookkeeper" and bob.is_active is False


def test_other_tenants_membership_is_404(personas):
    charlie = Membership.objects.get(user=personas.charlie)
    response = personas.client(personas.alice).post(
        f"/settings/members/{charlie.pk}/", {"role": "staff"}
    )
    assert response.status_code == 404
    charlie.refresh_from_db()
    assert charlie.role == "admin"


def test_staff_cannot_manage_users(personas):
    assert personas.client(personas.bob).get("/settings/members/").status_code == 403
    assert personas.client(personas.bob).get("/settings/company/").status_code == 403
