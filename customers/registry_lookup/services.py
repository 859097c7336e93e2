"""Compare a customer with its registry record and apply the fields the user picked."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.actors import Actor
from audit.services import audit_record

from ..models import AddressKind, Customer, CustomerStatus
from ..services.addresses import address_add, address_update, head_office_change
from ..services.customers import customer_update
from .base import RegistryRecord

FIELDS = ("name", "address", "email", "website")
LABELS = {
    "name": gettext_lazy("Name"),
    "address": gettext_lazy("Head office address"),
    "email": gettext_lazy("Email"),
    "website": gettext_lazy("Website"),
}
ADDRESS_PARTS = ("line1", "line2", "postcode", "city", "country")


@dataclass(frozen=True)
class Proposal:
    """One field as the card has it and as the registry has it."""

    field: str
    label: str
    current: str
    proposed: str
    changes: bool  # the registry has a value and it differs from the card's


def _website(value: str) -> str:
    """The registry's "www.example.no" as the URL the card stores."""
    value = (value or "").strip()
    if value and "://" not in value:
        value = f"https://{value}"
    return value


def _same_url(a: str, b: str) -> bool:
    def norm(url: str) -> str:
        url = url.strip().lower().rstrip("/")
        for prefix in ("https://", "http://"):
            url = url.removeprefix(prefix)
        return url

    return norm(a) == norm(b)


def _address_values(record: RegistryRecord) -> dict[str, str]:
    return {part: getattr(record, part) for part in ADDRESS_PARTS}


def _address_text(values: dict[str, str]) -> str:
    place = " ".join(p for p in (values.get("postcode"), values.get("city")) if p)
    parts = (values.get("line1"), values.get("line2"), place, values.get("country"))
    return ", ".join(p for p in parts if p)


def _head_office(customer: Customer):
    return customer.addresses.filter(is_head_office=True).first()


def registry_proposals(*, customer: Customer, record: RegistryRecord) -> list[Proposal]:
    head = _head_office(customer)
    current_address = {p: getattr(head, p) for p in ADDRESS_PARTS} if head else {}
    proposed_address = _address_values(record) if record.line1 or record.postcode else {}
    website = _website(record.website)
    rows = [
        ("name", customer.name, record.name, record.name != customer.name),
        (
            "address",
            _address_text(current_address),
            _address_text(proposed_address),
            bool(proposed_address)
            and any(proposed_address[p] != current_address.get(p, "") for p in ADDRESS_PARTS),
        ),
        ("email", customer.email, record.email, record.email.lower() != customer.email.lower()),
        ("website", customer.website, website, not _same_url(website, customer.website)),
    ]
    return [
        Proposal(
            field=field,
            label=str(LABELS[field]),
            current=current,
            proposed=proposed,
            changes=bool(proposed) and differs,
        )
        for field, current, proposed, differs in rows
    ]


@transaction.atomic
def customer_registry_update(
    *, customer: Customer, record: RegistryRecord, fields, actor: Actor, user=None
) -> list[str]:
    """Copy the chosen ``fields`` from ``record`` to the customer; return those that changed.

    Name, email and website go through customer_update, the address through the
    address services (the head office, created when missing), so the card's
    history records every change.
    """
    fields = set(fields)
    unknown = fields - set(FIELDS)
    if unknown:
        raise ValidationError(
            {"fields": _("Unknown field: %(names)s.") % {"names": ", ".join(sorted(unknown))}}
        )
    if customer.status == CustomerStatus.ANONYMIZED:
        raise ValidationError(_("This customer is anonymized and can no longer be changed."))
    proposals = {p.field: p for p in registry_proposals(customer=customer, record=record)}
    chosen = [f for f in FIELDS if f in fields and proposals[f].changes]
    updates = {f: proposals[f].proposed for f in chosen if f != "address"}
    if updates:
        customer_update(customer=customer, actor=actor, user=user, **updates)
    if "address" in chosen:
        values = _address_values(record)
        head = _head_office(customer)
        if head is None:
            address = address_add(
                customer=customer, actor=actor, user=user, kind=AddressKind.POSTAL, **values
            )
            if not address.is_head_office:  # other addresses, none of them the head office
                head_office_change(address=address, actor=actor, user=user)
        else:
            address_update(address=head, actor=actor, user=user, **values)
    if chosen:
        audit_record(
            action="customer.registry_updated",
            actor=actor,
            object_type="customer",
            object_id=customer.pk,
            data={"registry": record.registry, "fields": chosen},
        )
    return chosen
