"""Posting sales documents: one use case, an idempotent upsert by kind and number.

A second post of the same kind and number updates the document (status, balances, amount,
date, and whatever snapshot fields it sends) instead of adding one. Concurrent first posts
of one number cannot make two rows: the unique constraint refuses the second insert, which
then updates the row the first one made.

Negative amounts and balances: only for credit notes and payments (money owed *to* the
customer, e.g. an unallocated payment); every other kind must be zero or more.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record
from customers.models import Customer, CustomerStatus
from tenancy.context import require_tenant
from tenancy.models import Tenant

from .models import NEGATIVE_ALLOWED, DocumentKind, DocumentStatus, SalesDocument

UNIQUE_CONSTRAINT = "salesdocument_number_uniq"
SNAPSHOT_FIELDS = ("customer_name", "line1", "line2", "postcode", "city", "country")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
MAX_AMOUNT = Decimal("1e12")  # max_digits=14, decimal_places=2
OLDEST_DATE = dt.date(1900, 1, 1)
# The tenant has no currency of its own: its country's.
COUNTRY_CURRENCY = {"SE": "SEK", "DK": "DKK", "NO": "NOK", "FI": "EUR"}
DEFAULT_CURRENCY = "SEK"


def default_currency(tenant: Tenant) -> str:
    return COUNTRY_CURRENCY.get((tenant.country or "").upper(), DEFAULT_CURRENCY)


def _tenant_today(tenant: Tenant) -> dt.date:
    try:
        tz = zoneinfo.ZoneInfo(tenant.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    return timezone.now().astimezone(tz).date()


def _start_of_day(tenant: Tenant, day: dt.date) -> dt.datetime:
    try:
        tz = zoneinfo.ZoneInfo(tenant.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def _check_money(errors: dict, field: str, value, kind: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        errors[field] = _("Enter a number.")
    elif value.as_tuple().exponent < -2:
        errors[field] = _("At most two decimals.")
    elif abs(value) >= MAX_AMOUNT:
        errors[field] = _("This amount is too large.")
    elif value < 0 and kind not in NEGATIVE_ALLOWED:
        errors[field] = _("Only credit notes and payments may be negative.")


def _validate(
    *,
    tenant: Tenant,
    customer: Customer,
    kind: str,
    number: str,
    date,
    status: str,
    amount,
    balance,
    currency: str,
    snapshot: dict,
) -> None:
    errors: dict[str, str] = {}
    if customer.status == CustomerStatus.ANONYMIZED:
        errors["customer"] = _("This customer is anonymized and can no longer be changed.")
    if kind not in DocumentKind.values:
        errors["kind"] = _("Unknown kind of document.")
    number_field = SalesDocument._meta.get_field("number")
    if not isinstance(number, str) or not number.strip():
        errors["number"] = _("A document number is needed.")
    elif len(number) > number_field.max_length or "\x00" in number:
        errors["number"] = _("At most %(n)d characters.") % {"n": number_field.max_length}
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        errors["date"] = _("Enter a date.")
    elif date > _tenant_today(tenant) + dt.timedelta(days=1):
        errors["date"] = _("The date may not be more than a day in the future.")
    elif date < OLDEST_DATE:
        errors["date"] = _("The date is too far in the past.")
    if status not in DocumentStatus.values:
        errors["status"] = _("Status is open or closed.")
    _check_money(errors, "amount", amount, kind)
    _check_money(errors, "balance", balance, kind)
    if not isinstance(currency, str) or not CURRENCY_RE.fullmatch(currency):
        errors["currency"] = _("Three capital letters (ISO 4217), e.g. SEK.")
    for name, value in snapshot.items():
        limit = SalesDocument._meta.get_field(name).max_length
        if not isinstance(value, str) or "\x00" in value:
            errors[name] = _("Enter text.")
        elif len(value) > limit:
            errors[name] = _("At most %(n)d characters.") % {"n": limit}
    if errors:
        raise ValidationError(errors)


def validate_document(
    *,
    customer: Customer,
    kind: str,
    number: str,
    date,
    status: str,
    amount,
    balance,
    currency: str | None = None,
    **snapshot,
) -> dict[str, str]:
    """What ``sales_document_post`` would refuse, by field (for previews); nothing is saved."""
    tenant = require_tenant()
    try:
        _validate(
            tenant=tenant,
            customer=customer,
            kind=kind,
            number=number,
            date=date,
            status=status,
            amount=amount,
            balance=balance,
            currency=currency if currency is not None else default_currency(tenant),
            snapshot=snapshot,
        )
    except ValidationError as exc:
        return {name: " ".join(messages) for name, messages in exc.message_dict.items()}
    return {}


def _snapshot_of(customer: Customer) -> dict:
    """The customer's name and head-office address as they are now."""
    head = customer.addresses.filter(is_head_office=True).first()
    values = {"customer_name": customer.name}
    for name in ("line1", "line2", "postcode", "city", "country"):
        values[name] = getattr(head, name) if head is not None else ""
    if not values["country"]:
        values["country"] = customer.country or ""
    return values


def _is_number_conflict(exc: IntegrityError) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == UNIQUE_CONSTRAINT


def _locked(kind: str, number: str) -> SalesDocument | None:
    return SalesDocument.objects.select_for_update().filter(kind=kind, number=number).first()


def activity_move_forward(*, customer: Customer, when: dt.datetime) -> bool:
    """Move the customer's last activity to ``when`` if that is later; never back.

    One conditional UPDATE, so concurrent posts cannot move it backwards either.
    """
    moved = (
        Customer.objects.filter(pk=customer.pk)
        .filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=when))
        .update(last_activity_at=when)
    )
    if moved:
        customer.last_activity_at = when
    return bool(moved)


def sales_document_post(
    *,
    customer: Customer,
    kind: str,
    number: str,
    date: dt.date,
    status: str,
    amount: Decimal,
    balance: Decimal,
    currency: str | None = None,
    customer_name: str | None = None,
    line1: str | None = None,
    line2: str | None = None,
    postcode: str | None = None,
    city: str | None = None,
    country: str | None = None,
    actor: Actor,
) -> tuple[SalesDocument, bool]:
    """Create the document, or update the one with this kind and number. (document, created)."""
    tenant = require_tenant()
    sent = {
        "customer_name": customer_name,
        "line1": line1,
        "line2": line2,
        "postcode": postcode,
        "city": city,
        "country": country,
    }
    snapshot = {name: value for name, value in sent.items() if value is not None}
    if isinstance(number, str):
        number = number.strip()
    if isinstance(currency, str):
        currency = currency.strip().upper()
    _validate(
        tenant=tenant,
        customer=customer,
        kind=kind,
        number=number,
        date=date,
        status=status,
        amount=amount,
        balance=balance,
        currency=currency if currency is not None else default_currency(tenant),
        snapshot=snapshot,
    )
    values = {"date": date, "status": status, "amount": amount, "balance": balance}
    with transaction.atomic():
        document = _locked(kind, number)
        created, changed = False, []
        if document is None:
            document = SalesDocument(
                customer=customer,
                kind=kind,
                number=number,
                currency=currency or default_currency(tenant),
                **values,
                **{**_snapshot_of(customer), **snapshot},
            )
            try:
                with transaction.atomic():
                    document.save()
                created = True
            except IntegrityError as exc:
                if not _is_number_conflict(exc):
                    raise
                # Someone posted the same number meanwhile: update theirs.
                document = SalesDocument.objects.select_for_update().get(kind=kind, number=number)
        if not created:
            if document.customer_id != customer.pk:
                raise ValidationError(
                    {"number": _("This document number belongs to another customer.")}
                )
            changes = {**values, **snapshot}
            if currency is not None:
                changes["currency"] = currency
            changed = [name for name, value in changes.items() if getattr(document, name) != value]
            for name in changed:
                setattr(document, name, changes[name])
            if changed:
                document.save(update_fields=[*changed, "updated_at"])
        activity_move_forward(customer=customer, when=_start_of_day(tenant, date))
        audit_record(
            action="sales.document_created" if created else "sales.document_updated",
            actor=actor,
            object_type="sales_document",
            object_id=document.pk,
            data={
                "customer": customer.pk,
                "kind": document.kind,
                "number": document.number,
                "status": document.status,
                **({} if created else {"changed": changed}),  # field names only
            },
        )
    return document, created
