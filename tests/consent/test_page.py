"""The public consent page /c/<token> and the admin's terms page /settings/consent/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.actors import Actor
from consent.models import ConsentDecision, ConsentRequest, ConsentTerms, RequestStatus
from consent.selectors import consent_status_of
from consent.services import consent_request_create

from .conftest import EN_TEXT, SV_TEXT

SYSTEM = Actor.system("tests")


@pytest.fixture
def link(in_a, customer_a):
    with in_a():
        request, token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
    return f"/c/{token}", request


def get(url, ip, **extra):
    return Client().get(url, REMOTE_ADDR=ip, **extra)


def post(url, ip, action):
    return Client(enforce_csrf_checks=False).post(
        url, {"action": action}, REMOTE_ADDR=ip, HTTP_USER_AGENT="TestBrowser/1.0"
    )


def test_page_shows_the_terms_in_the_request_language(link, ip, personas):
    url, _request = link
    response = get(url, ip)
    assert response.status_code == 200
    html = response.content.decode()
    assert response["Content-Language"] == "sv"
    assert "Nordljus AB" in html
    assert "Åsa Lind" in html
    assert "Vi sparar dina uppgifter" in html
    assert "asa@example.test" not in html and "+46701234567" not in html
    assert 'value="accept"' in html and 'value="decline"' in html
    assert "<script>" not in html.split("</head>")[1]  # works without JavaScript
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"


def test_accept_then_withdraw_from_the_same_link(link, ip, in_a, customer_a, terms_a):
    url, request = link
    response = post(url, ip, "accept")
    assert response.status_code == 302
    confirmation = get(response["Location"], ip).content.decode()
    assert "Samtycke godkänt" in confirmation
    assert 'value="withdraw"' in confirmation
    assert 'value="accept"' not in confirmation
    with in_a():
        decision = ConsentDecision.objects.get()
        assert decision.decision == "granted" and decision.method == "link"
        assert decision.request_id == request.pk
        assert (
            decision.terms_sha256
            == terms_a["sv"].text_sha256
            == ConsentTerms.objects.get(language="sv").text_sha256
        )
        assert decision.ip == ip and decision.user_agent == "TestBrowser/1.0"
        assert decision.actor_type == "customer"
        assert ConsentRequest.objects.get().status == RequestStatus.ACCEPTED
        assert consent_status_of(customer_a)["status"] == "granted"
    # Art. 7(3): withdrawing is one button on the same page.
    response = post(url, ip, "withdraw")
    assert response.status_code == 302
    page = get(response["Location"], ip).content.decode()
    assert "Samtycke återkallat" in page
    with in_a():
        assert consent_status_of(customer_a)["status"] == "withdrawn"
        assert ConsentDecision.objects.count() == 2


def test_decline(link, ip, in_a, customer_a):
    url, _request = link
    assert post(url, ip, "decline").status_code == 302
    page = get(url, ip).content.decode()
    assert "Samtycke nekat" in page
    assert 'value="decline"' not in page and 'value="accept"' in page
    with in_a():
        assert consent_status_of(customer_a)["status"] == "declined"
        assert ConsentRequest.objects.get().status == RequestStatus.DECLINED


def test_an_action_the_page_does_not_offer_changes_nothing(link, ip, in_a):
    url, _request = link
    assert post(url, ip, "withdraw").status_code == 302
    assert post(url, ip, "bogus").status_code == 302
    with in_a():
        assert not ConsentDecision.objects.exists()


def test_english_request_shows_english(in_a, customer_a, ip):
    with in_a():
        _request, token = consent_request_create(
            customer=customer_a, channel="sms", language="en", actor=SYSTEM
        )
    html = get(f"/c/{token}", ip).content.decode()
    assert EN_TEXT.splitlines()[0] in html and SV_TEXT.splitlines()[0] not in html


def test_expired_link(link, ip, in_a, customer_a):
    url, request = link
    with in_a():
        ConsentRequest.objects.filter(pk=request.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    response = get(url, ip)
    assert response.status_code == 410
    assert "Länken för samtycke har gått ut" in response.content.decode()
    assert post(url, ip, "accept").status_code == 302
    with in_a():
        assert not ConsentDecision.objects.exists()
        assert ConsentRequest.objects.get().status == RequestStatus.EXPIRED
        assert consent_status_of(customer_a)["status"] == "expired"


def test_consent_given_can_be_withdrawn_after_the_link_expired(link, ip, in_a):
    url, request = link
    post(url, ip, "accept")
    with in_a():
        ConsentRequest.objects.filter(pk=request.pk).update(
            expires_at=timezone.now() - timedelta(days=1)
        )
    page = get(url, ip)
    assert page.status_code == 200 and 'value="withdraw"' in page.content.decode()


@pytest.mark.parametrize("token", ["nope", "A" * 32, "x" * 300])
def test_wrong_token_is_404(link, ip, token):
    assert get(f"/c/{token}", ip).status_code == 404


def test_a_token_of_tenant_a_never_shows_tenant_b(link, ip, in_b, customer_b):
    with in_b():
        _request, token_b = consent_request_create(
            customer=customer_b, channel="email", actor=SYSTEM
        )
    url_a, _request = link
    page_a = get(url_a, ip).content.decode()
    page_b = get(f"/c/{token_b}", ip).content.decode()
    assert "Nordljus AB" in page_a and "Fjordvik AS" not in page_a and "Kari" not in page_a
    assert "Fjordvik AS" in page_b and "Nordljus AB" not in page_b and "Åsa" not in page_b
    assert "Vi lagrer opplysningene" in page_b


def test_page_is_rate_limited_per_ip(link, ip, settings):
    settings.CONSENT_PAGE_RATE = 3
    url, _request = link
    codes = [get(url, ip).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert get("/c/wrong", ip).status_code == 429


# ---------------------------------------------------------------------------
# /settings/consent/


def test_admin_publishes_a_new_version_and_sees_the_history(personas, in_a, terms_a):
    client = personas.client(personas.alice)
    page = client.get("/settings/consent/?language=sv")
    assert page.status_code == 200 and "Vi sparar dina uppgifter" in page.content.decode()
    response = client.post("/settings/consent/", {"language": "sv", "text": "Version två."})
    assert response.status_code == 302
    with in_a():
        assert list(
            ConsentTerms.objects.filter(language="sv").values_list("version", flat=True)
        ) == [2, 1]
    history = client.get("/settings/consent/?language=sv").content.decode()
    assert "Version två." in history and "Vi sparar dina uppgifter" in history


def test_admin_sets_how_long_links_are_valid(personas, in_a, customer_a):
    client = personas.client(personas.alice)
    response = client.post(
        "/settings/consent/", {"form": "settings", "settings-request_valid_days": "7"}
    )
    assert response.status_code == 302
    with in_a():
        request, _token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
        days = (request.expires_at - request.created_at).days
    assert days == 7


def test_only_admins_edit_terms(personas):
    assert personas.client(personas.bob).get("/settings/consent/").status_code == 403
    assert personas.client(personas.bea).get("/settings/consent/").status_code == 403
    assert Client().get("/settings/consent/").status_code == 302
