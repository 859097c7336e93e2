"""SMS backends, chosen by ``settings.SMS_BACKEND`` the way Django chooses EMAIL_BACKEND."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from .base import BaseSmsBackend, CannotTell, SendError, SmsStatus


def get_sms_backend(path: str | None = None) -> BaseSmsBackend:
    return import_string(path or settings.SMS_BACKEND)()


__all__ = ["BaseSmsBackend", "CannotTell", "SendError", "SmsStatus", "get_sms_backend"]
