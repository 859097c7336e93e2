"""The client's address: the one function consent proofs, rate limits and lockouts ask.

Behind N trusted reverse proxies (TRUSTED_PROXY_COUNT), each appends the address it
saw to X-Forwarded-For, so the client is the Nth entry from the right; anything left
of it is whatever the client sent and may be forged. With TRUSTED_PROXY_NETWORKS set,
the header is read only when the connecting peer (REMOTE_ADDR) is in one of them. With
no proxy configured the header is ignored: REMOTE_ADDR is the client. python-ipware
parses the header (ports, brackets, IPv4-mapped IPv6, junk entries).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from python_ipware import IpWare

# Only the header our documented proxy sets: python-ipware's default list also reads
# X-Real-IP, CF-Connecting-IP and others, which a client can send just as well.
HEADER = "HTTP_X_FORWARDED_FOR"


def client_ip(request) -> str | None:
    """The address of whoever sent ``request`` (a Django or DRF request), or None."""
    meta = request.META
    peer = meta.get("REMOTE_ADDR") or None
    hops = settings.TRUSTED_PROXY_COUNT
    if not hops or not _trusted_peer(peer, tuple(settings.TRUSTED_PROXY_NETWORKS)):
        return peer
    # python-ipware counts the proxies listed in the header; the last proxy, our peer,
    # is not in it.
    found, trusted = _ipware(hops - 1).get_client_ip(meta, strict=False)
    # No header, or fewer entries than proxies (the proxy did not append): the peer.
    return str(found) if found is not None and trusted else peer


@lru_cache(maxsize=8)
def _ipware(proxies_in_header: int) -> IpWare:
    return IpWare(precedence=(HEADER,), proxy_count=proxies_in_header)


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted_peer(peer: str | None, entries: tuple[str, ...]) -> bool:
    if not entries:
        return True  # the hop count alone (the app is reachable only through the proxy)
    try:
        address = ipaddress.ip_address((peer or "").split("%")[0])
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in _networks(entries))
