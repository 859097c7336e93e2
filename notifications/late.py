"""Values written into a message only as it is sent, never stored: a secret link's token.

A higher app (consent) registers a resolver by name in its ``AppConfig.ready()`` and puts
:func:`marker` into the template context instead of the secret itself; the stored body
holds the marker, and :func:`expand` asks the resolver for the value right before the
provider call. A database dump therefore holds no usable consent link (only hashes).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_MARK = re.compile(r"\[\[late:([a-z_.]+):([0-9A-Za-z_:-]*)\]\]")
_resolvers: dict[str, Callable[..., str]] = {}


class LateValueError(Exception):
    """A marker's value cannot be built any more (the message fails with this reason)."""


def register(name: str, resolver: Callable[..., str]) -> None:
    """``resolver(*args)`` returns the value of ``marker(name, *args)``."""
    _resolvers[name] = resolver


def marker(name: str, *args: object) -> str:
    return f"[[late:{name}:{':'.join(str(a) for a in args)}]]"


def has_markers(text: str) -> bool:
    return bool(_MARK.search(text))


def expand(text: str) -> str:
    """``text`` with every marker replaced by its value; LateValueError when one fails."""

    def value(match: re.Match) -> str:
        resolver = _resolvers.get(match[1])
        if resolver is None:
            raise LateValueError(f"no resolver for {match[1]}")
        return resolver(*match[2].split(":"))

    return _MARK.sub(value, text)


def redact(text: str, placeholder: str) -> str:
    """``text`` for display: every marker shown as ``placeholder``."""
    return _MARK.sub(placeholder, text)
