"""The SMS backend interface."""

from __future__ import annotations

from dataclasses import dataclass


class SendError(Exception):
    """A provider refused or could not take a message.

    ``permanent``: retrying cannot help (invalid number, opted out); otherwise
    the send is retried later. ``code`` is the provider's error code, if any.

    ``ambiguous``: the provider may have taken the message anyway (a timeout after the
    request went out); it must not be sent again blindly (services.message_reconcile).
    """

    def __init__(self, message: str, *, permanent: bool, code: str = "", ambiguous: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.ambiguous = ambiguous and not permanent
        self.code = str(code or "")


class CannotTell(Exception):
    """The provider cannot be asked whether it has a message."""


@dataclass(frozen=True)
class SmsStatus:
    status: str  # one of notifications.models.Status
    error_code: str = ""


class BaseSmsBackend:
    provider = "base"

    def pacing_account(self) -> str:
        """The provider account whose rate limit this backend's sends count against."""
        return self.provider

    def send(
        self, *, to: str, body: str, sender: str = "", status_callback: str = "", key: str = ""
    ) -> str:
        """Hand the message to the provider; return its message id. Raise SendError.

        ``key`` is ours and the same for every attempt at one message, for :meth:`find`.
        """
        raise NotImplementedError

    def find(self, *, key: str, to: str, body: str, since) -> str | None:
        """The provider's id of a message an interrupted send may have handed over.

        None when the provider certainly does not have it; raise CannotTell when the
        provider cannot be asked (the message then waits for a person's decision).
        """
        raise CannotTell(self.provider)

    def fetch_status(self, provider_id: str) -> SmsStatus | None:
        """The provider's current status of a message (None: the backend cannot tell)."""
        return None
