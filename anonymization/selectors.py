"""Reads for retention, legal holds and anonymization runs."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from customers.models import Customer
from tenancy.context import require_tenant

from .models import (
    FALLBACK_PRESET,
    PRESETS,
    AnonymizationRun,
    ItemOutcome,
    LegalHold,
    Preset,
    RetentionPolicy,
)


def preset_for_country(country: str) -> Preset:
    return PRESETS.get((country or "").upper(), FALLBACK_PRESET)


def retention_policy() -> RetentionPolicy:
    """The active tenant's policy; unsaved, from its country's preset, when none is saved.

    So eligibility works before anyone opens the settings page. The fiscal-year end is
    the company's own (a calendar year unless changed).
    """
    tenant = require_tenant()
    row = RetentionPolicy.objects.filter(tenant=tenant).first()
    if row is not None:
        row.tenant = tenant
        return row
    preset = preset_for_country(tenant.country)
    return RetentionPolicy(
        tenant=tenant,
        customer_years=preset.years,
        prospect_years=preset.prospect_years,
        preset=preset.country if preset.country == (tenant.country or "").upper() else "",
    )


def active_hold_of(customer: Customer) -> LegalHold | None:
    return (
        LegalHold.objects.filter(customer=customer, lifted_at__isnull=True)
        .select_related("set_by")
        .first()
    )


def holds_of(customer: Customer) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(customer=customer).select_related("set_by", "lifted_by")


def customers_on_hold() -> QuerySet[Customer]:
    """Customers with an active legal hold (a blocker for eligibility and mass deletion)."""
    held = LegalHold.objects.filter(lifted_at__isnull=True).values("customer_id")
    return Customer.objects.filter(pk__in=held)


def run_list() -> QuerySet[AnonymizationRun]:
    """The active tenant's runs, newest first, with who started them."""
    return AnonymizationRun.objects.select_related("created_by").order_by("-created_at", "-pk")


def run_skipped_reasons(run: AnonymizationRun) -> list[tuple[str, int]]:
    """(reason label, customers) of a run's skipped customers, commonest first."""
    from .runs import SKIP_LABELS

    rows = (
        run.items.filter(outcome=ItemOutcome.SKIPPED)
        .order_by()
        .values("reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "reason")
    )
    return [(SKIP_LABELS.get(row["reason"], row["reason"]), row["n"]) for row in rows]
