"""Use cases: queue a message, record a provider's status event, a person's decision.

Sending itself (claim, provider call, result) lives in ``sending.py``.
"""

from __future__ import annotations

import logging
import re
import zoneinfo

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from tenancy.context import require_tenant

from .models import (
    Channel,
    MessageEvent,
    NotificationSettings,
    OutboundMessage,
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


class SmsCapReached(ValidationError):
    """The tenant has queued its monthly cap of SMS (``sms_settings_update``)."""

    def __init__(self):
        super().__init__(
            _(
                "The company's monthly SMS limit is reached. "
                "An administrator can raise it in the SMS settings."
            ),
            code="sms_cap_reached",
        )


def _safe_payload(payload: dict) -> dict:
    return {k: str(v) for k, v in (payload or {}).items() if k in SAFE_PAYLOAD_KEYS}


def render_plain(name: str, context: dict) -> str:
    """Render a plain-text template: no HTML escaping ("Østergaard & Åberg", not "&amp;")."""
    return get_template(name).template.render(Context(context, autoescape=False))


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
        body = render_plain(f"notifications/{template}.{channel}.txt", context).strip()
        if channel == Channel.EMAIL and not subject:
            subject = render_plain(f"notifications/{template}.subject.txt", context)
            subject = " ".join(subject.split())
    with transaction.atomic():
        if channel == Channel.SMS:
            _sms_month_take()
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


def move_status(message: OutboundMessage, new: str, **fields) -> bool:
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
        move_status(message, status, **fields)
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


def _sms_month_take() -> None:
    """Count one SMS against this month's cap; ``SmsCapReached`` when none is left.

    One UPDATE that tests and counts: it locks the settings row until the caller's
    transaction ends, so two concurrent sends cannot both take the last one, and a send
    that is rolled back gives its count back.
    """
    tenant = require_tenant()
    month = timezone.localdate(timezone=zoneinfo.ZoneInfo(tenant.time_zone)).replace(day=1)
    taken = NotificationSettings.objects.filter(
        Q(sms_monthly_cap__isnull=True)
        | ~Q(sms_month=month)
        | Q(sms_month_count__lt=F("sms_monthly_cap"))
    ).update(
        sms_month=month,
        sms_month_count=Case(
            When(sms_month=month, then=F("sms_month_count") + 1), default=Value(1)
        ),
    )
    if not taken:
        raise SmsCapReached()


# An alphanumeric sender ID (GSM: up to 11 characters, at least one letter) or a number.
SMS_SENDER_NAME = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
SMS_SENDER_NUMBER = re.compile(r"\+[1-9][0-9]{6,14}")


def _sender_type(sender: str) -> str:
    """What the audit log says of a sender instead of the value (which may be a person's)."""
    if not sender:
        return "platform"
    return "number" if sender.startswith("+") else "name"


def sms_sender_clean(sender: str) -> str:
    """The sender as stored: a sender name as typed (trimmed), a number in E.164."""
    sender = (sender or "").strip()
    if not sender:
        return ""
    if sender[0] in "+0" or sender.replace(" ", "").replace("-", "").isdigit():
        compact = "".join(sender.replace("-", " ").split())
        if SMS_SENDER_NUMBER.fullmatch(compact):
            try:
                number = phonenumbers.parse(compact)
            except phonenumbers.NumberParseException:
                number = None
            if number is not None and phonenumbers.is_valid_number(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        raise ValidationError(
            {"sms_sender": _("Give the number in international form, e.g. +46701234567.")},
            code="invalid",
        )
    if not SMS_SENDER_NAME.fullmatch(sender):
        raise ValidationError(
            {
                "sms_sender": _(
                    "A sender name has at most 11 characters: letters A-Z, digits and "
                    "spaces, at least one letter."
                )
            },
            code="invalid",
        )
    return sender


def sms_settings_update(
    *, enabled: bool, sender: str, monthly_cap: int | None, actor
) -> NotificationSettings:
    """An administrator switches SMS on or off, with the sender and the monthly cap.

    Switching on needs a monthly cap (a whole number, 1 or more): SMS costs money per
    message. The audit entry holds old and new values, except the sender itself (a
    number may be a person's): only whether it is a name, a number or the platform's.
    """
    from audit.services import audit_record

    sender = sms_sender_clean(sender)
    if monthly_cap is not None and (
        isinstance(monthly_cap, bool) or not isinstance(monthly_cap, int) or monthly_cap < 1
    ):
        raise ValidationError(
            {"sms_monthly_cap": _("Give a whole number of messages, 1 or more.")}, code="invalid"
        )
    if enabled and monthly_cap is None:
        raise ValidationError(
            {"sms_monthly_cap": _("Give the most SMS the company may send in a month.")},
            code="required",
        )
    with transaction.atomic():
        current, _created = NotificationSettings.objects.select_for_update().get_or_create(
            tenant=require_tenant()
        )
        before = {
            "enabled": current.sms_enabled,
            "sender": _sender_type(current.sms_sender),
            "monthly_cap": current.sms_monthly_cap,
        }
        sender_changed = current.sms_sender != sender
        current.sms_enabled = enabled
        current.sms_sender = sender
        current.sms_monthly_cap = monthly_cap
        current.full_clean()
        current.save()
        after = {
            "enabled": enabled,
            "sender": _sender_type(sender),
            "monthly_cap": monthly_cap,
        }
        changed = sorted(k for k in after if before[k] != after[k])
        if sender_changed and "sender" not in changed:
            changed = sorted([*changed, "sender"])
        if changed:
            audit_record(
                action="notifications.sms_settings_changed",
                actor=actor,
                object_type="notification_settings",
                object_id=current.pk,
                data={
                    "fields": changed,
                    "old": {k: before[k] for k in changed},
                    "new": {k: after[k] for k in changed},
                },
            )
    return current


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


UNCERTAIN_DECISIONS = ("resend", "sent", "failed")


def message_decide(*, message_id: int, decision: str, actor) -> OutboundMessage:
    """A person settles an ``uncertain`` message: send it again, or record it sent / failed.

    ``actor`` is an audit Actor. Only an uncertain message can be decided; anything else
    is a ValidationError (a second click, a message settled meanwhile).
    """
    from audit.services import audit_record

    from .tasks import send_message

    if decision not in UNCERTAIN_DECISIONS:
        raise ValidationError({"decision": _("Choose send again, sent or failed.")})
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != Status.UNCERTAIN:
            raise ValidationError(_("This message no longer waits for a decision."))
        if decision == "resend":
            OutboundMessage.objects.filter(pk=message.pk).update(
                status=Status.QUEUED, queued_at=timezone.now(), next_attempt_at=None
            )
            send_message.enqueue(message.pk)
        else:
            new = Status.SENT if decision == "sent" else Status.FAILED
            move_status(message, new, last_error=message.last_error if new == Status.FAILED else "")
        audit_record(
            action=f"notifications.message_{decision}",
            actor=actor,
            object_type="notifications.message",
            object_id=message.pk,
            data={"channel": message.channel, "decision": decision},
        )
    message.refresh_from_db()
    return message
