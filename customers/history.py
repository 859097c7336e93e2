"""The card's history as sentences (issue 14, item 10): the customer's field changes
(ChangeRecord) and the audit entries about the customer that no change record covers
(consent, contacts linked, unlinked and deleted, exports, legal holds, anonymization),
merged newest first.

A change record's values are the personal data it changed (scrubbed on anonymization);
an audit entry holds ids only, named when shown (audit/describe.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils import formats
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.describe import describe, format_moment
from audit.models import AuditEvent
from audit.selectors import NEWEST_FIRST, about_customer

from .models import (
    FINANCE_FIELDS,
    Activity,
    Address,
    Attachment,
    ChangeRecord,
    Consignee,
    Contact,
    Customer,
    CustomerContact,
    CustomerIdCard,
    CustomerKey,
    PredefinedDesignation,
)

# Audit actions the history shows: what no change record tells. Changes of fields,
# addresses, consignees, keys, files and activities are change records already.
AUDIT_ACTIONS = (
    "customer.created",
    "customer.exported",
    "consent.requested",
    "consent.granted",
    "consent.declined",
    "consent.withdrawn",
    "consent.lapsed",
    "consent.renewal_requested",
    "consent.renewal_unreachable",
    "contact.linked",
    "contact.unlinked",
    "contact.deleted",
    "legal_hold.set",
    "legal_hold.lifted",
    "anonymization.chunk",
)

OBJECTS = {
    "customer": Customer,
    "address": Address,
    "contact": Contact,
    "consignee": Consignee,
    "activity": Activity,
    "attachment": Attachment,
    "customerkey": CustomerKey,
    "customeridcard": CustomerIdCard,
    "predefineddesignation": PredefinedDesignation,
}

# Pseudo-fields: a part added (only a new value) or removed (only an old one), named by
# the service that recorded it (customers/services/*).
ADDED = {
    "address": gettext_lazy("{actor} added the address {value}."),
    "contact": gettext_lazy("{actor} added the contact {value}."),
    "consignee": gettext_lazy("{actor} added the consignee {value}."),
    "key": gettext_lazy("{actor} added the key {value}."),
    "designation": gettext_lazy("{actor} added the designation {value}."),
    "file": gettext_lazy("{actor} attached the file {value}."),
    "link": gettext_lazy("{actor} added the link {value}."),
    "note": gettext_lazy("{actor} added the note “{value}”."),
    "task": gettext_lazy("{actor} added the task “{value}”."),
    "id_card": gettext_lazy("{actor} issued the customer ID card {value}."),
}
REMOVED = {
    "address": gettext_lazy("{actor} removed the address {value}."),
    "contact": gettext_lazy("{actor} removed the contact {value}."),
    "consignee": gettext_lazy("{actor} removed the consignee {value}."),
    "key": gettext_lazy("{actor} removed the key {value}."),
    "designation": gettext_lazy("{actor} removed the designation {value}."),
    "file": gettext_lazy("{actor} removed the file {value}."),
    "link": gettext_lazy("{actor} removed the link {value}."),
    "note": gettext_lazy("{actor} deleted the note “{value}”."),
    "task": gettext_lazy("{actor} deleted the task “{value}”."),
    "id_card": gettext_lazy("{actor} removed the customer ID card {value}."),
}
# "… of the address Hamnvägen 5, Malmö": which part a field belongs to.
OF_PART = {
    "address": gettext_lazy("of the address {name}"),
    "contact": gettext_lazy("of the contact {name}"),
    "consignee": gettext_lazy("of the consignee {name}"),
    "activity": gettext_lazy("of the task {name}"),
    "customeridcard": gettext_lazy("of the customer ID card {name}"),
    "customerkey": gettext_lazy("of the key {name}"),
}


@dataclass
class HistoryEntry:
    at: datetime
    when: str
    sentence: str  # HTML
    source: str  # "change" or "audit"


class _Merged:
    """Change records and audit entries as one newest-first sequence, for the Paginator:
    a page reads at most ``stop`` rows of each source."""

    def __init__(self, records, events):
        self.records, self.events = records, events

    def count(self) -> int:
        return self.records.count() + self.events.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        records = list(self.records[:stop])
        events = list(self.events[:stop])
        merged = sorted(
            [(r.changed_at, r.pk, "change", r) for r in records]
            + [(e.created_at, e.pk, "audit", e) for e in events],
            key=lambda item: (item[0], item[2] == "audit", item[1]),
            reverse=True,
        )
        return [item[3] for item in merged[start:stop]]


def customer_history(customer: Customer, *, finance: bool) -> _Merged:
    """The customer's history, newest first (finance fields only with ``finance``)."""
    records = ChangeRecord.objects.filter(customer=customer).select_related("changed_by")
    if not finance:
        records = records.exclude(object_type="customer", field__in=FINANCE_FIELDS)
    records = records.order_by("-changed_at", "-pk")
    contacts = CustomerContact.objects.filter(customer=customer).values_list(
        "contact_id", flat=True
    )
    events = AuditEvent.objects.filter(
        Q(action__in=AUDIT_ACTIONS) & about_customer(customer.pk, contact_ids=list(contacts))
    ).order_by(*NEWEST_FIRST)
    return _Merged(records, events)


def history_entries(rows) -> list[HistoryEntry]:
    """A page of rows (change records and audit events) as sentences, in the same order."""
    rows = list(rows)
    records = [r for r in rows if isinstance(r, ChangeRecord)]
    described = {e.event.pk: e for e in describe([r for r in rows if isinstance(r, AuditEvent)])}
    parts = _part_names(records)
    entries = []
    for row in rows:
        if isinstance(row, ChangeRecord):
            entries.append(
                HistoryEntry(
                    row.changed_at, format_moment(row.changed_at), _sentence(row, parts), "change"
                )
            )
        else:
            entry = described[row.pk]
            entries.append(HistoryEntry(row.created_at, entry.when, entry.sentence, "audit"))
    return entries


def _part_names(records) -> dict[tuple[str, int], models.Model]:
    """The parts the records name, as they are now (one query per kind of part)."""
    wanted: dict[str, set[int]] = {}
    for record in records:
        if record.object_type in OF_PART:
            wanted.setdefault(record.object_type, set()).add(record.object_id)
    names = {}
    for kind, ids in wanted.items():
        for obj in OBJECTS[kind].objects.filter(pk__in=ids):
            names[(kind, obj.pk)] = obj
    return names


def _actor(record: ChangeRecord) -> str:
    user = record.changed_by
    if user is None:
        return _("The system")
    return user.get_full_name() or user.get_username()


def _field(record: ChangeRecord) -> tuple[str, models.Field | None]:
    model = OBJECTS.get(record.object_type)
    if model is not None:
        try:
            field = model._meta.get_field(record.field)
        except FieldDoesNotExist:
            field = None
        if field is not None and hasattr(field, "verbose_name"):
            return str(field.verbose_name), field
    labels = {"head_office": _("head office"), "pin": _("PIN"), "done": _("done")}
    return str(labels.get(record.field, record.field.replace("_", " "))), None


def value_text(field: models.Field | None, value: str) -> str:
    """A stored value as a person reads it: Yes/No, a choice's label, a date, an amount."""
    if value in ("", None):
        return ""
    if value in ("True", "False") and (field is None or isinstance(field, models.BooleanField)):
        return _("Yes") if value == "True" else _("No")
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DecimalField):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            return value
        return formats.number_format(amount, field.decimal_places, force_grouping=True)
    if isinstance(field, models.DateTimeField) or (field is None and parse_datetime(value)):
        moment = parse_datetime(value)
        return format_moment(moment) if moment else value
    if isinstance(field, models.DateField):
        day = parse_date(value)
        return format_moment(day) if day else value
    return value


def _sentence(record: ChangeRecord, parts) -> str:
    actor = _actor(record)
    old, new = record.old_value, record.new_value
    name = record.field
    if name in ADDED and (not old) != (not new):
        address = parts.get(("address", record.object_id)) if name == "address" else None
        if new and record.object_type == "address" and address is not None:
            kind = address.get_kind_display().lower()
            return format_html(
                _("{actor} added the {kind} {value}."), actor=actor, kind=kind, value=new
            )
        template = ADDED[name] if new else REMOVED[name]
        return format_html(str(template), actor=actor, value=new or old)
    if name == "head_office":
        if old:
            return format_html(
                _("{actor} made {new} the head office instead of {old}."),
                actor=actor,
                new=new,
                old=old,
            )
        return format_html(_("{actor} made {new} the head office."), actor=actor, new=new)
    if name == "done" and record.object_type == "activity":
        if new:
            template = _("{actor} marked the task {part} done.")
        else:
            template = _("{actor} reopened the task {part}.")
        return format_html(template, actor=actor, part=_part(record, parts))
    label, field = _field(record)
    values = {"actor": actor, "field": label}
    values["old"], values["new"] = value_text(field, old), value_text(field, new)
    if record.object_type in OF_PART:
        values["of"] = format_html(str(OF_PART[record.object_type]), name=_part(record, parts))
        if values["old"] and values["new"]:
            template = _("{actor} changed {field} {of} from {old} to {new}.")
        elif values["new"]:
            template = _("{actor} set {field} {of} to {new}.")
        else:
            template = _("{actor} cleared {field} {of} (was {old}).")
    elif values["old"] and values["new"]:
        template = _("{actor} changed {field} from {old} to {new}.")
    elif values["new"]:
        template = _("{actor} set {field} to {new}.")
    else:
        template = _("{actor} cleared {field} (was {old}).")
    return format_html(template, **values)


def _part(record: ChangeRecord, parts) -> str:
    part = parts.get((record.object_type, record.object_id))
    return str(part) if part is not None else _("(since removed)")
