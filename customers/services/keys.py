"""Keys (typed search tags) on customers and contacts, predefined designations, ID cards.

PENGVIN's "Nycklar"/"Kontaktnycklar": the key-type register decides whether a
type may occur once or several times per customer (or contact) and whether its
value comes from a list or is free text. A type without a rule may occur once,
with free text.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record
from tenancy.models import ReferenceEntry, ReferenceRegister

from ..models import (
    Contact,
    ContactKey,
    Customer,
    CustomerIdCard,
    CustomerKey,
    KeyTypeRule,
    PredefinedDesignation,
)
from .guards import require_editable, signed_in
from .history import changes_record, snapshot

VALUE_MAX = 100
ID_CARD_FIELDS = (
    "number",
    "card_type",
    "default_consignee",
    "reference",
    "designation",
    "warehouse",
    "valid_from",
    "valid_to",
    "block_code",
    "info",
)
PIN_MIN, PIN_MAX = 4, 12
# What the history shows for a PIN: whether one is set, never the PIN or its hash.
PIN_SET, PIN_CHANGED = "••••", "•••• (new)"


def _require_editable(customer: Customer) -> None:
    require_editable(customer)


# --- Key-type rules ------------------------------------------------------------------


def _clean_allowed_values(values) -> list[str]:
    cleaned: list[str] = []
    for value in values or []:
        value = str(value).strip()
        if not value or value in cleaned:
            continue
        if len(value) > VALUE_MAX:
            raise ValidationError(
                {
                    "allowed_values": _("A value may be at most %(max)d characters long.")
                    % {"max": VALUE_MAX}
                }
            )
        cleaned.append(value)
    return cleaned


def _require_key_type(key_type) -> ReferenceEntry:
    if not isinstance(key_type, ReferenceEntry) or key_type.register != ReferenceRegister.KEY_TYPE:
        raise ValidationError({"key_type": _("Choose a key type from the key-type register.")})
    return key_type


@transaction.atomic
def key_type_rule_set(
    *, key_type: ReferenceEntry, allow_multiple: bool, allowed_values: list[str], actor: Actor
) -> KeyTypeRule:
    """Say whether a key type may occur several times and which values it takes (empty: free)."""
    _require_key_type(key_type)
    values = _clean_allowed_values(allowed_values)
    rule = KeyTypeRule.objects.select_for_update().filter(key_type=key_type).first()
    created = rule is None
    if rule is None:
        rule = KeyTypeRule(key_type=key_type)
    rule.allow_multiple = bool(allow_multiple)
    rule.allowed_values = values
    rule.save()
    audit_record(
        action="key_type_rule.created" if created else "key_type_rule.changed",
        actor=actor,
        object_type="key_type_rule",
        object_id=rule.pk,
        data={
            "key_type": key_type.code,
            "allow_multiple": rule.allow_multiple,
            "values": len(values),
        },
    )
    return rule


def key_type_rule_of(key_type: ReferenceEntry) -> KeyTypeRule | None:
    return KeyTypeRule.objects.filter(key_type=key_type).first()


def _check_key(*, existing, key_type, value) -> str:
    """The cleaned value, or a field-level error when the key type's rule forbids it."""
    _require_key_type(key_type)
    if not key_type.is_active:
        raise ValidationError({"key_type": _("This key type is no longer in use.")})
    value = (value or "").strip()
    if not value:
        raise ValidationError({"value": _("Give the key a value.")})
    if len(value) > VALUE_MAX:
        raise ValidationError({"value": _("At most %(max)d characters.") % {"max": VALUE_MAX}})
    rule = key_type_rule_of(key_type)
    if rule is not None and rule.allowed_values and value not in rule.allowed_values:
        raise ValidationError(
            {
                "value": _("Choose one of the values of this key type: %(values)s.")
                % {"values": ", ".join(rule.allowed_values)}
            }
        )
    same_type = existing.filter(key_type=key_type)
    if rule is None or not rule.allow_multiple:
        if same_type.exists():
            raise ValidationError(
                {"key_type": _("This key type may occur only once and is already used.")}
            )
    elif same_type.filter(value=value).exists():
        raise ValidationError({"value": _("This key already has this value.")})
    return value


# --- Customer keys -------------------------------------------------------------------


@transaction.atomic
def customer_key_add(
    *, customer: Customer, key_type: ReferenceEntry, value: str, actor: Actor, user=None
) -> CustomerKey:
    _require_editable(customer)
    # One writer per customer at a time, so "only once" holds under concurrent adds.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    value = _check_key(existing=customer.keys.all(), key_type=key_type, value=value)
    key = CustomerKey.objects.create(
        customer=customer,
        key_type=key_type,
        value=value,
        created_by=signed_in(user),
        updated_by=signed_in(user),
    )
    changes_record(customer=customer, obj=key, before={}, after={"key": str(key)}, user=user)
    audit_record(
        action="customer_key.added",
        actor=actor,
        object_type="customer_key",
        object_id=key.pk,
        data={"customer": customer.pk, "key_type": key_type.code},
    )
    return key


@transaction.atomic
def customer_key_remove(*, key: CustomerKey, actor: Actor, user=None) -> None:
    customer, pk, text, code = key.customer, key.pk, str(key), key.key_type.code
    _require_editable(customer)
    key.delete()
    changes_record(
        customer=customer, obj=customer, before={"key": text}, after={"key": ""}, user=user
    )
    audit_record(
        action="customer_key.removed",
        actor=actor,
        object_type="customer_key",
        object_id=pk,
        data={"customer": customer.pk, "key_type": code},
    )


# --- Contact keys --------------------------------------------------------------------


def _require_live_contact(contact: Contact) -> None:
    if contact.is_deleted:
        raise ValidationError({"contact": _("This contact has been deleted.")})


@transaction.atomic
def contact_key_add(
    *, contact: Contact, key_type: ReferenceEntry, value: str, actor: Actor, user=None
) -> ContactKey:
    _require_live_contact(contact)
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    value = _check_key(existing=contact.keys.all(), key_type=key_type, value=value)
    key = ContactKey.objects.create(
        contact=contact,
        key_type=key_type,
        value=value,
        created_by=signed_in(user),
        updated_by=signed_in(user),
    )
    # Recorded against the contact, so deleting the contact scrubs these rows too.
    for customer in contact.customers.all():
        changes_record(
            customer=customer, obj=contact, before={}, after={"key": str(key)}, user=user
        )
    audit_record(
        action="contact_key.added",
        actor=actor,
        object_type="contact_key",
        object_id=key.pk,
        data={"contact": contact.pk, "key_type": key_type.code},
    )
    return key


@transaction.atomic
def contact_key_remove(*, key: ContactKey, actor: Actor, user=None) -> None:
    contact, pk, text, code = key.contact, key.pk, str(key), key.key_type.code
    key.delete()
    for customer in contact.customers.all():
        changes_record(
            customer=customer, obj=contact, before={"key": text}, after={"key": ""}, user=user
        )
    audit_record(
        action="contact_key.removed",
        actor=actor,
        object_type="contact_key",
        object_id=pk,
        data={"contact": contact.pk, "key_type": code},
    )


# --- Predefined designations ("Er beteckning") ---------------------------------------


@transaction.atomic
def designation_add(
    *, customer: Customer, text: str, actor: Actor, user=None
) -> PredefinedDesignation:
    _require_editable(customer)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Give the designation a text.")})
    if len(text) > VALUE_MAX:
        raise ValidationError({"text": _("At most %(max)d characters.") % {"max": VALUE_MAX}})
    if customer.designations.filter(text__iexact=text).exists():
        raise ValidationError({"text": _("This customer already has this designation.")})
    try:
        with transaction.atomic():
            designation = PredefinedDesignation.objects.create(customer=customer, text=text)
    except IntegrityError as exc:  # a concurrent add of the same text
        raise ValidationError({"text": _("This customer already has this designation.")}) from exc
    changes_record(
        customer=customer, obj=designation, before={}, after={"designation": text}, user=user
    )
    audit_record(
        action="designation.added",
        actor=actor,
        object_type="designation",
        object_id=designation.pk,
        data={"customer": customer.pk},
    )
    return designation


@transaction.atomic
def designation_remove(*, designation: PredefinedDesignation, actor: Actor, user=None) -> None:
    customer, pk, text = designation.customer, designation.pk, designation.text
    _require_editable(customer)
    designation.delete()
    changes_record(
        customer=customer,
        obj=customer,
        before={"designation": text},
        after={"designation": ""},
        user=user,
    )
    audit_record(
        action="designation.removed",
        actor=actor,
        object_type="designation",
        object_id=pk,
        data={"customer": customer.pk},
    )


# --- Customer ID cards ("Kundkort") --------------------------------------------------


def _clean_pin(pin: str) -> str:
    pin = str(pin).strip()
    if not (pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        raise ValidationError(
            {
                "pin": _("The PIN must be %(min)d to %(max)d digits.")
                % {"min": PIN_MIN, "max": PIN_MAX}
            }
        )
    return pin


def _validate_card(card: CustomerIdCard) -> None:
    errors: dict[str, str] = {}
    card.number = (card.number or "").strip()
    if not card.number:
        errors["number"] = _("Give the card a number.")
    consignee = card.default_consignee
    if consignee is not None and consignee.customer_id != card.customer_id:
        errors["default_consignee"] = _("Choose one of this customer's consignees.")
    warehouse = card.warehouse
    if warehouse is not None and warehouse.register != ReferenceRegister.WAREHOUSE:
        errors["warehouse"] = _("Choose a warehouse from the warehouse register.")
    valid_from, valid_to = card.valid_from, card.valid_to
    if isinstance(valid_from, date) and isinstance(valid_to, date) and valid_to < valid_from:
        errors["valid_to"] = _("The card cannot be valid to a date before it is valid from.")
    if errors:
        raise ValidationError(errors)
    card.full_clean(exclude=["tenant", "customer", "pin_hash"], validate_unique=False)
    clash = CustomerIdCard.objects.filter(number=card.number).exclude(pk=card.pk)
    if clash.exists():
        raise ValidationError({"number": _("Another card already has this number.")})


def _save_card(card: CustomerIdCard) -> None:
    try:
        with transaction.atomic():
            card.save()
    except IntegrityError as exc:  # a concurrent save took the number
        raise ValidationError({"number": _("Another card already has this number.")}) from exc


def _check_fields(fields: dict) -> None:
    unknown = set(fields) - set(ID_CARD_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})


@transaction.atomic
def id_card_create(
    *, customer: Customer, actor: Actor, user=None, pin: str | None = None, **fields
) -> CustomerIdCard:
    _require_editable(customer)
    _check_fields(fields)
    card = CustomerIdCard(customer=customer, **fields)
    card.created_by = card.updated_by = signed_in(user)
    if pin:
        card.pin_hash = make_password(_clean_pin(pin))
    _validate_card(card)
    _save_card(card)
    after = snapshot(card, fields)
    after["number"] = card.number
    if card.pin_hash:
        after["pin"] = PIN_SET
    changes_record(customer=customer, obj=card, before={}, after=after, user=user)
    audit_record(
        action="id_card.created",
        actor=actor,
        object_type="id_card",
        object_id=card.pk,
        data={"customer": customer.pk, "pin": bool(card.pin_hash)},
    )
    return card


@transaction.atomic
def id_card_update(
    *, card: CustomerIdCard, actor: Actor, user=None, pin: str | None = None, **fields
) -> CustomerIdCard:
    """Change a card. ``pin=None`` keeps the PIN, ``pin=""`` removes it, digits set a new one."""
    _require_editable(card.customer)
    _check_fields(fields)
    before = snapshot(card, fields)
    before["pin"] = PIN_SET if card.pin_hash else ""
    for name, value in fields.items():
        setattr(card, name, value)
    if pin is not None:
        card.pin_hash = make_password(_clean_pin(pin)) if str(pin).strip() else ""
    card.updated_by = signed_in(user)
    _validate_card(card)
    _save_card(card)
    after = snapshot(card, fields)
    if pin is None:
        after["pin"] = before["pin"]
    else:
        after["pin"] = PIN_CHANGED if card.pin_hash else ""
    changed = changes_record(
        customer=card.customer, obj=card, before=before, after=after, user=user
    )
    if changed:
        audit_record(
            action="id_card.updated",
            actor=actor,
            object_type="id_card",
            object_id=card.pk,
            data={"fields": changed},
        )
    return card


@transaction.atomic
def id_card_delete(*, card: CustomerIdCard, actor: Actor, user=None) -> None:
    customer, pk, number = card.customer, card.pk, card.number
    _require_editable(customer)
    card.delete()
    changes_record(
        customer=customer,
        obj=customer,
        before={"id_card": number},
        after={"id_card": ""},
        user=user,
    )
    audit_record(
        action="id_card.deleted",
        actor=actor,
        object_type="id_card",
        object_id=pk,
        data={"customer": customer.pk},
    )


def id_card_check_pin(*, card: CustomerIdCard, pin: str) -> bool:
    """True when ``pin`` is the card's PIN; a card without a PIN accepts none."""
    if not card.pin_hash or not pin:
        return False
    return check_password(str(pin), card.pin_hash)
