"""Mass deletion (issue 10 item 5, Avance's "Massradera"): one job that deletes many
customers nothing refers to, in chunks.

A run holds counts and codes, never personal data. Its items name the customers by id
only, as a plain number: the customer row goes, and an item must outlive it (a foreign
key would cascade the item away with the customer). The criteria are the proposal's
filters without the free-text search (which may hold a name). Imported by ``models.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantOwnedModel

from .models_runs import RunStatus


class DeletionRun(TenantOwnedModel):
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    # The proposal's filters (last activity before, status, register entries by id).
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)
    note = models.TextField(_("note"), max_length=500, blank=True)
    total = models.PositiveIntegerField(_("customers"), default=0)
    # Shown struck out in the proposal, never part of the run.
    excluded = models.PositiveIntegerField(_("not deletable"), default=0)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    # Rows deleted per model (app_label.Model), summed over the chunks.
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    files_deleted = models.PositiveIntegerField(_("files deleted"), default=0)
    error = models.CharField(_("error"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # When a chunk last ran: the sweep resumes a run with waiting customers and no chunk
    # for a while (its task was lost).
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
        verbose_name = _("deletion run")
        verbose_name_plural = _("deletion runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"deletion run {self.pk}"

    @property
    def done_count(self) -> int:
        return self.deleted + self.skipped

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done_count / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED)


class DeletionOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DELETED = "deleted", _("Deleted")
    SKIPPED = "skipped", _("Skipped")


class DeletionRunItem(TenantOwnedModel):
    """One customer of a deletion run; ``reason`` is a code (deletion.REASON_LABELS)."""

    run = models.ForeignKey(
        DeletionRun, on_delete=models.CASCADE, related_name="items", verbose_name=_("run")
    )
    customer_id = models.BigIntegerField(_("customer id"))
    outcome = models.CharField(
        _("outcome"),
        max_length=12,
        choices=DeletionOutcome.choices,
        default=DeletionOutcome.PENDING,
    )
    reason = models.CharField(_("reason"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("deletion run customer")
        verbose_name_plural = _("deletion run customers")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "run", "customer_id"], name="anonymization_del_item_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["tenant", "run", "outcome", "id"], name="anonymization_del_item_idx"
            ),
        ]
