"""Retention settings and legal holds (issue 9, items 3 and 5).

Retention runs from the end of the tenant's fiscal year in which a customer's last
activity fell, plus a number of years (docs/design.md, "Legal rules"). The fiscal-year end
itself is the company's (``tenancy.Tenant.fiscal_year_end_month/day``, also shown on the
company settings page): one value, read here and edited from either page, so the two
can never disagree. A ``RetentionPolicy`` row holds the periods; a tenant without one
gets its country's preset (``anonymization.selectors.retention_policy``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantOwnedModel

MIN_YEARS = 1
MAX_YEARS = 20
# Prospects (only ever got a quote) need not be kept for the bookkeeping laws: no voucher
# names them. Two years lets a quote be followed up; E-Komplet offers a separate period too.
DEFAULT_PROSPECT_YEARS = 2


@dataclass(frozen=True)
class Preset:
    country: str
    name: Promise
    years: int
    law: str  # the law's own name, not translated
    source: Promise  # where in it
    language: str  # the law's language (the page marks the source with it)

    @property
    def prospect_years(self) -> int:
        return min(DEFAULT_PROSPECT_YEARS, self.years)


PRESETS: dict[str, Preset] = {
    p.country: p
    for p in (
        Preset("DK", _("Denmark"), 5, "Bogføringsloven", _("Bogføringsloven § 12 (5 years)"), "da"),
        Preset(
            "SE", _("Sweden"), 7, "Bokföringslagen", _("Bokföringslagen 7 kap. 2 § (7 years)"), "sv"
        ),
        Preset("NO", _("Norway"), 5, "Bokføringsloven", _("Bokføringsloven § 13 (5 years)"), "nb"),
        Preset(
            "FI", _("Finland"), 6, "Kirjanpitolaki", _("Kirjanpitolaki 2 luku 10 § (6 years)"), "fi"
        ),
    )
}
# A company outside the four countries gets the longest period until its admin decides.
FALLBACK_PRESET = PRESETS["SE"]


class PresetChoice(models.TextChoices):
    NONE = "", _("Own settings")
    DK = "DK", _("Denmark")
    SE = "SE", _("Sweden")
    NO = "NO", _("Norway")
    FI = "FI", _("Finland")


def _years(label):
    return models.PositiveSmallIntegerField(
        label, validators=[MinValueValidator(MIN_YEARS), MaxValueValidator(MAX_YEARS)]
    )


class RetentionPolicy(TenantOwnedModel):
    """The tenant's retention periods (one row, created on first save)."""

    customer_years = _years(_("retention for customers (years)"))
    prospect_years = _years(_("retention for prospects (years)"))
    preset = models.CharField(
        _("preset"), max_length=2, choices=PresetChoice.choices, blank=True, default=""
    )
    # Issue 10 item 6: a daily run (anonymization.auto_prospects) of the eligible prospects.
    auto_anonymize_prospects = models.BooleanField(
        _("anonymize eligible prospects automatically"), default=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="anonymization_one_policy"),
            models.CheckConstraint(
                condition=Q(prospect_years__lte=models.F("customer_years")),
                name="anonymization_prospects_not_longer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_years}/{self.prospect_years}"

    @property
    def is_saved(self) -> bool:
        return self.pk is not None

    @property
    def fiscal_year_end_month(self) -> int:
        return self.tenant.fiscal_year_end_month

    @property
    def fiscal_year_end_day(self) -> int:
        return self.tenant.fiscal_year_end_day

    @property
    def preset_info(self) -> Preset | None:
        return PRESETS.get(self.preset)


class LegalHold(TenantOwnedModel):
    """A customer kept from anonymization and deletion (a dispute, a claim, an audit)."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("customer"),
    )
    reason = models.TextField(_("reason"), max_length=500)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set by"),
    )
    set_at = models.DateTimeField(_("set at"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-set_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer"],
                condition=Q(lifted_at__isnull=True),
                name="anonymization_one_active_hold",
            ),
        ]

    def __str__(self) -> str:
        return f"hold {self.pk} on customer {self.customer_id}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


# Runs and mass deletions live in their own modules; imported here for Django to find.
from .models_deletion import DeletionOutcome, DeletionRun, DeletionRunItem  # noqa: E402,F401
from .models_runs import (  # noqa: E402,F401
    AnonymizationRun,
    AnonymizationRunItem,
    ItemOutcome,
    RunSource,
    RunStatus,
)
from .models_scan import ErasureNeedle  # noqa: E402,F401
