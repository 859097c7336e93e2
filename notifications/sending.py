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

import functools
import logging
import re
import smtplib
import threading
import time
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.urls import get_script_prefix, reverse
from django.utils import timezone

from tenancy.context import SET_SQL, require_tenant

from . import late
from .backends import CannotTell, SendError, get_sms_backend
from .models import Channel, NotificationSettings, OutboundMessage, ProviderRoute, Status
from .pacing import Limit, pacing_reserve, tenant_limit
from .selectors import notification_settings
from .services import move_status
from .signals import message_status_changed

logger = logging.getLogger(__name__)


# Kept per thread: a threads-pool worker (the sending queue's) runs many sends at once, and
# an SMTP connection or an HTTP session must not be shared between two of them.
_local = threading.local()
# A kept SMTP connection idle longer than this is asked (NOOP) whether it is still open
# before a message goes into it: servers drop idle clients after a while.
EMAIL_IDLE_CHECK_SECONDS = 15.0
# The tenant's send settings (rate, SMS sender), read once per process and tenant for this
# long instead of once per message; a change made in this process is seen at once (the
# receivers below), one made elsewhere within this time.
SETTINGS_TTL_SECONDS = 10.0
_settings_cache: dict[int, tuple[float, int, str]] = {}


def _forget_settings(sender, instance, **kwargs) -> None:
    _settings_cache.pop(instance.tenant_id, None)


post_save.connect(_forget_settings, sender=NotificationSettings, dispatch_uid="sending.settings")
post_delete.connect(_forget_settings, sender=NotificationSettings, dispatch_uid="sending.settings")


def _send_settings() -> tuple[int, str]:
    """The active tenant's (send_rate_per_second, sms_sender), cached briefly."""
    tenant_id = require_tenant().pk
    now = time.monotonic()
    cached = _settings_cache.get(tenant_id)
    if cached is None or cached[0] <= now:
        row = notification_settings()
        cached = (now + SETTINGS_TTL_SECONDS, row.send_rate_per_second, row.sms_sender)
        _settings_cache[tenant_id] = cached
    return cached[1], cached[2]


class Paced(Exception):
    """No send slot within ``NOTIFICATIONS_PACING_MAX_WAIT``: the task comes back after
    ``wait`` seconds. The message is queued again; this is not an attempt."""

    def __init__(self, wait: float):
        super().__init__(f"paced: next slot in {wait:.3f} s")
        self.wait = wait


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


def email_account() -> str:
    """The email provider account sends are paced under: the ESP, or the SMTP server."""
    provider = email_provider()
    if provider == "smtp":
        return f"smtp:{settings.EMAIL_HOST}:{settings.EMAIL_PORT}:{settings.EMAIL_HOST_USER}"
    return provider


def _email_connection_key() -> tuple:
    return (
        settings.EMAIL_BACKEND,
        getattr(settings, "EMAIL_HOST", ""),
        getattr(settings, "EMAIL_PORT", 0),
        getattr(settings, "EMAIL_HOST_USER", ""),
        getattr(settings, "EMAIL_USE_TLS", False),
        getattr(settings, "EMAIL_USE_SSL", False),
    )


def _still_open(connection) -> bool:
    smtp = getattr(connection, "connection", None)
    if smtp is None or not hasattr(smtp, "noop"):
        return True  # not SMTP (an ESP's HTTP session, locmem): nothing to ask
    try:
        return smtp.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def email_connection_drop() -> None:
    """Close this thread's kept email connection (after an error, or when settings change)."""
    held = getattr(_local, "email", None)
    _local.email = None
    if held is not None:
        with suppress(Exception):  # a dead connection may fail to say goodbye
            held[1].close()


def _email_connection():
    """This thread's open email connection: Django's SMTP backend would otherwise connect
    (and log in, and start TLS) for every message; an ESP backend keeps its HTTP session."""
    key = _email_connection_key()
    held = getattr(_local, "email", None)
    now = time.monotonic()
    if held is not None and held[0] == key:
        connection, last_used = held[1], held[2]
        if now - last_used < EMAIL_IDLE_CHECK_SECONDS or _still_open(connection):
            _local.email = (key, connection, now)
            return connection
    email_connection_drop()
    connection = get_connection(fail_silently=False)
    connection.open()
    _local.email = (key, connection, now)
    return connection


def _send_email(message: OutboundMessage, body: str) -> tuple[str, str]:
    msgid = _message_id_header(message)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.destination],
    )
    email.extra_headers["Message-ID"] = msgid
    try:
        try:
            email.connection = _email_connection()
            email.send()
        except BaseException:
            # Whatever went wrong, the next message starts on a fresh connection.
            email_connection_drop()
            raise
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


@functools.lru_cache(maxsize=8)
def _status_callback_url(site_url: str, urlconf: str, script_prefix: str) -> str:
    # reverse() walks the URL patterns (about a tenth of a send's CPU): once per process.
    return site_url + reverse("notifications:twilio-status")


def _send_sms(message: OutboundMessage, body: str, sender: str | None = None) -> tuple[str, str]:
    backend = get_sms_backend()
    if sender is None:
        sender = _send_settings()[1]
    provider_id = backend.send(
        to=message.destination,
        body=body,
        sender=sender,
        status_callback=_status_callback_url(
            settings.SITE_URL, settings.ROOT_URLCONF, get_script_prefix()
        ),
        key=message_key(message),
    )
    return backend.provider, provider_id


def send_limits(channel: str, *, tenant_rate: float) -> list[Limit]:
    """What a send of ``channel`` counts against: the tenant's own rate and the provider
    account's (``NOTIFICATIONS_SMS_RATE_PER_SECOND``: e.g. Twilio's messages per second
    for the account's senders; ``NOTIFICATIONS_EMAIL_RATE_PER_SECOND``)."""
    limits = [tenant_limit(require_tenant().pk, tenant_rate)]
    if channel == Channel.SMS:
        account = get_sms_backend().pacing_account()
        rate = settings.NOTIFICATIONS_SMS_RATE_PER_SECOND
    else:
        account, rate = email_account(), settings.NOTIFICATIONS_EMAIL_RATE_PER_SECOND
    limits.append(Limit(f"account:{account}", rate))
    return limits


# The table name is our model's, every value a parameter.
_CLAIM_SQL = (
    f"UPDATE {OutboundMessage._meta.db_table}"  # noqa: S608
    " SET status = %s, attempts = attempts + 1, claimed_at = %s, next_attempt_at = NULL"
    " WHERE id = %s AND tenant_id = %s AND status = %s RETURNING *"
)


def _claim(message_id: int) -> OutboundMessage | None:
    # One statement claims the message and reads it back (UPDATE ... RETURNING): the send
    # path's only read before the provider call.
    params = [Status.SENDING, timezone.now(), message_id, require_tenant().pk, Status.QUEUED]
    db = transaction.get_connection()
    if db.in_atomic_block:  # a caller's transaction (the tests): the ordinary way
        return next(iter(OutboundMessage.objects.raw(_CLAIM_SQL, params)), None)
    # Outside a transaction, in ONE round trip instead of four (BEGIN, the tenant variable,
    # the UPDATE, COMMIT): PostgreSQL runs a multi-statement query as one implicit
    # transaction, so the transaction-local tenant variable (tenancy/context.py) holds for
    # the UPDATE and ends with it, exactly as the execute wrapper would have it (and as
    # PgBouncer's transaction pooling needs). Values are bound by psycopg (client side).
    db.ensure_connection()
    with db.connection.cursor() as cursor:
        cursor.execute(f"{SET_SQL}; {_CLAIM_SQL}", [str(params[3]), *params])
        cursor.nextset()
        row = cursor.fetchone()
        if row is None:
            return None
        values = dict(zip((c.name for c in cursor.description), row, strict=True))
    fields = OutboundMessage._meta.concrete_fields
    return OutboundMessage.from_db(
        db.alias, [f.attname for f in fields], [values[f.column] for f in fields]
    )


def _unclaim(message: OutboundMessage, wait: float) -> None:
    """Back to ``queued`` (a paced message was not sent: its attempt does not count)."""
    with transaction.atomic():
        OutboundMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
            status=Status.QUEUED,
            attempts=F("attempts") - 1,
            claimed_at=None,
            next_attempt_at=timezone.now() + timedelta(seconds=wait),
        )


def _copy_into(message: OutboundMessage, source: OutboundMessage) -> None:
    # The caller's object as the database now has it, without reading it again.
    for field in OutboundMessage._meta.concrete_fields:
        setattr(message, field.attname, getattr(source, field.attname))


# The usual case in one statement: the message, still ``sending`` (claimed by this send),
# becomes ``sent`` and its provider route is written. Anything else (a reconcile, a message
# another path moved meanwhile) takes the general path below, with move_status's rules.
# Only what it changed comes back: the rest of the caller's object is the claim's row, which
# nothing else writes while the message is claimed (every other writer needs another status).
_SENT_SQL = (
    "WITH moved AS ("  # noqa: S608 - table names are our models', every value a parameter
    f" UPDATE {OutboundMessage._meta.db_table}"
    " SET status = %(sent)s, provider = %(provider)s, provider_id = %(provider_id)s,"
    " last_error = '', sent_at = COALESCE(sent_at, %(now)s)"
    " WHERE id = %(id)s AND tenant_id = %(tenant)s AND status = %(sending)s"
    " RETURNING id, tenant_id, sent_at"
    "), route AS ("
    f" INSERT INTO {ProviderRoute._meta.db_table}"
    " (provider, provider_id, tenant_id, message_id, created_at)"
    " SELECT %(provider)s, %(provider_id)s, tenant_id, id, %(now)s FROM moved"
    " ON CONFLICT DO NOTHING"
    ") SELECT sent_at FROM moved"
)


def _record_sent(message: OutboundMessage, provider: str, provider_id: str) -> None:
    params = {
        "sent": Status.SENT,
        "sending": Status.SENDING,
        "provider": provider,
        "provider_id": provider_id,
        "now": timezone.now(),
        "id": message.pk,
        "tenant": require_tenant().pk,
    }
    with transaction.atomic():
        with transaction.get_connection().cursor() as cursor:
            cursor.execute(_SENT_SQL, params)
            row = cursor.fetchone()
        if row is not None:
            message.status, message.provider, message.provider_id = (
                Status.SENT,
                provider,
                provider_id,
            )
            message.last_error, message.sent_at = "", row[0]
            # What move_status would announce, in the same transaction (signals.py).
            message_status_changed.send(
                sender=OutboundMessage, message=message, old=Status.SENDING, new=Status.SENT
            )
    if row is None:
        _record_sent_locked(message, provider, provider_id)


def _record_sent_locked(message: OutboundMessage, provider: str, provider_id: str) -> None:
    with transaction.atomic():
        locked = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        # A route already there (a reconcile finding a message recorded before) stays.
        ProviderRoute.objects.bulk_create(
            [
                ProviderRoute(
                    provider=provider,
                    provider_id=provider_id,
                    tenant=require_tenant(),
                    message_id=locked.pk,
                )
            ],
            ignore_conflicts=True,
        )
        move_status(locked, Status.SENT, provider=provider, provider_id=provider_id, last_error="")
    _copy_into(message, locked)


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


def message_send(*, message_id: int, paced: bool = False) -> OutboundMessage:
    """Send a queued message once. Called by the task; safe to run twice.

    ``paced`` (the task): wait for a slot under the tenant's and the provider account's
    rates (notifications/pacing.py); with none within ``NOTIFICATIONS_PACING_MAX_WAIT`` the
    message goes back to ``queued`` and ``Paced`` tells the task when to come back.

    Must run with no transaction open (the claim commits before the provider is called;
    in a test's wrapping transaction it still works, but proves nothing about crashes).
    A transient provider error puts the message back to ``queued`` and raises
    ``TransientSendError`` (the task retries), or fails it after
    ``NOTIFICATIONS_MAX_ATTEMPTS``; a permanent one fails it with the provider's code.
    """
    message = _claim(message_id)
    if message is None:
        return OutboundMessage.objects.get(pk=message_id)
    rate, sender = _send_settings()
    if paced:
        slot = pacing_reserve(
            send_limits(message.channel, tenant_rate=rate),
            max_wait=settings.NOTIFICATIONS_PACING_MAX_WAIT,
        )
        if not slot.booked:
            _unclaim(message, slot.wait)
            raise Paced(slot.wait)
        if slot.wait:
            time.sleep(slot.wait)  # this thread's booked slot: a send thread waits, no CPU
    try:
        body = late.expand(message.body)
    except late.LateValueError as exc:
        _record_failure(message, SendError(f"The message cannot be built: {exc}", permanent=True))
        return message
    try:
        if message.channel == Channel.SMS:
            provider, provider_id = _send_sms(message, body, sender)
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
