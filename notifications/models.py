"""Outbound messages (email, SMS), their provider events, and each tenant's SMS subscription."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import Tenant, TenantOwnedModel


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    # A send was interrupted after the provider may have taken the message, and the
    # provider cannot be asked: a person decides whether to send it again.
    UNCERTAIN = "uncertain", _("Uncertain: check before sending again")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    UNDELIVERED = "undelivered", _("Undelivered")


# A status only ever moves to a higher rank; the three final ones share the top rank,
# so a late "sent" cannot undo "delivered" and "delivered" cannot flip to "failed".
STATUS_RANK = {
    Status.QUEUED: 0,
    Status.SENDING: 1,
    Status.UNCERTAIN: 2,
    Status.SENT: 3,
    Status.DELIVERED: 4,
    Status.FAILED: 4,
    Status.UNDELIVERED: 4,
}
FINAL_STATUSES = (Status.DELIVERED, Status.FAILED, Status.UNDELIVERED)
# No task will move these on its own: the provider took the message, it failed for good,
# or a person must decide. A batch is done when every message of it is settled.
SETTLED_STATUSES = (Status.SENT, *FINAL_STATUSES, Status.UNCERTAIN)


def can_move(old: str, new: str) -> bool:
    return STATUS_RANK[Status(new)] > STATUS_RANK[Status(old)]


class OutboundMessage(TenantOwnedModel):
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    destination = models.CharField(_("to"), max_length=254)
    language = models.CharField(_("language"), max_length=5)
    template = models.CharField(_("template"), max_length=100)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    provider = models.CharField(_("provider"), max_length=40, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=100, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    # When the latest attempt was claimed (status "sending"); a claim much older than
    # any send can take means the worker died mid-send (services.message_reconcile).
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # A transient failure's retry is due then; the sweep re-enqueues a queued message
    # only after it, so it never races a waiting retry.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "sent_at"], name="outbound_status_sent_idx"),
            # The sweep's reads: messages left queued or sending.
            models.Index(
                fields=["tenant", "status", "queued_at"],
                name="outbound_unsettled_idx",
                condition=models.Q(status__in=["queued", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk} ({self.status})"

    def can_move_to(self, new: str) -> bool:
        return can_move(self.status, new)


class MessageEvent(TenantOwnedModel):
    """One provider event about a message, as received. Append-only (the role may only INSERT)."""

    append_only = True

    message = models.ForeignKey(
        OutboundMessage, verbose_name=_("message"), on_delete=models.CASCADE, related_name="events"
    )
    provider = models.CharField(_("provider"), max_length=40)
    event_id = models.CharField(_("provider event id"), max_length=200)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message event")
        verbose_name_plural = _("message events")
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "provider", "event_id"], name="message_event_provider_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}: {self.status}"


class NotificationSettings(TenantOwnedModel):
    """A tenant's messaging settings. SMS is a paid subscription: off until switched on."""

    sms_enabled = models.BooleanField(_("SMS enabled"), default=False)
    sms_sender = models.CharField(
        _("SMS sender"),
        max_length=20,
        blank=True,
        help_text=_(
            "Sender name (up to 11 letters, digits and spaces) or number (E.164); "
            "empty uses the platform's messaging service."
        ),
    )
    send_rate_per_second = models.PositiveSmallIntegerField(
        _("messages per second"), default=5, validators=[MinValueValidator(1)]
    )
    # The admin's monthly cap (services.sms_settings_update); empty: no cap.
    sms_monthly_cap = models.PositiveIntegerField(
        _("SMS per month"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    # SMS queued in the calendar month (tenant's time zone) that starts on sms_month.
    sms_month = models.DateField(_("SMS count month"), null=True, blank=True, editable=False)
    sms_month_count = models.PositiveIntegerField(
        _("SMS queued this month"), default=0, editable=False
    )

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="notification_settings_tenant_uniq")
        ]

    def __str__(self) -> str:
        return f"notification settings of tenant {self.tenant_id}"


class ProviderRoute(models.Model):
    """Which tenant a provider's message id belongs to: the one narrow cross-tenant path.

    A platform table (no row security, like Membership): a webhook knows only the
    provider's id, and must find the tenant before it may read the message. It holds
    ids only, no personal data. Read it through ``selectors.route_tenant`` alone.
    """

    provider = models.CharField(max_length=40)
    provider_id = models.CharField(max_length=100)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    message_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_id"], name="provider_route_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_id} → tenant {self.tenant_id}"
