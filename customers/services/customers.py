"""Creating, changing, (de)activating and deleting customers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record
from tenancy.context import require_tenant
from tenancy.services import number_draw

from ..models import Customer, CustomerStatus
from ..phones import PHONE_FIELDS, phones_clean
from ..search import customer_search_text, sort_key
from ..validation import clean_gln, clean_org_number, clean_vat_number
from .guards import require_editable, signed_in
from .history import changes_record, snapshot

NUMBER_SERIES = "customer"
M2M_FIELDS = ("groups",)
NOT_EDITABLE = {
    "id",
    "tenant",
    "search_text",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "status",
    "last_activity_at",
}


class CustomerInUse(Exception):
    """The customer is referenced and can only be deactivated."""

    def __init__(self, reasons: list[str]):
        super().__init__(", ".join(reasons))
        self.reasons = reasons


def _clean_identities(customer: Customer) -> None:
    errors = {}
    for field, clean in (
        ("org_number", lambda v: clean_org_number(v, country=customer.country, kind=customer.kind)),
        ("vat_number", lambda v: clean_vat_number(v, country=customer.country)),
        ("edi_reference", clean_gln),
    ):
        try:
            setattr(customer, field, clean(getattr(customer, field)))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


def _validate_and_save(customer: Customer, *, phones=PHONE_FIELDS) -> None:
    _clean_identities(customer)
    phones_clean(customer, phones, country=customer.country)
    customer.search_text = customer_search_text(customer)
    customer.sort_name = sort_key(customer.name, require_tenant().default_language)
    customer.full_clean(exclude=["tenant", "groups"], validate_unique=False)
    if Customer.objects.filter(number=customer.number).exclude(pk=customer.pk).exists():
        raise ValidationError({"number": _("Another customer already has this number.")})
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:  # a concurrent insert took the number
        raise ValidationError({"number": _("Another customer already has this number.")}) from exc


@transaction.atomic
def customer_create(*, actor: Actor, user=None, number: str | None = None, **fields) -> Customer:
    """Create a customer; without a number, the next one from the tenant's series."""
    groups = fields.pop("groups", None)
    fields.setdefault("country", require_tenant().country)
    customer = Customer(**fields)
    customer.created_by = customer.updated_by = signed_in(user)
    if number:
        customer.number = str(number).strip()
    else:
        customer.number = str(number_draw(series=NUMBER_SERIES, start=1000))
        while Customer.objects.filter(number=customer.number).exists():
            customer.number = str(number_draw(series=NUMBER_SERIES, start=1000))
    _validate_and_save(customer)
    if groups is not None:
        customer.groups.set(groups)
    audit_record(
        action="customer.created", actor=actor, object_type="customer", object_id=customer.pk
    )
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, actor: Actor, user=None, **fields) -> Customer:
    """Change fields of a customer, recording each change in its history."""
    unknown = set(fields) - {f.name for f in Customer._meta.get_fields()} | (
        set(fields) & NOT_EDITABLE
    )
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    require_editable(customer)
    groups = fields.pop("groups", None)
    before = snapshot(customer, fields)
    if groups is not None:
        before["groups"] = list(customer.groups.all())
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.updated_by = signed_in(user)
    # Only numbers typed now are checked: one stored before the check stays until edited.
    _validate_and_save(customer, phones=[n for n in fields if fields[n] != before.get(n)])
    after = snapshot(customer, fields)
    if groups is not None:
        customer.groups.set(groups)
        after["groups"] = list(customer.groups.all())
    changed = changes_record(customer=customer, obj=customer, before=before, after=after, user=user)
    if changed:
        audit_record(
            action="customer.updated",
            actor=actor,
            object_type="customer",
            object_id=customer.pk,
            data={"fields": changed},
        )
    return customer


@transaction.atomic
def customer_set_status(*, customer: Customer, status: str, actor: Actor, user=None) -> Customer:
    if status not in (CustomerStatus.ACTIVE, CustomerStatus.INACTIVE):
        raise ValidationError({"status": _("A customer can only be made active or inactive.")})
    if customer.status == CustomerStatus.ANONYMIZED:
        raise ValidationError({"status": _("An anonymized customer cannot be reactivated.")})
    if customer.status != status:
        before = {"status": customer.get_status_display()}
        customer.status = status
        customer.updated_by = signed_in(user)
        customer.save(update_fields=["status", "updated_by", "updated_at"])
        changes_record(
            customer=customer,
            obj=customer,
            before=before,
            after={"status": customer.get_status_display()},
            user=user,
        )
        audit_record(
            action=f"customer.{status}", actor=actor, object_type="customer", object_id=customer.pk
        )
    return customer


def customer_delete(*, customer: Customer, actor: Actor) -> None:
    """Delete a customer nothing refers to; otherwise raise CustomerInUse (offer deactivation)."""
    customer_id = customer.pk
    try:
        with transaction.atomic():
            customer.delete()
            audit_record(
                action="customer.deleted",
                actor=actor,
                object_type="customer",
                object_id=customer_id,
            )
    except ProtectedError as exc:
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
        raise CustomerInUse(kinds) from exc
