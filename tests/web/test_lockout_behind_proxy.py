"""Login lockouts (django-axes) count per real client, also behind the reverse proxy."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from tests.personas import PASSWORD

LOGIN = "/accounts/login/"
PROXY = "10.20.0.2"


def _login(client: Client, password: str):
    return client.post(LOGIN, {"username": "alice", "password": password})


def _behind_proxy(address: str) -> Client:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address)


def test_a_lockout_behind_the_proxy_locks_only_that_client(personas, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    guesser = _behind_proxy("198.51.100.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(guesser, "wrong")
    assert _login(guesser, PASSWORD).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    # Alice herself, at another customer site behind the same proxy, signs in.
    assert _login(_behind_proxy("203.0.113.20"), PASSWORD)["Location"] == "/"


def test_a_forged_forwarded_for_does_not_dodge_a_lockout_without_a_proxy(personas):
    assert settings.TRUSTED_PROXY_COUNT == 0
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"), "wrong")
    forged = Client(REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert _login(forged, PASSWORD).status_code == 429
