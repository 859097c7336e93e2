"""The send protocol: claim (committed) → call the provider (no transaction) → record.

See docs/adr/0005-tenant-scope-and-transactions.md. A message is claimed by moving it
from ``queued`` to ``sending`` in a transaction of its own, which commits before the
provider is called; a second run (a redelivered task, a sweep's re-enqueue) finds
nothing to claim. The result is recorded in a second transaction. A worker killed
between the two leaves the message in ``sending``: :func:`message_reconcile` asks the
provider whether it took it, and where the provider cannot tell, the message becomes
``uncertain`` for a person to decide. It is never sent again blindly.
"""

from __future__ import annotations

import logging
import re
import smtplib
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from tenancy.context import require_tenant

from . import late
from .backends import CannotTell, SendError, get_sms_backend
from .models import Channel, OutboundMessage, ProviderRoute, Status
from .selectors import notification_settings
from .services import move_status

logger = logging.getLogger(__name__)


class TransientSendError(Exception):
    """The provider could not take the message now; the task retries it."""

    def __init__(self, message: str, *, attempts: int):
        super().__init__(message)
        self.attempts = attempts


def message_key(message: OutboundMessage) -> str:
    """Ours, the same for every attempt at one message: what ``find`` looks for."""
    return f"kundreg-{message.tenant_id}-{message.pk}"


def _message_id_header(message: OutboundMessage) -> str:
    return f"<{message_key(message)}@{settings.NOTIFICATIONS_MESSAGE_ID_DOMAIN}>"


def email_provider() -> str:
    backend = settings.EMAIL_BACKEND
    if backend.startswith("anymail.backends."):
        return "anymail:" + backend.split(".")[2]
    for name in ("smtp", "filebased", "locmem", "console"):
        if f".{name}." in backend:
            return {"filebased": "file"}.get(name, name)
    return backend.rsplit(".", 2)[-2]


def _send_email(message: OutboundMessage, body: str) -> tuple[str, str]:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.destination],
        connection=get_connection(fail_silently=False),
    )
    msgid = _message_id_header(message)
    email.extra_headers["Message-ID"] = msgid
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = {code for code, _msg in exc.recipients.values()}
        permanent = all(500 <= c < 600 for c in codes)
        raise SendError(str(exc), permanent=permanent, code=",".join(map(str, codes))) from exc
    except smtplib.SMTPServerDisconnected as exc:
        # The server may have closed after accepting the data: we cannot know.
        raise SendError(str(exc), permanent=False, ambiguous=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(str(exc), permanent=False, code=getattr(exc, "smtp_code", "")) from exc
    except Exception as exc:  # anymail's errors, without importing anymail when unused
        if type(exc).__module__.startswith("anymail"):
            permanent = type(exc).__name__ == "AnymailRecipientsRefused"
            raise SendError(str(exc), permanent=permanent, code=type(exc).__name__) from exc
        raise
    status = getattr(email, "anymail_status", None)
    provider_id = (status.message_id if status is not None else None) or msgid.strip("<>")
    return email_provider(), str(provider_id)


def _find_email(message: OutboundMessage) -> str | None:
    """Whether an interrupted email went out: only the local backends can be asked."""
    msgid = _message_id_header(message)
    provider = email_provider()
    if provider == "locmem":
        sent = any(m.extra_headers.get("Message-ID") == msgid for m in getattr(mail, "outbox", []))
        return msgid.strip("<>") if sent else None
    if provider == "file":
        folder = Path(settings.EMAIL_FILE_PATH)
        needle = f"Message-ID: {msgid}"
        for path in folder.glob("*.log") if folder.is_dir() else []:
            if needle in path.read_text(encoding="utf-8", errors="replace"):
                return msgid.strip("<>")
        return None
    raise CannotTell(provider)  # SMTP and ESPs cannot be asked about one message


def _send_sms(message: OutboundMessage, body: str) -> tuple[str, str]:
    backend = get_sms_backend()
    provider_id = backend.send(
        to=message.destination,
        body=body,
        sender=notification_settings().sms_sender,
        status_callback=settings.SITE_URL + reverse("notifications:twilio-status"),
        key=message_key(message),
    )
    return backend.provider, provider_id


def _claim(message_id: int) -> OutboundMessage | None:
    with transaction.atomic():
        claimed = OutboundMessage.objects.filter(pk=message_id, status=Status.QUEUED).update(
            status=Status.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=timezone.now(),
            next_attempt_at=None,
        )
    return OutboundMessage.objects.get(pk=message_id) if claimed else None


def _record_sent(message: OutboundMessage, provider: str, provider_id: str) -> None:
    with transaction.atomic():
        locked = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        ProviderRoute.objects.get_or_create(
            provider=provider,
            provider_id=provider_id,
            defaults={"tenant": require_tenant(), "message_id": locked.pk},
        )
        move_status(locked, Status.SENT, provider=provider, provider_id=provider_id, last_error="")
    message.refresh_from_db()


_ADDRESS = re.compile(r"[^\s<>'\"(),;:]+@[^\s<>'\"(),;:]+|\+?\d[\d \-]{6,}\d")


def _log_failure(message: OutboundMessage, exc: SendError, outcome: str) -> None:
    """One WARNING per failed attempt: why, and what happens next. Never the destination
    or the body (personal data): addresses and numbers in the provider's text are masked."""
    cause = exc.__cause__ or exc
    reason = (
        str(exc).replace(message.destination, "[destination]") if message.destination else str(exc)
    )
    reason = _ADDRESS.sub("[redacted]", reason)[:500]
    logger.warning(
        "Send of message %s (%s, attempt %s of %s) failed, %s: %s: %s",
        message.pk,
        message.channel,
        message.attempts,
        settings.NOTIFICATIONS_MAX_ATTEMPTS,
        outcome,
        type(cause).__name__,
        reason,
        extra={
            "message_id": message.pk,
            "channel": message.channel,
            "attempt": message.attempts,
            "outcome": outcome,
            "error_class": type(cause).__name__,
            "error_code": exc.code,
        },
    )


def _record_failure(message: OutboundMessage, exc: SendError, *, body_ready: bool = True) -> None:
    """Permanent or out of attempts: failed. Ambiguous: reconcile now. Else: queued again."""
    error = str(exc)[:2000]
    if exc.ambiguous:
        _log_failure(message, exc, "asking the provider whether it took it")
        message_reconcile(message=message, reason=error)
        return
    with transaction.atomic():
        locked = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status != Status.SENDING:
            message.refresh_from_db()
            return
        if exc.permanent or locked.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            _log_failure(
                message, exc, "permanent, not retried" if exc.permanent else "out of attempts"
            )
            move_status(locked, Status.FAILED, last_error=error, error_code=exc.code)
            message.refresh_from_db()
            return
        _log_failure(message, exc, "will retry")
        OutboundMessage.objects.filter(pk=message.pk).update(
            status=Status.QUEUED, last_error=error, error_code=exc.code
        )
    message.refresh_from_db()
    raise TransientSendError(error, attempts=message.attempts)


def message_send(*, message_id: int) -> OutboundMessage:
    """Send a queued message once. Called by the task; safe to run twice.

    Must run with no transaction open (the claim commits before the provider is called;
    in a test's wrapping transaction it still works, but proves nothing about crashes).
    A transient provider error puts the message back to ``queued`` and raises
    ``TransientSendError`` (the task retries), or fails it after
    ``NOTIFICATIONS_MAX_ATTEMPTS``; a permanent one fails it with the provider's code.
    """
    message = _claim(message_id)
    if message is None:
        return OutboundMessage.objects.get(pk=message_id)
    try:
        body = late.expand(message.body)
    except late.LateValueError as exc:
        _record_failure(message, SendError(f"The message cannot be built: {exc}", permanent=True))
        return message
    try:
        if message.channel == Channel.SMS:
            provider, provider_id = _send_sms(message, body)
        else:
            provider, provider_id = _send_email(message, body)
    except SendError as exc:
        _record_failure(message, exc)
        return message
    _record_sent(message, provider, provider_id)
    return message


def message_reconcile(*, message: OutboundMessage, reason: str = "") -> str:
    """Settle a message left in ``sending`` (a worker died mid-send, or no answer came).

    Asks the provider whether it took the message: yes → sent, with the provider's id;
    certainly not → queued again (and sent by the next task or sweep); cannot tell →
    ``uncertain``, for a person to decide. Returns the new status.
    """
    try:
        if message.channel == Channel.SMS:
            backend = get_sms_backend()
            provider = backend.provider
            provider_id = backend.find(
                key=message_key(message),
                to=message.destination,
                body=late.expand(message.body),
                since=message.claimed_at or message.created_at,
            )
        else:
            provider, provider_id = email_provider(), _find_email(message)
    except (CannotTell, late.LateValueError) as exc:
        why = reason or "The send was interrupted"
        logger.warning(
            "Message %s (%s) left uncertain for a person to check: the provider (%s) cannot "
            "say whether it took it",
            message.pk,
            message.channel,
            exc,
            extra={"message_id": message.pk, "channel": message.channel, "outcome": "uncertain"},
        )
        with transaction.atomic():
            locked = OutboundMessage.objects.select_for_update().get(pk=message.pk)
            if locked.status == Status.SENDING:
                move_status(
                    locked,
                    Status.UNCERTAIN,
                    last_error=f"{why}; the provider cannot say whether it took it ({exc}).",
                )
        message.refresh_from_db()
        return message.status
    if provider_id:
        _record_sent(message, provider, provider_id)
        return message.status
    with transaction.atomic():
        OutboundMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
            status=Status.QUEUED, last_error=(reason or "The send was interrupted")[:2000]
        )
    message.refresh_from_db()
    return message.status


def stale_claim_age() -> timedelta:
    """A claim older than this cannot belong to a send still in progress."""
    return timedelta(seconds=settings.NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS)


def message_retry_due(*, message_id: int, countdown: float) -> None:
    """Note when a transient failure's retry is due, so the sweep leaves it to its task."""
    due = timezone.now() + timedelta(seconds=countdown)
    OutboundMessage.objects.filter(pk=message_id, status=Status.QUEUED).update(next_attempt_at=due)
