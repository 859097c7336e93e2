"""Where a webhook may be sent: public http(s) addresses only, unless the operator allows
private ones (settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS). Checked when an endpoint is saved
and again before every send, since a name may resolve elsewhere later.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _not_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def target_check(url: str) -> None:
    """Raise ValidationError({"url": ...}) unless ``url`` may receive webhooks."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError({"url": _("Enter a valid URL.")}) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": _("Only http and https addresses can receive webhooks.")})
    if parts.username or parts.password:
        raise ValidationError({"url": _("Leave user name and password out of the address.")})
    if settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        return
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise ValidationError({"url": _("The host name does not resolve.")}) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if _not_public(address):
            raise ValidationError(
                {
                    "url": _(
                        "This address is on a private or local network; webhooks go to "
                        "public addresses only."
                    )
                }
            )
