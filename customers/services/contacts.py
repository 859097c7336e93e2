"""Contact persons: numbered, shared between customers, deactivated or deleted for good."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from anonymization.registry import pii
from audit.actors import Actor
from audit.services import audit_record
from tenancy.context import require_tenant
from tenancy.services import number_draw

from ..models import Contact, Customer, CustomerContact
from ..phones import PHONE_FIELDS, phones_clean
from .guards import require_editable, signed_in
from .history import changes_record, snapshot

NUMBER_SERIES = "contact"
CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "mobile",
    "phone",
    "email",
    "line1",
    "line2",
    "postcode",
    "city",
    "blocked",
    "keywords",
)


def _require_live(contact: Contact) -> None:
    if contact.is_deleted:
        raise ValidationError(_("This contact has been deleted."))


@transaction.atomic
def contact_create(
    *, customer: Customer, actor: Actor, user=None, roles=None, number: int | None = None, **fields
) -> Contact:
    require_editable(customer)
    if not (fields.get("first_name") or fields.get("last_name")):
        raise ValidationError({"last_name": _("Give the contact a name.")})
    contact = Contact(**fields)
    contact.number = number or number_draw(series=NUMBER_SERIES, start=1)
    # A number given by hand earlier may lie ahead of the series: draw past it.
    while not number and Contact.objects.filter(number=contact.number).exists():
        contact.number = number_draw(series=NUMBER_SERIES, start=1)
    contact.created_by = contact.updated_by = signed_in(user)
    phones_clean(contact, PHONE_FIELDS, country=customer.country)
    contact.full_clean(exclude=["tenant", "roles", "customers"], validate_unique=False)
    if Contact.objects.filter(number=contact.number).exists():
        raise ValidationError({"number": _("Another contact already has this number.")})
    contact.save()
    if roles is not None:
        contact.roles.set(roles)
    CustomerContact.objects.create(customer=customer, contact=contact)
    changes_record(
        customer=customer, obj=contact, before={}, after={"contact": contact.full_name}, user=user
    )
    audit_record(
        action="contact.created",
        actor=actor,
        object_type="contact",
        object_id=contact.pk,
        data={"customer": customer.pk},
    )
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor: Actor, user=None, roles=None, **fields) -> Contact:
    _require_live(contact)
    unknown = set(fields) - set(CONTACT_FIELDS) - {"is_active"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    before = snapshot(contact, fields)
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.updated_by = signed_in(user)
    # A contact has no country of its own: its numbers are read as the company's country's.
    phones_clean(
        contact, [n for n in fields if fields[n] != before.get(n)], country=require_tenant().country
    )
    contact.full_clean(exclude=["tenant", "roles", "customers"], validate_unique=False)
    contact.save()
    if roles is not None:
        contact.roles.set(roles)
    after = snapshot(contact, fields)
    for customer in contact.customers.all():
        changes_record(customer=customer, obj=contact, before=before, after=after, user=user)
    return contact


def contact_set_active(*, contact: Contact, active: bool, actor: Actor, user=None) -> Contact:
    return contact_update(contact=contact, actor=actor, user=user, is_active=active)


@transaction.atomic
def contact_link(*, contact: Contact, customer: Customer, actor: Actor) -> None:
    _require_live(contact)
    require_editable(customer)
    _link, created = CustomerContact.objects.get_or_create(customer=customer, contact=contact)
    if created:
        audit_record(
            action="contact.linked",
            actor=actor,
            object_type="contact",
            object_id=contact.pk,
            data={"customer": customer.pk},
        )


@transaction.atomic
def contact_unlink(*, contact: Contact, customer: Customer, actor: Actor) -> None:
    require_editable(customer)
    deleted, _ = CustomerContact.objects.filter(customer=customer, contact=contact).delete()
    if deleted:
        audit_record(
            action="contact.unlinked",
            actor=actor,
            object_type="contact",
            object_id=contact.pk,
            data={"customer": customer.pk},
        )


@transaction.atomic
def contact_delete(*, contact: Contact, actor: Actor, user=None) -> Contact:
    """Delete for good: the row stays as "Deleted contact", with nothing personal left.

    Links to customers stay, so every place that showed the person now shows
    "Deleted contact"; issued documents keep the name they printed. The erasure engine
    does the scrubbing, from the PII registry (customers/pii.py): every personal field,
    the contact's keys and roles, history rows about it, and its name, email and phone
    numbers in the tenant's free text.
    """
    _require_live(contact)
    # The customers it belonged to (ids), so each card's history tells of the deletion
    # even after the tombstone is unlinked.
    customer_ids = sorted(
        CustomerContact.objects.filter(contact=contact).values_list("customer_id", flat=True)
    )
    pii.erase(contact, actor=actor)
    Contact.objects.filter(pk=contact.pk).update(updated_by=signed_in(user))
    contact.refresh_from_db()
    audit_record(
        action="contact.deleted",
        actor=actor,
        object_type="contact",
        object_id=contact.pk,
        data={"customers": customer_ids},
    )
    return contact
