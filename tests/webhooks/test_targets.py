"""No SSRF: loopback, private, link-local and other non-public targets are refused, on
save and at send time (test_delivery.py), unless the operator allows them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from audit.actors import Actor
from tenancy.context import tenant_context
from webhooks.models import WebhookEndpoint
from webhooks.services import endpoint_create
from webhooks.targets import target_check

REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://localhost:8000/hook",  # a name that resolves to loopback
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.5/hook",
    "https://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
]


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
@pytest.mark.parametrize("url", REFUSED)
def test_non_public_targets_are_refused(url):
    with pytest.raises(ValidationError) as caught:
        target_check(url)
    assert "private or local network" in caught.value.message_dict["url"][0]


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
@pytest.mark.parametrize(
    "url", ["ftp://93.184.215.14/x", "file:///etc/passwd", "gopher://x", "http://", "javascript:x"]
)
def test_other_schemes_are_refused(url):
    with pytest.raises(ValidationError) as caught:
        target_check(url)
    assert "http and https" in caught.value.message_dict["url"][0]


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
def test_credentials_in_the_address_and_unknown_hosts_are_refused():
    with pytest.raises(ValidationError):
        target_check("https://user:pw@93.184.215.14/x")
    with pytest.raises(ValidationError) as caught:
        target_check("https://no-such-host.invalid/x")
    assert "does not resolve" in caught.value.message_dict["url"][0]


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
def test_a_public_address_is_accepted():
    target_check("https://93.184.215.14/hooks")


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True)
def test_the_operator_may_allow_private_targets():
    target_check("http://127.0.0.1:9000/hook")
    with pytest.raises(ValidationError):
        target_check("ftp://127.0.0.1/")  # still only http(s)


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
def test_saving_a_private_target_is_a_field_error_and_saves_nothing(personas):
    with tenant_context(personas.tenant_a):
        with pytest.raises(ValidationError) as caught:
            endpoint_create(
                url="http://localhost/hook", event_types=[], actor=Actor.system("tests")
            )
        assert set(caught.value.message_dict) == {"url", "event_types"}
        assert WebhookEndpoint.objects.count() == 0


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=False)
def test_the_settings_page_shows_the_refusal_at_the_field(personas):
    client = personas.client(personas.alice)
    response = client.post(
        "/settings/webhooks/",
        {"url": "http://10.0.0.1/hook", "event_types": ["customer.created"]},
    )
    assert response.status_code == 200
    assert "private or local network" in response.content.decode()
    assert response.context["form"].errors["url"]
    with tenant_context(personas.tenant_a):
        assert WebhookEndpoint.objects.count() == 0
