"""Consent: versioned terms, requests sent to customers, the append-only proof, the current state.

docs/design.md invariant 6: every decision stores who, when, how, from where, and the
exact version and hash of the text that was shown.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenancy.models import LANGUAGE_CHOICES, Tenant, TenantOwnedModel

DEFAULT_VALID_DAYS = 30


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class RequestStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")


# A request still waiting for the customer's answer.
OPEN_STATUSES = (
    RequestStatus.QUEUED,
    RequestStatus.SENT,
    RequestStatus.DELIVERED,
    RequestStatus.FAILED,
)


class Decision(models.TextChoices):
    GRANTED = "granted", _("Consent given")
    DECLINED = "declined", _("Consent declined")
    WITHDRAWN = "withdrawn", _("Consent withdrawn")


class Method(models.TextChoices):
    LINK = "link", _("Consent page link")
    SMS_REPLY = "sms_reply", _("SMS reply")
    POS = "pos", _("In store (POS)")
    MANUAL = "manual", _("Manually by staff")


class ManualHow(models.TextChoices):
    PAPER = "paper", _("On paper")
    PHONE = "phone", _("By phone")
    IN_PERSON = "in_person", _("In person")
    OTHER = "other", _("Other")


class ConsentStatus(models.TextChoices):
    NONE = "none", _("No consent")
    REQUESTED = "requested", _("Consent requested")
    GRANTED = "granted", _("Consent approved")
    DECLINED = "declined", _("Consent declined")
    WITHDRAWN = "withdrawn", _("Consent withdrawn")
    EXPIRED = "expired", _("Consent expired")


class ConsentSettings(TenantOwnedModel):
    """The tenant's consent settings (one row per tenant, created on first save)."""

    request_valid_days = models.PositiveSmallIntegerField(
        _("consent link valid (days)"),
        default=DEFAULT_VALID_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    # One reminder, this many days after an unanswered request was sent (None: no reminder).
    reminder_after_days = models.PositiveSmallIntegerField(
        _("send one reminder after (days)"),
        null=True,
        blank=True,
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(364)],
    )
    # How long a given consent holds (None: until withdrawn).
    consent_valid_months = models.PositiveSmallIntegerField(
        _("consent valid (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    # Customers are asked again this many days before their consent lapses.
    renewal_notice_days = models.PositiveSmallIntegerField(
        _("ask again before it lapses (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )

    class Meta:
        verbose_name = _("consent settings")
        verbose_name_plural = _("consent settings")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="consent_settings_uniq")]


class ConsentTerms(TenantOwnedModel):
    """One published version of the consent text in one language. Never edited afterwards."""

    language = models.CharField(_("language"), max_length=5, choices=LANGUAGE_CHOICES)
    version = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("text"))
    text_sha256 = models.CharField(_("SHA-256 of the text"), max_length=64, editable=False)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("consent terms")
        verbose_name_plural = _("consent terms")
        ordering = ["language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "language", "version"], name="consent_terms_version_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.language} v{self.version}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Published consent terms are read-only; publish a new version.")
        self.text_sha256 = text_sha256(self.text)
        super().save(*args, **kwargs)


class ConsentRequest(TenantOwnedModel):
    """A request for consent sent to one customer; the link carries a token only its hash of."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="consent_requests",
        verbose_name=_("customer"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    destination = models.CharField(_("destination"), max_length=254)
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGE_CHOICES)
    terms = models.ForeignKey(
        ConsentTerms, on_delete=models.PROTECT, related_name="+", verbose_name=_("terms")
    )
    token_hash = models.CharField(max_length=64, editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.QUEUED
    )
    expires_at = models.DateTimeField(_("expires at"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    actor_type = models.CharField(_("actor type"), max_length=20)
    actor_id = models.CharField(_("actor id"), max_length=64, blank=True)
    # Set by consent.delivery.request_dispatch when the message may be sent.
    dispatch_ready_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the one reminder went out (its link carries a second token for the same request).
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    batch = models.ForeignKey(
        "ConsentBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("batch"),
    )
    # What an SMS reply names ("JA K7QX"), so that it decides this request and no other
    # (consent.replies). Empty for email requests.
    sms_reply_code = models.CharField(
        _("SMS reply code"), max_length=8, blank=True, default="", editable=False
    )

    class Meta:
        verbose_name = _("consent request")
        verbose_name_plural = _("consent requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "token_hash"], name="consent_request_token")
        ]
        indexes = [models.Index(fields=["tenant", "customer"], name="consent_request_cust_idx")]

    @property
    def is_expired(self) -> bool:
        return self.status == RequestStatus.EXPIRED or (
            self.status in OPEN_STATUSES and self.expires_at <= timezone.now()
        )

    @property
    def effective_status(self) -> str:
        return RequestStatus.EXPIRED if self.is_expired else self.status

    @property
    def destination_masked(self) -> str:
        return mask_destination(self.channel, self.destination)


def mask_destination(channel: str, destination: str) -> str:
    if not destination:
        return ""
    if channel == Channel.EMAIL and "@" in destination:
        local, _sep, domain = destination.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{'*' * max(len(destination) - 3, 3)}{destination[-3:]}"


class ConsentDecision(TenantOwnedModel):
    """The proof of one decision. Append-only: the database refuses UPDATE and DELETE
    (except blanking its personal fields, through consent_decision_scrub())."""

    append_only = True  # tenancy.db_setup grants the runtime role SELECT and INSERT only

    receipt_id = models.UUIDField(_("receipt id"), default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="consent_decisions",
        verbose_name=_("customer"),
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    terms = models.ForeignKey(
        ConsentTerms,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("terms"),
    )
    terms_version = models.PositiveIntegerField(_("terms version"), null=True, blank=True)
    terms_language = models.CharField(_("terms language"), max_length=5, blank=True)
    terms_sha256 = models.CharField(_("SHA-256 of the text shown"), max_length=64, blank=True)
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    actor_type = models.CharField(_("actor type"), max_length=20)
    actor_id = models.CharField(_("actor id"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=500, blank=True)
    request = models.ForeignKey(
        ConsentRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        verbose_name=_("request"),
    )
    context = models.JSONField(_("context"), default=dict, blank=True)
    how = models.CharField(
        _("how it was given"), max_length=12, choices=ManualHow.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("consent decision")
        verbose_name_plural = _("consent decisions")
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "customer"], name="consent_decision_cust_idx")]

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Consent decisions are append-only.")
        super().save(*args, **kwargs)


class ConsentState(TenantOwnedModel):
    """The customer's current consent, kept by the services (a denormalized view of the proof)."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.NONE
    )
    terms_version = models.PositiveIntegerField(_("terms version"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, blank=True)
    last_request = models.ForeignKey(
        ConsentRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A granted consent lapses then (ConsentSettings.consent_valid_months; None: never).
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    # When the customer was asked to renew a consent about to lapse.
    renewal_requested_at = models.DateTimeField(_("renewal requested at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("consent state")
        verbose_name_plural = _("consent states")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "customer"], name="consent_state_uniq")
        ]


class BatchSource(models.TextChoices):
    SEARCH = "search", _("Search results")
    SELECTION = "selection", _("Own selection")
    OUTDATED_TERMS = "outdated_terms", _("Consented to older terms")
    API = "api", _("API")


class BatchStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to start")
    RUNNING = "running", _("Sending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Stopped by an error")


class ConsentBatch(TenantOwnedModel):
    """One request for consent to many customers, worked through by Celery in chunks."""

    channel = models.CharField(_("channel"), max_length=10)  # email, sms or any
    source = models.CharField(_("source"), max_length=20, choices=BatchSource.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.PENDING
    )
    total = models.PositiveIntegerField(_("customers"), default=0)
    sent = models.PositiveIntegerField(_("requested"), default=0)
    skipped = models.PositiveIntegerField(_("skipped, no email or mobile"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # When a chunk last ran: a batch with waiting customers and no chunk for a while lost
    # its task (a worker killed, a broker restarted) and is resumed by the sweep.
    worked_at = models.DateTimeField(_("last worked on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    actor_type = models.CharField(_("actor type"), max_length=20)
    actor_id = models.CharField(_("actor id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("consent batch")
        verbose_name_plural = _("consent batches")
        ordering = ["-created_at", "-pk"]

    @property
    def done_count(self) -> int:
        return self.sent + self.skipped + self.failed


class BatchOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENT = "sent", _("Requested")
    SKIPPED = "skipped", _("No email or mobile")
    FAILED = "failed", _("Failed")


class ConsentBatchItem(TenantOwnedModel):
    """One customer of a batch and what became of it (the "could not reach" list)."""

    batch = models.ForeignKey(
        ConsentBatch, on_delete=models.CASCADE, related_name="items", verbose_name=_("batch")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=BatchOutcome.choices, default=BatchOutcome.PENDING
    )
    request = models.ForeignKey(
        ConsentRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("request"),
    )
    # A translated-at-display error code, never personal data.
    error = models.CharField(_("error"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("consent batch customer")
        verbose_name_plural = _("consent batch customers")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "batch", "customer"], name="consent_batch_item_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["tenant", "batch", "outcome", "id"], name="consent_batch_item_idx"
            ),
        ]


# ---------------------------------------------------------------------------
# SMS replies (consent.replies)


class ReplyRoute(models.Model):
    """Which tenant's consent request an SMS reply can answer: a platform table.

    An inbound SMS names two numbers and a text, and the tenant must be found before any
    of its rows may be read, so, like ``notifications.ProviderRoute`` and ``Membership``,
    this table has no row security. It holds no phone number, only a keyed hash of the
    customer's (``consent.replies.number_key``), the sender ("" is the platform's shared
    one), the reply code and ids. Rows go 90 days after their request expires. Read and
    written through ``consent.replies`` alone.
    """

    sender = models.CharField(max_length=40, blank=True)
    number_key = models.CharField(max_length=64)
    code = models.CharField(max_length=8)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    request_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    keep_until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "number_key", "code"], name="consent_reply_route_uniq"
            )
        ]
        indexes = [models.Index(fields=["keep_until"], name="consent_reply_route_keep_idx")]

    def __str__(self) -> str:
        return f"reply route {self.code} → tenant {self.tenant_id}"


class ReplyReason(models.TextChoices):
    UNPARSEABLE = "unparseable", _("Neither yes nor no")
    UNKNOWN_CODE = "unknown_code", _("The code matches no request")
    AMBIGUOUS = "ambiguous", _("No code, and more than one request could be meant")
    NO_OPEN_REQUEST = "no_open_request", _("No open request to this number")
    CLOSED = "closed", _("The request was already answered or has expired")
    UNKNOWN_SENDER = "unknown_sender", _("Sent to a number we do not send from")


class ReplyStatus(models.TextChoices):
    OPEN = "open", _("To handle")
    ASSIGNED = "assigned", _("Assigned to a request")
    DISMISSED = "dismissed", _("Dismissed")


class UnmatchedReply(TenantOwnedModel):
    """An SMS reply of the tenant's customers that decided nothing, for staff to handle.

    Assigning it to one of the customer's open requests records the decision; dismissing
    it records none. Either way the number and the text are blanked: the decision (or
    nothing) and the audit log are what remains.
    """

    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    from_number = models.CharField(_("from"), max_length=40, blank=True)
    number_key = models.CharField(max_length=64, blank=True, editable=False)
    sender = models.CharField(_("sent to"), max_length=40, blank=True)
    body = models.TextField(_("text"), blank=True)
    decision = models.CharField(
        _("understood as"), max_length=10, choices=Decision.choices, blank=True
    )
    code = models.CharField(_("code given"), max_length=8, blank=True)
    reason = models.CharField(_("why it decided nothing"), max_length=20, choices=ReplyReason)
    status = models.CharField(
        _("status"), max_length=10, choices=ReplyStatus.choices, default=ReplyStatus.OPEN
    )
    provider_message_id = models.CharField(_("provider id"), max_length=64, blank=True)
    # The request it was assigned to (an id, like the audit log's: the decision links it).
    assigned_request_id = models.BigIntegerField(null=True, blank=True, editable=False)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )

    class Meta:
        verbose_name = _("unmatched SMS reply")
        verbose_name_plural = _("unmatched SMS replies")
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(
                fields=["tenant", "status", "received_at"], name="consent_reply_status_idx"
            )
        ]


class UnroutedReply(models.Model):
    """An SMS reply no tenant can be told of (no route, or more than one tenant could be
    meant): a platform table for the operator (``manage.py consent_unrouted_replies``).

    It keeps no number and no text, only the provider's id of the message (the provider
    holds the rest), what the text was understood as, and why. Rows go after 90 days.
    """

    received_at = models.DateTimeField(default=timezone.now)
    sender = models.CharField(max_length=40, blank=True)
    provider_message_id = models.CharField(max_length=64, blank=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    has_code = models.BooleanField(default=False)
    reason = models.CharField(max_length=20, choices=ReplyReason)
    tenants = models.PositiveSmallIntegerField(default=0)  # how many could be meant

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["received_at"], name="consent_unrouted_received_idx")]

    def __str__(self) -> str:
        return f"unrouted reply {self.provider_message_id} ({self.reason})"
