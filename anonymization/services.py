"""Use cases for retention settings and legal holds (keyword-only, atomic, audited).

Audit entries hold numbers, codes and ids only: never a hold's reason text.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record
from customers.models import Customer, CustomerStatus
from tenancy.context import require_tenant
from tenancy.services import tenant_update

from .models import MAX_YEARS, MIN_YEARS, PRESETS, LegalHold, PresetChoice, RetentionPolicy
from .selectors import retention_policy

REASON_MAX = 500
POLICY_FIELDS = (
    "fiscal_year_end_month",
    "fiscal_year_end_day",
    "customer_years",
    "prospect_years",
    "preset",
    "auto_anonymize_prospects",
)


def _whole(value) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if str(number) == str(value).strip() or isinstance(value, int) else None


def _snapshot(policy: RetentionPolicy) -> dict:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


@transaction.atomic
def retention_policy_update(
    *,
    actor: Actor,
    customer_years: int,
    prospect_years: int,
    fiscal_year_end_month: int,
    fiscal_year_end_day: int,
    preset: str | None = None,
    auto_anonymize_prospects: bool | None = None,
) -> RetentionPolicy:
    """Save the tenant's retention periods and fiscal-year end; bad input changes nothing.

    The fiscal-year end must exist every year: 29 February is refused (a year ending on a
    leap day would end on 28 February three years out of four; say 28 February instead).
    ``preset`` None keeps the current preset's name while the customer period is still the
    preset's, and clears it otherwise. ``auto_anonymize_prospects`` None keeps it as it is.
    """
    tenant = require_tenant()
    errors: dict[str, str] = {}
    years_msg = _("Enter a number of years from %(min)s to %(max)s.") % {
        "min": MIN_YEARS,
        "max": MAX_YEARS,
    }
    customers = _whole(customer_years)
    if customers is None or not MIN_YEARS <= customers <= MAX_YEARS:
        errors["customer_years"] = years_msg
    prospects = _whole(prospect_years)
    if prospects is None or not MIN_YEARS <= prospects <= MAX_YEARS:
        errors["prospect_years"] = years_msg
    elif customers is not None and "customer_years" not in errors and prospects > customers:
        errors["prospect_years"] = _("Prospects cannot be kept longer than customers.")
    month, day = _whole(fiscal_year_end_month), _whole(fiscal_year_end_day)
    if month is None or not 1 <= month <= 12:
        errors["fiscal_year_end_month"] = _("Enter a month from 1 to 12.")
    elif day is None:
        errors["fiscal_year_end_day"] = _("Enter a day of the month.")
    else:
        try:
            date(2023, month, day)  # not a leap year: the end must exist every year
        except ValueError:
            errors["fiscal_year_end_day"] = _("That day does not exist in that month.")
    if preset is None:
        current = retention_policy().preset_info
        preset = current.country if current and current.years == customers else ""
    if preset not in PresetChoice.values:
        errors["preset"] = _("Choose one of the countries.")
    if auto_anonymize_prospects is not None and not isinstance(auto_anonymize_prospects, bool):
        errors["auto_anonymize_prospects"] = _("Choose yes or no.")
    if errors:
        raise ValidationError(errors)

    RetentionPolicy.objects.select_for_update().filter(tenant=tenant).first()  # serialise
    policy = retention_policy()
    before = _snapshot(policy)
    if (month, day) != (tenant.fiscal_year_end_month, tenant.fiscal_year_end_day):
        tenant_update(
            tenant=tenant, actor=actor, fiscal_year_end_month=month, fiscal_year_end_day=day
        )
    policy.customer_years, policy.prospect_years, policy.preset = customers, prospects, preset
    if auto_anonymize_prospects is not None:
        policy.auto_anonymize_prospects = auto_anonymize_prospects
    after = _snapshot(policy)
    if after != before or not policy.is_saved:
        try:
            with transaction.atomic():
                policy.save()
        except IntegrityError as exc:  # a first save by someone else at the same moment
            raise ValidationError(
                _("Someone else saved these settings at the same time. Please try again.")
            ) from exc
    if after != before:
        changed = [name for name in POLICY_FIELDS if before[name] != after[name]]
        audit_record(
            action="retention.policy_changed",
            actor=actor,
            object_type="retention_policy",
            object_id=policy.pk,
            data={
                "fields": changed,
                "old": {name: before[name] for name in changed},
                "new": {name: after[name] for name in changed},
            },
        )
    return policy


def retention_preset_apply(*, actor: Actor, country: str) -> RetentionPolicy:
    """The country's legal period for customers, the prospect default, the same fiscal year."""
    preset = PRESETS.get(country or "")
    if preset is None:
        raise ValidationError({"country": _("Choose one of the countries.")})
    tenant = require_tenant()
    return retention_policy_update(
        actor=actor,
        customer_years=preset.years,
        prospect_years=preset.prospect_years,
        fiscal_year_end_month=tenant.fiscal_year_end_month,
        fiscal_year_end_day=tenant.fiscal_year_end_day,
        preset=preset.country,
    )


@transaction.atomic
def legal_hold_set(*, customer: Customer, reason: str, actor: Actor) -> LegalHold:
    """Put ``customer`` on hold; one active hold per customer."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the customer is on hold.")})
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {"reason": _("Keep the reason under %(max)s characters.") % {"max": REASON_MAX}}
        )
    # Lock the customer: two people setting a hold at once get one hold and one message.
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.status == CustomerStatus.ANONYMIZED:
        raise ValidationError(_("This customer is anonymized and cannot be changed."))
    if LegalHold.objects.filter(customer=locked, lifted_at__isnull=True).exists():
        raise ValidationError(_("This customer is already on legal hold."))
    hold = LegalHold.objects.create(
        customer=locked, reason=reason, set_by=actor.signed_in_user(), set_at=timezone.now()
    )
    audit_record(
        action="legal_hold.set",
        actor=actor,
        object_type="customer",
        object_id=locked.pk,
        data={"hold": hold.pk},
    )
    return hold


@transaction.atomic
def legal_hold_lift(*, hold: LegalHold, actor: Actor) -> LegalHold:
    locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if locked.lifted_at is not None:
        raise ValidationError(_("This legal hold has already been lifted."))
    locked.lifted_at = timezone.now()
    locked.lifted_by = actor.signed_in_user()
    locked.save(update_fields=["lifted_at", "lifted_by"])
    audit_record(
        action="legal_hold.lifted",
        actor=actor,
        object_type="customer",
        object_id=locked.customer_id,
        data={"hold": locked.pk},
    )
    return locked
