"""Goods receivers (consignees) of a customer."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record

from ..models import Consignee, Customer
from ..phones import PHONE_FIELDS, phones_clean
from .guards import require_editable, signed_in
from .history import changes_record, snapshot

NOT_EDITABLE = {"id", "tenant", "customer", "created_at", "updated_at", "created_by", "updated_by"}


def _next_number(customer: Customer) -> str:
    numbers = [int(n) for n in customer.consignees.values_list("number", flat=True) if n.isdigit()]
    return str(max(numbers, default=0) + 1)


def _check_number(consignee: Consignee) -> None:
    clash = Consignee.objects.filter(customer=consignee.customer, number=consignee.number)
    if clash.exclude(pk=consignee.pk).exists():
        raise ValidationError(
            {"number": _("This customer already has a consignee with this number.")}
        )


@transaction.atomic
def consignee_create(
    *, customer: Customer, actor: Actor, user=None, number: str | None = None, **fields
) -> Consignee:
    require_editable(customer)
    consignee = Consignee(customer=customer, **fields)
    consignee.number = (number or "").strip() or _next_number(customer)
    consignee.country = consignee.country or customer.country
    consignee.created_by = consignee.updated_by = signed_in(user)
    phones_clean(consignee, PHONE_FIELDS, country=consignee.country)
    consignee.full_clean(exclude=["tenant", "customer"], validate_unique=False)
    _check_number(consignee)
    consignee.save()
    changes_record(
        customer=customer, obj=consignee, before={}, after={"consignee": str(consignee)}, user=user
    )
    audit_record(
        action="consignee.created",
        actor=actor,
        object_type="consignee",
        object_id=consignee.pk,
        data={"customer": customer.pk},
    )
    return consignee


@transaction.atomic
def consignee_update(*, consignee: Consignee, actor: Actor, user=None, **fields) -> Consignee:
    require_editable(consignee.customer)
    blocked = set(fields) & NOT_EDITABLE
    if blocked:
        raise ValidationError({name: _("This field cannot be changed.") for name in blocked})
    before = snapshot(consignee, fields)
    for name, value in fields.items():
        setattr(consignee, name, value)
    consignee.updated_by = signed_in(user)
    phones_clean(
        consignee, [n for n in fields if fields[n] != before.get(n)], country=consignee.country
    )
    consignee.full_clean(exclude=["tenant", "customer"], validate_unique=False)
    _check_number(consignee)
    consignee.save()
    changed = changes_record(
        customer=consignee.customer,
        obj=consignee,
        before=before,
        after=snapshot(consignee, fields),
        user=user,
    )
    if changed:
        audit_record(
            action="consignee.updated",
            actor=actor,
            object_type="consignee",
            object_id=consignee.pk,
            data={"fields": changed},
        )
    return consignee


@transaction.atomic
def consignee_delete(*, consignee: Consignee, actor: Actor, user=None) -> None:
    customer, pk, text = consignee.customer, consignee.pk, str(consignee)
    consignee.delete()
    changes_record(
        customer=customer,
        obj=customer,
        before={"consignee": text},
        after={"consignee": ""},
        user=user,
    )
    audit_record(
        action="consignee.deleted",
        actor=actor,
        object_type="consignee",
        object_id=pk,
        data={"customer": customer.pk},
    )
