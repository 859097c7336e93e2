"""Two-factor sign-in (issue 14, item 13): enrolment, the code step after the password,
recovery codes that work once, a company's requirement for admins and bookkeepers, an
administrator's reset of a lost device, and the lockout for wrong codes."""

from __future__ import annotations

import re
import time
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tenancy import mfa
from tenancy.context import tenant_context
from tenancy.models import Tenant
from tests.personas import PASSWORD
from tests.tenant_urls import in_company

LOGIN = "/accounts/login/"
VERIFY = "/accounts/two-factor/"
SETUP = "/settings/two-factor/"


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    """A confirmed app whose current code has not been used yet, and recovery codes."""
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [f"code{n:04d}" for n in range(10)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=c) for c in codes)
    return device, codes


def require_mfa(tenant, on: bool = True) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(require_mfa=on)


def password_step(username: str, next_url: str = "") -> tuple[Client, object]:
    client = Client()
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client, client.post(LOGIN, data)


def verified(username: str, device: TOTPDevice) -> Client:
    """A browser past both steps of signing in."""
    client, _r = password_step(username)
    response = client.post(VERIFY, {"code": mfa.totp_code(device)})
    assert response.status_code == 302, response.content.decode()
    return client


def audit_actions(tenant) -> list[str]:
    with tenant_context(tenant):
        return list(
            AuditEvent.objects.filter(action__startswith="mfa.")
            .order_by("created_at")
            .values_list("action", flat=True)
        )


# --- Enrolment ------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_key_and_a_code_from_the_key_turns_it_on(personas):
    client = personas.client(personas.bob)
    page = client.get(SETUP)
    assert page.status_code == 200
    assert 'id="mfa-status"' in page.content.decode()
    assert client.post("/settings/two-factor/start/").status_code == 302

    page = client.get(SETUP).content.decode()
    device = TOTPDevice.objects.get(user=personas.bob)
    assert not device.confirmed
    assert "<svg" in page and "<script" not in page.split("<main", 1)[1]
    secret = re.search(r'<code id="mfa-secret">([A-Z2-7 ]+)</code>', page).group(1)
    from base64 import b32decode

    assert b32decode(secret.replace(" ", "")) == device.bin_key

    wrong = client.post("/settings/two-factor/confirm/", {"code": "000000"})
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    done = client.post("/settings/two-factor/confirm/", {"code": mfa.totp_code(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert sorted(
        StaticToken.objects.filter(device__user=personas.bob).values_list("token", flat=True)
    ) == sorted(codes)
    # The session that enrolled counts as verified: company pages open at once.
    assert client.get("/customers/").status_code == 200
    assert audit_actions(personas.tenant_a) == ["mfa.enabled"]
    with tenant_context(personas.tenant_a):
        event = AuditEvent.objects.get(action="mfa.enabled")
    assert event.data == {"user": personas.bob.pk, "method": "totp", "recovery_codes": 10}
    assert device.key not in str(event.data) and codes[0] not in str(event.data)


def test_new_recovery_codes_replace_the_old_ones(personas):
    device, old = enrolled(personas.bob)
    client = verified("bob", device)
    response = client.post(in_company(personas.tenant_a, "/settings/two-factor/recovery-codes/"))
    assert response.status_code == 200
    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert mfa.recovery_codes_left(personas.bob) == 10
    assert audit_actions(personas.tenant_a) == ["mfa.recovery_codes_generated"]


# --- Signing in -------------------------------------------------------------------------------


def test_sign_in_asks_for_the_code_after_the_password(personas):
    device, _codes = enrolled(personas.alice)
    client, response = password_step("alice")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2F"
    # Without the code, every company page and the session's API wait for it.
    held = client.get(in_company(personas.tenant_a, "/customers/"))
    assert held.status_code == 302 and held["Location"].startswith(VERIFY)
    api = client.get("/api/v1/customers/")
    assert api.status_code == 403
    assert api["Content-Type"].startswith("application/problem+json")

    wrong = client.post(VERIFY, {"code": "123456", "next": "/"})
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.content.decode()
    time.sleep(1.1)  # django-otp's throttle: a second's wait after one wrong code
    right = client.post(VERIFY, {"code": mfa.totp_code(device), "next": "/"})
    assert right.status_code == 302 and right["Location"] == "/"
    assert client.get(in_company(personas.tenant_a, "/customers/")).status_code == 200
    assert client.get("/api/v1/customers/").status_code == 200


def test_a_code_is_not_taken_twice(personas):
    device, _codes = enrolled(personas.alice)
    code = mfa.totp_code(device)
    client, _r = password_step("alice")
    assert client.post(VERIFY, {"code": code}).status_code == 302
    again, _r = password_step("alice")
    assert again.post(VERIFY, {"code": code}).status_code == 200  # replay refused


def test_a_recovery_code_works_once_and_not_twice(personas):
    _device, codes = enrolled(personas.bea)
    client, _r = password_step("bea")
    # As people type them: spaces, dashes, capitals.
    response = client.post(VERIFY, {"code": f" {codes[3][:4].upper()}-{codes[3][4:]} "})
    assert response.status_code == 302
    assert client.get(in_company(personas.tenant_a, "/customers/")).status_code == 200
    assert mfa.recovery_codes_left(personas.bea) == 9

    client, _r = password_step("bea")
    refused = client.post(VERIFY, {"code": codes[3]})
    assert refused.status_code == 200
    assert "used already" in refused.content.decode()
    held = client.get(in_company(personas.tenant_a, "/customers/"))
    assert held["Location"].startswith(VERIFY)


def test_wrong_codes_count_as_failed_sign_ins_and_lock_out(personas):
    enrolled(personas.alice)
    client, _r = password_step("alice")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(VERIFY, {"code": "000000"}).status_code == 200
    locked = client.post(VERIFY, {"code": "000000"})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session  # the half-signed-in session ended
    # The password alone no longer opens the door from this address either.
    _client, again = password_step("alice")
    assert again.status_code == 429


def test_without_a_device_the_password_is_enough(personas):
    client, response = password_step("alice")
    assert response["Location"] == "/"
    assert client.get(in_company(personas.tenant_a, "/customers/")).status_code == 200
    # The code step has nothing to ask: it sends the user on.
    assert client.get(f"{VERIFY}?next=/customers/")["Location"] == "/customers/"


def test_the_code_step_refuses_an_open_redirect(personas):
    device, _codes = enrolled(personas.alice)
    client, _r = password_step("alice")
    response = client.post(VERIFY, {"code": mfa.totp_code(device), "next": "https://evil.example/"})
    assert response["Location"] == "/"


# --- A company's requirement ------------------------------------------------------------------


def test_required_role_without_a_device_is_sent_to_enrol_on_every_company_page(personas):
    require_mfa(personas.tenant_a)
    for user in (personas.alice, personas.bea):
        client, _r = password_step(user.username)
        for path in ("/", "/customers/", "/settings/members/"):
            response = client.get(in_company(personas.tenant_a, path))
            assert response.status_code == 302, path
            assert response["Location"] == in_company(personas.tenant_a, SETUP)
        page = client.get(in_company(personas.tenant_a, SETUP))
        assert page.status_code == 200
        assert 'id="mfa-required"' in page.content.decode()
        assert client.get("/api/v1/customers/").status_code == 403


def test_required_role_enrols_and_then_gets_in(personas):
    require_mfa(personas.tenant_a)
    client, _r = password_step("bea")
    client.post(in_company(personas.tenant_a, "/settings/two-factor/start/"))
    device = TOTPDevice.objects.get(user=personas.bea)
    confirm = in_company(personas.tenant_a, "/settings/two-factor/confirm/")
    assert client.post(confirm, {"code": mfa.totp_code(device)}).status_code == 200
    assert client.get(in_company(personas.tenant_a, "/customers/")).status_code == 200
    # The next sign-in asks for the code (the next one the app shows).
    client, response = password_step("bea")
    assert response["Location"].startswith(VERIFY)
    later = mfa.totp_code(TOTPDevice.objects.get(pk=device.pk), at=time.time() + 30)
    assert client.post(VERIFY, {"code": later})["Location"] == "/"


def test_staff_and_employees_are_not_forced(personas):
    require_mfa(personas.tenant_a)
    for user, path in ((personas.bob, "/customers/"), (personas.erik, "/")):
        client, _r = password_step(user.username)
        assert client.get(in_company(personas.tenant_a, path)).status_code == 200


def test_the_requirement_is_per_company(personas):
    """Charlie's company does not require it: the requirement of A does not reach him."""
    require_mfa(personas.tenant_a)
    client, _r = password_step("charlie")
    assert client.get(in_company(personas.tenant_b, "/customers/")).status_code == 200


def test_api_keys_are_not_held(personas):
    require_mfa(personas.tenant_a)
    assert personas.api(personas.key_a).get("/api/v1/customers/").status_code == 200


def test_turning_off_is_refused_where_required_and_allowed_elsewhere(personas):
    enrolled(personas.alice)
    require_mfa(personas.tenant_a)
    client = verified("alice", TOTPDevice.objects.get(user=personas.alice))
    response = client.post(in_company(personas.tenant_a, "/settings/two-factor/off/"), follow=True)
    assert "requires two-factor sign-in for your role" in response.content.decode()
    assert mfa.has_second_factor(personas.alice)

    require_mfa(personas.tenant_a, False)
    client.post(in_company(personas.tenant_a, "/settings/two-factor/off/"))
    assert not mfa.has_second_factor(personas.alice)
    assert not StaticDevice.objects.filter(user=personas.alice).exists()
    assert audit_actions(personas.tenant_a) == ["mfa.disabled"]


def test_the_company_settings_page_sets_the_requirement_and_audits_it(personas):
    response = personas.client(personas.alice).post(
        "/settings/company/",
        {
            "name": "Nordljus AB",
            "languages": ["sv", "en"],
            "time_zone": "Europe/Stockholm",
            "fiscal_year_end_month": 12,
            "fiscal_year_end_day": 31,
            "require_mfa": "on",
        },
    )
    assert response.status_code == 302
    assert Tenant.objects.get(pk=personas.tenant_a.pk).require_mfa
    with tenant_context(personas.tenant_a):
        event = AuditEvent.objects.get(action="tenant.settings_changed")
    assert "require_mfa" in event.data["fields"]


# --- A lost device -------------------------------------------------------------------------------


def test_an_admin_resets_a_members_lost_device(personas):
    enrolled(personas.bea)
    members = personas.client(personas.alice).get("/settings/members/").content.decode()
    bea = personas.bea.memberships.get()
    assert f"/settings/members/{bea.pk}/two-factor/reset/" in members

    response = personas.client(personas.alice).post(f"/settings/members/{bea.pk}/two-factor/reset/")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=personas.bea).exists()
    assert not StaticDevice.objects.filter(user=personas.bea).exists()
    with tenant_context(personas.tenant_a):
        event = AuditEvent.objects.get(action="mfa.reset")
    assert (event.actor_id, event.data) == (
        str(personas.alice.pk),
        {"user": personas.bea.pk, "devices": 2},
    )
    require_mfa(personas.tenant_a)
    # At the next sign-in Bea has no code to give and must enrol again.
    client, response = password_step("bea")
    assert response["Location"] == "/"
    held = client.get(in_company(personas.tenant_a, "/customers/"))
    assert held["Location"] == in_company(personas.tenant_a, SETUP)


def test_another_companys_admin_cannot_reset_a_member_404(personas):
    enrolled(personas.bea)
    bea = personas.bea.memberships.get()
    response = personas.client(personas.charlie).post(
        f"/settings/members/{bea.pk}/two-factor/reset/"
    )
    assert response.status_code == 404
    assert mfa.has_second_factor(personas.bea)


def test_an_admin_cannot_reset_their_own_here(personas):
    device, _codes = enrolled(personas.alice)
    alice = personas.alice.memberships.get()
    response = verified("alice", device).post(
        in_company(personas.tenant_a, f"/settings/members/{alice.pk}/two-factor/reset/"),
        follow=True,
    )
    assert "use your own page" in response.content.decode()
    assert mfa.has_second_factor(personas.alice)


def test_audit_entries_reach_every_company_of_the_user(personas):
    """Charlie joins A too: his enrolment is in both companies' logs."""
    from tests.factories import MembershipFactory

    MembershipFactory(user=personas.charlie, tenant=personas.tenant_a, role="staff")
    client = personas.client(personas.charlie)
    client.post("/settings/two-factor/start/")
    device = TOTPDevice.objects.get(user=personas.charlie)
    client.post("/settings/two-factor/confirm/", {"code": mfa.totp_code(device)})
    assert audit_actions(personas.tenant_a) == ["mfa.enabled"]
    assert audit_actions(personas.tenant_b) == ["mfa.enabled"]


@pytest.fixture
def mfa_translations(settings, tmp_path):
    """The catalogues plus this work's fragment (locale/fragments/mfa.*.po) until merged."""
    base = Path(settings.BASE_DIR) / "locale"
    for lang in ("sv", "da", "nb"):
        catalogue = polib.pofile(str(base / lang / "LC_MESSAGES" / "django.po"))
        fragment = base / "fragments" / f"mfa.{lang}.po"
        if fragment.exists():
            known = {(e.msgctxt, e.msgid): e for e in catalogue}
            for entry in polib.pofile(str(fragment)):
                found = known.get((entry.msgctxt, entry.msgid))
                if found is None:
                    catalogue.append(entry)
                elif not (found.msgstr or any(found.msgstr_plural.values())):
                    found.msgstr, found.msgstr_plural = entry.msgstr, entry.msgstr_plural
        out = tmp_path / "locale" / lang / "LC_MESSAGES"
        out.mkdir(parents=True)
        catalogue.save_as_mofile(str(out / "django.mo"))
    settings.LOCALE_PATHS = [tmp_path / "locale"]


@pytest.mark.parametrize("lang", ["sv", "da", "nb"])
def test_the_code_step_and_the_setup_page_are_translated(personas, lang, mfa_translations):
    from django.utils import translation

    enrolled(personas.alice)
    client, _r = password_step("alice")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    html = client.get(VERIFY).content.decode()
    with translation.override(lang):
        heading = translation.gettext("Enter your code")
        title = translation.gettext("Two-factor sign-in")
    assert heading != "Enter your code" and heading in html
    setup = personas.client(personas.bob)
    setup.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    page = setup.get(SETUP).content.decode()
    assert title != "Two-factor sign-in" and f"<h1>{title}</h1>" in page


def test_the_demo_user_signs_in_with_the_password_alone(db):
    from tenancy.demo import DEMO_EMAIL, DEMO_PASSWORD, ensure_demo_tenant

    tenant = ensure_demo_tenant()
    assert not tenant.require_mfa
    client = Client()
    response = client.post(LOGIN, {"username": DEMO_EMAIL, "password": DEMO_PASSWORD})
    assert response["Location"] == "/"
    assert client.get(in_company(tenant, "/customers/")).status_code == 200


def test_the_reset_reads_as_a_sentence_in_the_audit_log(personas):
    from audit.describe import describe, sentence_text

    enrolled(personas.bea)
    bea = personas.bea.memberships.get()
    personas.client(personas.alice).post(f"/settings/members/{bea.pk}/two-factor/reset/")
    with tenant_context(personas.tenant_a):
        (entry,) = describe(AuditEvent.objects.filter(action="mfa.reset"))
    assert sentence_text(entry.sentence) == (
        "alice reset the two-factor sign-in of bea, who must set it up again."
    )
