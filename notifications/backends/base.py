"""The SMS backend interface."""

from __future__ import annotations

from dataclasses import dataclass


class SendError(Exception):
    """A provider refused or could not take a message.

    ``permanent``: retrying cannot help (invalid number, opted out); otherwise
    the send is retried later. ``code`` is the provider's error code, if any.
    """

    def __init__(self, message: str, *, permanent: bool, code: str = ""):
        super().__init__(message)
        self.permanent = permanent
        self.code = str(code or "")


@dataclass(frozen=True)
class SmsStatus:
    status: str  # one of notifications.models.Status
    error_code: str = ""


class BaseSmsBackend:
    provider = "base"

    def send(self, *, to: str, body: str, sender: str = "", status_callback: str = "") -> str:
        """Hand the message to the provider; return its message id. Raise SendError."""
        raise NotImplementedError

    def fetch_status(self, provider_id: str) -> SmsStatus | None:
        """The provider's current status of a message (None: the backend cannot tell)."""
        return None
