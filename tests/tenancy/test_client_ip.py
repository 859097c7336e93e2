"""tenancy.client_ip: the client's address, from X-Forwarded-For only behind a trusted proxy."""

from __future__ import annotations

import importlib
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from tenancy.client_ip import client_ip

PROXY = "10.20.0.2"


def _ip(remote: str | None = PROXY, xff: str | None = None) -> str | None:
    extra = {"HTTP_X_FORWARDED_FOR": xff} if xff is not None else {}
    request = RequestFactory().get("/", **extra)
    if remote is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote
    return client_ip(request)


def test_without_a_proxy_the_header_is_ignored(settings):
    assert settings.TRUSTED_PROXY_COUNT == 0 and settings.TRUSTED_PROXY_NETWORKS == []
    assert _ip("192.0.2.10", "198.51.100.1") == "192.0.2.10"
    # Nor any of the other headers clients like to send.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="192.0.2.10", HTTP_X_REAL_IP="198.51.100.2", HTTP_CLIENT_IP="1.1.1.1"
    )
    assert client_ip(request) == "192.0.2.10"
    assert _ip(None) is None


def test_one_proxy_the_last_entry_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert _ip(xff="203.0.113.9") == "203.0.113.9"
    # What the client wrote itself stands left of what the proxy appended.
    assert _ip(xff="198.51.100.1, 203.0.113.9") == "203.0.113.9"
    assert _ip(xff="not-an-ip, [2001:db8::7]:4431") == "2001:db8::7"
    # The proxy appended nothing (or the request came round it): the peer.
    assert _ip() == PROXY
    assert _ip(xff="") == PROXY
    # Only X-Forwarded-For: X-Real-IP is just another header a client can send.
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="198.51.100.2")
    assert client_ip(request) == PROXY


def test_two_proxies_the_second_entry_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert _ip(xff="198.51.100.1, 203.0.113.9, 10.20.0.7") == "203.0.113.9"
    # Fewer entries than proxies: nothing in the header is trusted.
    assert _ip(xff="203.0.113.9") == PROXY


def test_trusted_networks_decide_whose_header_is_read(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_NETWORKS = ["10.20.0.0/16", "fd00::/8"]
    assert _ip(PROXY, "203.0.113.9") == "203.0.113.9"
    assert _ip("fd00::5", "203.0.113.9") == "203.0.113.9"
    assert _ip("::ffff:10.20.0.9", "203.0.113.9") == "203.0.113.9"
    # A peer outside them sent the header itself.
    assert _ip("192.0.2.44", "203.0.113.9") == "192.0.2.44"
    assert _ip("10.21.0.1", "203.0.113.9") == "10.21.0.1"
    assert _ip("2001:db8::1", "203.0.113.9") == "2001:db8::1"


@pytest.mark.parametrize(
    ("name", "value"),
    [("TRUSTED_PROXY_NETWORKS", "10.0.0.0/33"), ("TRUSTED_PROXY_COUNT", "-1")],
)
def test_settings_refuse_a_bad_proxy_setting(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "config.settings.base", raising=False)
    with pytest.raises(ImproperlyConfigured, match=name):
        importlib.import_module("config.settings.base")


def test_networks_alone_mean_one_proxy(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXY_NETWORKS", "10.20.0.0/16")
    monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
    monkeypatch.delitem(sys.modules, "config.settings.base", raising=False)
    base = importlib.import_module("config.settings.base")
    assert base.TRUSTED_PROXY_COUNT == 1
    assert base.TRUSTED_PROXY_NETWORKS == ["10.20.0.0/16"]
