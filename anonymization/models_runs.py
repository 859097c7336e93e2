"""Anonymization runs (issue 10 item 3): one job that anonymizes many customers in chunks.

A run holds counts and codes, never personal data: the customers it reached are its
items (ids and an outcome), and the note staff write is about the run ("yearly clean-up
2026"), which the form asks them to keep free of names. Imported by ``models.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantOwnedModel


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Stopped by an error")


class RunSource(models.TextChoices):
    PAGE = "page", _("Anonymization page")
    CARD = "card", _("Customer card")
    COMMAND = "command", _("Command")
    SCHEDULE = "schedule", _("Schedule")


class AnonymizationRun(TenantOwnedModel):
    source = models.CharField(_("source"), max_length=10, choices=RunSource.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    # anonymization.categories values: the kinds of data this run erases.
    categories = ArrayField(models.CharField(max_length=30), verbose_name=_("data erased"))
    note = models.TextField(_("note"), max_length=500, blank=True)
    total = models.PositiveIntegerField(_("customers"), default=0)
    anonymized = models.PositiveIntegerField(_("anonymized"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    # Rows changed per category and per model, summed over the chunks (no personal data).
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    residue = models.PositiveIntegerField(_("residue"), default=0)
    files_deleted = models.PositiveIntegerField(_("files deleted"), default=0)
    error = models.CharField(_("error"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # When a chunk last ran: a run with waiting customers and no chunk for a while lost
    # its task (a worker killed, a broker restarted) and is resumed by the sweep.
    worked_at = models.DateTimeField(_("last worked on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    actor_type = models.CharField(_("actor type"), max_length=20)
    actor_id = models.CharField(_("actor id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("anonymization run")
        verbose_name_plural = _("anonymization runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"anonymization run {self.pk}"

    @property
    def done_count(self) -> int:
        return self.anonymized + self.skipped

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done_count / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED)


class ItemOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting")
    ANONYMIZED = "anonymized", _("Anonymized")
    SKIPPED = "skipped", _("Skipped")


class AnonymizationRunItem(TenantOwnedModel):
    """One customer of a run and what became of it; ``reason`` is a code (runs.SKIP_LABELS)."""

    run = models.ForeignKey(
        AnonymizationRun, on_delete=models.CASCADE, related_name="items", verbose_name=_("run")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=ItemOutcome.choices, default=ItemOutcome.PENDING
    )
    reason = models.CharField(_("reason"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("anonymization run customer")
        verbose_name_plural = _("anonymization run customers")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "run", "customer"], name="anonymization_run_item_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["tenant", "run", "outcome", "id"], name="anonymization_run_item_idx"
            ),
        ]
