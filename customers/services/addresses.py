"""A customer's addresses; the first becomes the head office."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record

from ..models import Address, AddressKind, Customer
from .guards import require_editable, signed_in
from .history import changes_record, snapshot

ADDRESS_FIELDS = ("kind", "line1", "line2", "postcode", "city", "country")


# The API's alias for "make it the head office" (not a stored kind).
HEAD_OFFICE_KIND = "head_office"


@transaction.atomic
def address_add(*, customer: Customer, actor: Actor, user=None, **fields) -> Address:
    """Add an address. The customer's first address becomes its head office."""
    require_editable(customer)
    # docs/api.md lists "head_office" as a kind: it asks for the head office, which is the flag
    # (ADR 0011); the address itself is then a postal one.
    wants_head_office = fields.get("kind") == HEAD_OFFICE_KIND
    if wants_head_office:
        fields["kind"] = AddressKind.POSTAL
    address = Address(customer=customer, **fields)
    if not address.country:
        address.country = customer.country
    first = not customer.addresses.exists()
    address.is_head_office = first
    if not address.kind:
        address.kind = AddressKind.POSTAL  # docs/api.md: without a kind, a postal address
    address.created_by = address.updated_by = signed_in(user)
    address.full_clean(exclude=["tenant", "customer"])
    address.save()
    changes_record(
        customer=customer, obj=address, before={}, after={"address": str(address)}, user=user
    )
    audit_record(
        action="address.created",
        actor=actor,
        object_type="address",
        object_id=address.pk,
        data={"customer": customer.pk, "head_office": address.is_head_office},
    )
    if wants_head_office and not first:
        head_office_change(address=address, actor=actor, user=user)
    return address


@transaction.atomic
def address_update(*, address: Address, actor: Actor, user=None, **fields) -> Address:
    unknown = set(fields) - set(ADDRESS_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    require_editable(address.customer)
    before = snapshot(address, fields)
    for name, value in fields.items():
        setattr(address, name, value)
    address.updated_by = signed_in(user)
    address.full_clean(exclude=["tenant", "customer"])
    address.save()
    changed = changes_record(
        customer=address.customer,
        obj=address,
        before=before,
        after=snapshot(address, fields),
        user=user,
    )
    if changed:
        audit_record(
            action="address.updated",
            actor=actor,
            object_type="address",
            object_id=address.pk,
            data={"customer": address.customer_id, "fields": changed},
        )
    return address


@transaction.atomic
def head_office_change(*, address: Address, actor: Actor, user=None) -> Address:
    """Make ``address`` the head office; the previous one stays as an ordinary address."""
    customer = address.customer
    require_editable(customer)
    current = customer.addresses.filter(is_head_office=True).exclude(pk=address.pk).first()
    if current is not None:
        current.is_head_office = False
        current.save(update_fields=["is_head_office", "updated_at"])
    address.is_head_office = True
    address.updated_by = signed_in(user)
    address.save(update_fields=["is_head_office", "updated_by", "updated_at"])
    changes_record(
        customer=customer,
        obj=address,
        before={"head_office": str(current) if current else ""},
        after={"head_office": str(address)},
        user=user,
    )
    audit_record(
        action="address.head_office_changed",
        actor=actor,
        object_type="address",
        object_id=address.pk,
        data={"customer": customer.pk},
    )
    return address


@transaction.atomic
def address_delete(*, address: Address, actor: Actor, user=None) -> None:
    """Delete an address; if it was the head office, the oldest remaining one takes over."""
    customer, was_head = address.customer, address.is_head_office
    require_editable(customer)
    address_id, text = address.pk, str(address)
    address.delete()
    if was_head:
        successor = customer.addresses.order_by("pk").first()
        if successor is not None:
            successor.is_head_office = True
            successor.save(update_fields=["is_head_office", "updated_at"])
    changes_record(
        customer=customer, obj=customer, before={"address": text}, after={"address": ""}, user=user
    )
    audit_record(
        action="address.deleted",
        actor=actor,
        object_type="address",
        object_id=address_id,
        data={"customer": customer.pk},
    )
