"""Reads for retention and legal holds."""

from __future__ import annotations

from django.db.models import QuerySet

from customers.models import Customer
from tenancy.context import require_tenant

from .models import FALLBACK_PRESET, PRESETS, LegalHold, Preset, RetentionPolicy


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
