"""What reports keeps per tenant: the label sheet it prints on (issue 11)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantOwnedModel


class LabelLayout(models.TextChoices):
    """A4 label sheets; the geometry of each is ``reports.labels.GRIDS``."""

    L3X8 = "3x8", _("3 x 8 labels of 70 x 36 mm")
    L2X7 = "2x7", _("2 x 7 labels of 99.1 x 38.1 mm")
    L3X7 = "3x7", _("3 x 7 labels of 70 x 42.3 mm")


class ReportSettings(TenantOwnedModel):
    """The tenant's report settings (one row, created on first save; until then the
    defaults apply, see ``reports.preferences.report_settings``)."""

    label_layout = models.CharField(
        _("label sheet"), max_length=8, choices=LabelLayout.choices, default=LabelLayout.L3X8
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("report settings")
        verbose_name_plural = _("report settings")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="reports_one_settings")]

    def __str__(self) -> str:
        return self.label_layout


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class ExportJob(TenantOwnedModel):
    """One export too big to stream at once: written by a worker to the tenant's storage
    prefix, downloaded by the user who asked for it until it expires (reports/jobs.py)."""

    # What is exported: "report" (``report`` is its slug), "customers" (the customer list),
    # "selection" (the user's own selection) or "consent_batch" (``report`` is the batch id).
    source = models.CharField(_("source"), max_length=20)
    report = models.CharField(_("report"), max_length=40, blank=True)
    format = models.CharField(_("format"), max_length=10)
    # The page's criteria (query string keys and values) until the job ends, then emptied:
    # a search text may be a name.
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    total = models.PositiveIntegerField(_("customers"), default=0)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The storage name (tenants/<tenant id>/exports/<random>.<ext>); the file is personal data.
    file = models.CharField(_("file"), max_length=200, blank=True)
    download_name = models.CharField(_("file name"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    worked_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [models.Index(fields=["tenant", "created_by", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.report or self.source}.{self.format}"

    @property
    def active(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return min(99, self.rows_written * 100 // self.total) if self.total else 0


class DashboardSnapshot(TenantOwnedModel):
    """The dashboard's customer charts as last counted (one row per tenant): the page shows
    these numbers and their time, and a worker counts them again when they are a few
    minutes old (``reports.dashboard_snapshot``), so no page view waits for a count over a
    million customers."""

    computed_at = models.DateTimeField(_("computed at"))
    # The tenant's date the activity months were counted back from.
    day = models.DateField(_("day"))
    # {"consent": {status: count}, "activity": [{key, from, to, count, before}, ...]}
    figures = models.JSONField(_("figures"), default=dict)
    # When a page view last asked a worker for a new count (one at a time).
    refresh_asked_at = models.DateTimeField(_("refresh asked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dashboard snapshot")
        verbose_name_plural = _("dashboard snapshots")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="reports_one_snapshot")]

    def __str__(self) -> str:
        return f"{self.computed_at:%Y-%m-%d %H:%M}"
