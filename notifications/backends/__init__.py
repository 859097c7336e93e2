"""SMS backends, chosen by ``settings.SMS_BACKEND`` the way Django chooses EMAIL_BACKEND."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from .base import BaseSmsBackend, CannotTell, SendError, SmsStatus


@lru_cache(maxsize=16)
def _backend_class(path: str) -> type[BaseSmsBackend]:
    return import_string(path)


def get_sms_backend(path: str | None = None) -> BaseSmsBackend:
    # Backends hold no state of their own (a client they need is kept per thread by the
    # backend's module), so a new instance per message costs nothing; the import is cached.
    return _backend_class(path or settings.SMS_BACKEND)()


__all__ = ["BaseSmsBackend", "CannotTell", "SendError", "SmsStatus", "get_sms_backend"]
