"""What reports keeps per tenant: the label sheet it prints on (issue 11)."""

from __future__ import annotations

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
