"""Use cases: queue a message, send it (from the task), record a provider's status event."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import make_msgid
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from tenancy.context import require_tenant

from .backends import SendError, get_sms_backend
from .models import (
    Channel,
    MessageEvent,
    OutboundMessage,
    ProviderRoute,
    Status,
)
from .selectors import notification_settings
from .signals import message_status_changed

logger = logging.getLogger(__name__)

# Provider payload keys that carry no personal data (no addresses, numbers or text).
SAFE_PAYLOAD_KEYS = frozenset(
    {
        "MessageSid",
        "SmsSid",
        "MessageStatus",
        "SmsStatus",
        "ErrorCode",
        "AccountSid",
        "MessagingServiceSid",
        "ApiVersion",
        "source",
        "event_type",
        "event_id",
        "message_id",
        "timestamp",
        "reject_reason",
        "esp",
    }
)


class SmsNotEnabled(ValidationError):
    """The tenant has no SMS subscription."""

    def __init__(self):
        super().__init__(
            _("SMS is not enabled for this company. An administrator can subscribe to SMS."),
            code="sms_not_enabled",
        )


class TransientSendError(Exception):
    """The provider could not take the message now; the task retries it."""

    def __init__(self, message: str, *, attempts: int):
        super().__init__(message)
        self.attempts = attempts


def _safe_payload(payload: dict) -> dict:
    return {k: str(v) for k, v in (payload or {}).items() if k in SAFE_PAYLOAD_KEYS}


def message_queue(
    *,
    channel: str,
    to: str,
    language: str,
    template: str,
    context: dict,
    customer=None,
    subject: str = "",
    reference: str = "",
) -> OutboundMessage:
    """Render ``templates/notifications/<template>.<channel>.txt`` in ``language`` and queue it.

    The send task is enqueued after the surrounding transaction commits. Raises
    ``SmsNotEnabled`` for an SMS when the tenant has no SMS subscription.
    """
    from .tasks import send_message

    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")}, code="invalid")
    channel = Channel(channel)
    if not to:
        raise ValidationError({"to": _("A recipient is required.")}, code="required")
    if channel == Channel.SMS and not notification_settings().sms_enabled:
        raise SmsNotEnabled()
    with translation.override(language):
        body = render_to_string(f"notifications/{template}.{channel}.txt", context).strip()
        if channel == Channel.EMAIL and not subject:
            subject = render_to_string(f"notifications/{template}.subject.txt", context)
            subject = " ".join(subject.split())
    with transaction.atomic():
        message = OutboundMessage.objects.create(
            customer=customer,
            channel=channel,
            destination=to,
            language=language,
            template=template,
            subject=subject if channel == Channel.EMAIL else "",
            body=body,
            reference=reference,
            queued_at=timezone.now(),
        )
        send_message.enqueue(message.pk)
    return message


def _email_provider() -> str:
    backend = settings.EMAIL_BACKEND
    if backend.startswith("anymail.backends."):
        return "anymail:" + backend.split(".")[2]
    for name in ("smtp", "filebased", "locmem", "console"):
        if f".{name}." in backend:
            return {"filebased": "file"}.get(name, name)
    return backend.rsplit(".", 2)[-2]


def _send_email(message: OutboundMessage) -> tuple[str, str]:
    provider = _email_provider()
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.destination],
        connection=get_connection(fail_silently=False),
    )
    msgid = make_msgid(domain=settings.NOTIFICATIONS_MESSAGE_ID_DOMAIN)
    email.extra_headers["Message-ID"] = msgid
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = {code for code, _msg in exc.recipients.values()}
        permanent = all(500 <= c < 600 for c in codes)
        raise SendError(str(exc), permanent=permanent, code=",".join(map(str, codes))) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(str(exc), permanent=False, code=getattr(exc, "smtp_code", "")) from exc
    except Exception as exc:  # anymail's errors, without importing anymail when unused
        if type(exc).__module__.startswith("anymail"):
            permanent = type(exc).__name__ == "AnymailRecipientsRefused"
            raise SendError(str(exc), permanent=permanent, code=type(exc).__name__) from exc
        raise
    status = getattr(email, "anymail_status", None)
    provider_id = (status.message_id if status is not None else None) or msgid.strip("<>")
    return provider, str(provider_id)


def _send_sms(message: OutboundMessage) -> tuple[str, str]:
    backend = get_sms_backend()
    callback = settings.SITE_URL + reverse("notifications:twilio-status")
    provider_id = backend.send(
        to=message.destination,
        body=message.body,
        sender=notification_settings().sms_sender,
        status_callback=callback,
    )
    return backend.provider, provider_id


def _move(message: OutboundMessage, new: str, **fields) -> bool:
    """Move ``message`` (locked by the caller) forward; False when that would go back."""
    old = message.status
    if not message.can_move_to(new):
        return False
    now = timezone.now()
    message.status = new
    stamps = {
        Status.SENT: "sent_at",
        Status.DELIVERED: "delivered_at",
        Status.FAILED: "failed_at",
        Status.UNDELIVERED: "failed_at",
    }
    if new in stamps and getattr(message, stamps[new]) is None:
        fields[stamps[new]] = now
    for name, value in fields.items():
        setattr(message, name, value)
    message.save(update_fields=["status", *fields])
    message_status_changed.send(sender=OutboundMessage, message=message, old=old, new=new)
    return True


def message_send(*, message_id: int) -> OutboundMessage:
    """Send a queued message once. Called by the task; safe to run twice.

    The message is claimed with ``UPDATE ... WHERE status='queued'``: a second run
    (a redelivered or duplicated task, another worker) finds nothing to claim and
    sends nothing. A permanent provider error fails the message with its code; a
    transient one puts it back to ``queued`` and raises ``TransientSendError`` (or
    fails it after ``NOTIFICATIONS_MAX_ATTEMPTS``).

    Not atomic as a whole on purpose: the state written on a transient error must
    survive the exception. Callers (the task) run it inside the tenant's transaction.
    """
    claimed = OutboundMessage.objects.filter(pk=message_id, status=Status.QUEUED).update(
        status=Status.SENDING, attempts=F("attempts") + 1
    )
    message = OutboundMessage.objects.get(pk=message_id)
    if not claimed:
        return message
    try:
        if message.channel == Channel.SMS:
            provider, provider_id = _send_sms(message)
        else:
            provider, provider_id = _send_email(message)
    except SendError as exc:
        error = str(exc)[:2000]
        if exc.permanent or message.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            message.status = Status.SENDING
            _move(message, Status.FAILED, last_error=error, error_code=exc.code)
            return message
        OutboundMessage.objects.filter(pk=message.pk).update(
            status=Status.QUEUED, last_error=error, error_code=exc.code
        )
        raise TransientSendError(error, attempts=message.attempts) from exc
    message.status = Status.SENDING
    ProviderRoute.objects.create(
        provider=provider, provider_id=provider_id, tenant=require_tenant(), message_id=message.pk
    )
    _move(message, Status.SENT, provider=provider, provider_id=provider_id, last_error="")
    return message


def message_status_update(
    *,
    provider: str,
    provider_id: str,
    status: str,
    event_id: str,
    payload: dict | None = None,
    error_code: str = "",
) -> OutboundMessage | None:
    """Record a provider's event and move the message forward (never back).

    Idempotent: an event id already recorded for this provider changes nothing.
    Returns the message, or None when the active tenant has no such message.
    ``provider`` may be ``"anymail:*"`` to match any anymail ESP.
    """
    qs = OutboundMessage.objects.filter(provider_id=provider_id)
    if provider.endswith("*"):
        qs = qs.filter(provider__startswith=provider[:-1])
    else:
        qs = qs.filter(provider=provider)
    with transaction.atomic():
        message = qs.select_for_update().first()
        if message is None:
            return None
        try:
            with transaction.atomic():
                MessageEvent.objects.create(
                    message=message,
                    provider=message.provider,
                    event_id=event_id[:200],
                    status=status,
                    payload=_safe_payload(payload or {}),
                )
        except IntegrityError:
            return message  # seen before
        fields = {}
        if status in (Status.FAILED, Status.UNDELIVERED) and error_code:
            fields["error_code"] = str(error_code)[:40]
        _move(message, status, **fields)
    return message


def message_poll(*, message: OutboundMessage, backend) -> bool:
    """Ask the SMS provider for ``message``'s status now (a lost callback); True if it moved.

    The event id is the one a callback with the same status would record, so a status
    seen by the poll and by a callback (or by two polls) is recorded once.
    """
    state = backend.fetch_status(message.provider_id)
    if state is None or state.status == message.status:
        return False
    message_status_update(
        provider=message.provider,
        provider_id=message.provider_id,
        status=state.status,
        event_id=f"{message.provider_id}:{state.status}",
        payload={"source": "poll", "MessageStatus": state.status},
        error_code=state.error_code,
    )
    return True


def notification_settings_update(
    *, sms_enabled: bool | None = None, sms_sender: str | None = None, rate: int | None = None
):
    """Change the active tenant's messaging settings (platform admin / billing)."""
    from .models import NotificationSettings

    with transaction.atomic():
        current, _created = NotificationSettings.objects.get_or_create(tenant=require_tenant())
        if sms_enabled is not None:
            current.sms_enabled = sms_enabled
        if sms_sender is not None:
            current.sms_sender = sms_sender
        if rate is not None:
            current.send_rate_per_second = rate
        current.full_clean()
        current.save()
    return current
