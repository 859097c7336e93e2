"""Consent proof and the consent page's rate limit see the real client behind the proxy.

The documented deployment puts a reverse proxy in front: REMOTE_ADDR is then the proxy,
and the client is in X-Forwarded-For, which only a trusted proxy's word makes true.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from audit.actors import Actor
from consent.models import ConsentDecision
from consent.services import consent_request_create

PROXY = "10.20.0.2"


@pytest.fixture
def url(in_a, customer_a):
    with in_a():
        _request, token = consent_request_create(
            customer=customer_a, channel="email", actor=Actor.system("tests")
        )
    return f"/c/{token}"


def _accept(url: str, remote: str, xff: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": xff} if xff else {}
    response = Client().post(url, {"action": "accept"}, REMOTE_ADDR=remote, **extra)
    assert response.status_code == 302, response.content
    return response


def _recorded_ip(in_a) -> str:
    with in_a():
        return ConsentDecision.objects.get().ip


def test_behind_one_trusted_proxy_the_proof_records_the_client(url, in_a, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client's own (forged) entry stands left of what the proxy appended.
    _accept(url, PROXY, "198.51.100.66, 203.0.113.7")
    assert _recorded_ip(in_a) == "203.0.113.7"


def test_without_a_proxy_a_forwarded_for_is_ignored(url, in_a, settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    _accept(url, "192.0.2.15", "203.0.113.7")
    assert _recorded_ip(in_a) == "192.0.2.15"


def test_a_forwarded_for_from_a_peer_outside_the_trusted_networks_is_ignored(url, in_a, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_NETWORKS = ["10.20.0.0/16"]
    _accept(url, "192.0.2.15", "203.0.113.7")
    assert _recorded_ip(in_a) == "192.0.2.15"


def test_the_pos_api_records_the_client_behind_the_proxy(personas, customer_a, in_a, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    body = {"decision": "granted", "terms_version": 1, "method": "pos"}
    response = personas.api(personas.key_a).post(
        f"/api/v1/customers/{customer_a.pk}/consent/",
        json.dumps(body),
        content_type="application/json",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.8",
    )
    assert response.status_code == 201, response.content
    assert _recorded_ip(in_a) == "203.0.113.8"


def test_the_page_rate_limit_buckets_each_client_behind_the_proxy(url, ip, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.CONSENT_PAGE_RATE = 2
    # ``ip`` is fresh per test, so no earlier test's requests fill these buckets.
    host = ".".join(ip.split(".")[2:])
    one, other = f"203.0.{host}", f"198.51.{host}"

    def get(client: str):
        return Client().get(url, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client).status_code

    assert [get(one) for _ in range(3)] == [200, 200, 429]
    assert get(other) == 200


def test_without_a_proxy_a_changing_forwarded_for_does_not_escape_the_limit(url, ip, settings):
    settings.CONSENT_PAGE_RATE = 2
    codes = [
        Client().get(url, REMOTE_ADDR=ip, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]
