"""Events (the feed integrators read or receive), webhook endpoints and their deliveries.

Events and deliveries hold ids and codes only, never personal data: they outlive the
erasure of the customer they are about (webhooks/pii.py).
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantOwnedModel


class EventType(models.TextChoices):
    CONSENT_GRANTED = "consent.granted", _("Consent granted")
    CONSENT_DECLINED = "consent.declined", _("Consent declined")
    CONSENT_WITHDRAWN = "consent.withdrawn", _("Consent withdrawn")
    CONSENT_EXPIRED = "consent.expired", _("Consent expired")
    CUSTOMER_CREATED = "customer.created", _("Customer created")
    CUSTOMER_UPDATED = "customer.updated", _("Customer updated")
    CUSTOMER_ANONYMIZED = "customer.anonymized", _("Customer anonymized")
    RUN_FINISHED = "anonymization_run.finished", _("Anonymization run finished")


class Event(TenantOwnedModel):
    """One thing that happened, append-only; its id is the feed's cursor."""

    id = models.BigAutoField(primary_key=True)
    type = models.CharField(_("type"), max_length=40, choices=EventType.choices)
    object_type = models.CharField(_("object type"), max_length=40)
    object_id = models.CharField(_("object id"), max_length=64)
    data = models.JSONField(_("data"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type}"

    def payload(self) -> dict:
        """What the feed answers and a webhook carries (webhooks/signing.py signs it)."""
        return {
            "id": self.pk,
            "type": self.type,
            "created_at": self.created_at.isoformat(),
            "tenant": self.tenant.slug,
            "object": {"type": self.object_type, "id": self.object_id},
            "data": self.data,
        }


class WebhookEndpoint(TenantOwnedModel):
    """Where a tenant wants its events sent.

    The secret is kept as it is: it must be recoverable to sign every delivery, and no
    encryption library is a dependency (cryptography is not); row security keeps it to
    the tenant and the UI shows it only once, on creation or rotation.
    """

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(max_length=100, editable=False)
    event_types = ArrayField(
        models.CharField(max_length=40, choices=EventType.choices),
        verbose_name=_("events"),
        default=list,
    )
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    FAILED = "failed", _("Failed, will retry")
    SUCCEEDED = "succeeded", _("Delivered")
    GAVE_UP = "gave_up", _("Given up")


class WebhookDelivery(TenantOwnedModel):
    """One event on its way to one endpoint, with the outcome of its last attempt."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    response_ms = models.PositiveIntegerField(_("response time (ms)"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # The delivery this one replays (a plain id: the log shows it, nothing joins on it).
    replay_of = models.PositiveBigIntegerField(_("replay of"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status__in=["pending", "failed"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"
