"""The data-subject access export (GDPR art. 15, portability art. 20; issue 11 item 5).

Everything held about one customer, gathered by walking the PII registry the way the
erasure engine does (``anonymization.registry``: ``pii.reaching()`` and each model's
``reach``), so a model or field an app registers is exported without this module naming
it. The walk here is read-only and wider than the engine's selection: a contact person
shared with another customer is erased only with the last of them, but it is this
customer's data all the same, and so are its keys and roles.

The document is plain JSON with stable English keys (the model field names). A few
fields are withheld, each with its reason in the document: secrets (hashes of a PIN or
of a phone number) and columns derived from fields that are exported anyway. A caller
that may not see finance fields (an API key: customers.permissions) gets the document
without them, and ``withheld`` says so.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.functional import Promise

from anonymization.registry import ModelEntry, classifiable_fields, pii
from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_record
from consent.models import ConsentDecision
from consent.receipts import consent_receipt
from customers.models import FINANCE_FIELDS, Customer
from tenancy.context import require_tenant
from tenancy.roles import Perm

FORMAT_VERSION = 1
EXPORTED = "customer.exported"
FORMATS = ("json", "pdf")
# Who may export: the export holds the whole card, its finance fields and the customer's
# audit entries, so a member needs every right that shows them (admins, bookkeepers).
EXPORT_PERMS = (Perm.REGISTRY_VIEW, Perm.FINANCE_VIEW, Perm.AUDIT_VIEW)
# An API key: the registry and the audit log (it never gets finance fields).
EXPORT_SCOPES = ("customers:read", "audit:read")

# Model label -> the document's section, in the order the PDF shows them. A model that
# reaches the customer but is not named here is exported under "other", by its label.
SECTIONS: dict[str, str] = {
    "customers.Customer": "customer",
    "customers.Address": "addresses",
    "customers.Contact": "contacts",
    "customers.ContactRoleLink": "contact_roles",
    "customers.ContactKey": "contact_keys",
    "customers.Consignee": "consignees",
    "customers.CustomerKey": "keys",
    "customers.CustomerIdCard": "id_cards",
    "customers.PredefinedDesignation": "designations",
    "customers.Activity": "activities",
    "customers.Attachment": "files",
    "consent.ConsentRequest": "consent_requests",
    "consent.ConsentDecision": "consent_decisions",
    "consent.UnmatchedReply": "sms_replies",
    "consent.ReplyRoute": "sms_reply_routes",
    "notifications.OutboundMessage": "messages",
    "notifications.MessageEvent": "message_events",
    "sales.SalesDocument": "sales_documents",
    "anonymization.LegalHold": "legal_holds",
    "customers.ChangeRecord": "change_history",
}
# Sections built here rather than from the registry walk.
EXTRA_SECTIONS = ("consent_receipts", "audit_entries")

# "app_label.Model.field" -> why it is left out (art. 15(4): the copy must not put the
# system's security at risk). The document lists what it withholds, by reason code.
WITHHELD: dict[str, str] = {
    "customers.CustomerIdCard.pin_hash": "secret",
    "consent.ConsentRequest.token_hash": "secret",
    "consent.ReplyRoute.number_key": "secret",
    "consent.UnmatchedReply.number_key": "secret",
    "customers.Customer.search_text": "derived",
    "customers.Customer.sort_name": "derived",
}
REASONS = {
    "secret": "A secret (a hash of a PIN, a token or a phone number), not information about you.",
    "derived": "Derived from data in this export, for searching and sorting.",
    "finance": "A finance field: not given to this caller (API keys never see finance fields).",
}


# --- Gathering ---------------------------------------------------------------------


def _objects(model: type[models.Model], tenant) -> models.QuerySet:
    qs = model._default_manager.all()
    if any(f.name == "tenant" for f in model._meta.concrete_fields):
        # Platform tables have no row security: say the tenant here too (as the engine does).
        qs = qs.filter(tenant_id=tenant.pk)
    return qs


def subject_rows(customer: Customer) -> dict[str, list[models.Model]]:
    """The rows of every registered model that reach ``customer``, per model label.

    The registry's reach, read-only: the subject itself; rows on a path to it (a history
    table's rows by its customer column); every row of a shared model linked to it; and
    the rows whose parent was found.
    """
    tenant = require_tenant()
    found: dict[str, list[models.Model]] = {}
    for entry in pii.reaching():
        reach = entry.reach
        if entry.is_subject:
            lookup = {"pk": customer.pk}
        elif reach.parent is not None:
            parents = [row.pk for row in found.get(reach.parent._meta.label, [])]
            lookup = {f"{reach.path}__in": parents}
        else:
            lookup = {reach.path: customer.pk}
        found[entry.label] = list(
            _objects(entry.model, tenant).filter(**lookup).distinct().order_by("pk")
        )
    return found


def _is_reference(model: type[models.Model]) -> bool:
    """A register entry or terms text: shown by its label. Rows holding personal data
    (another customer, a staff account) are shown by their id only."""
    return not pii.personal_fields(model) and model is not get_user_model()


class _Values:
    """Field values as JSON: dates as ISO 8601, decimals as strings, files by name."""

    def __init__(self) -> None:
        self._labels: dict[tuple[type, object], str] = {}

    def label(self, related: models.Model) -> str:
        key = (type(related), related.pk)
        if key not in self._labels:
            self._labels[key] = str(related)
        return self._labels[key]

    def plain(self, value):
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return value.isoformat()
        if isinstance(value, decimal.Decimal | uuid.UUID | Promise):
            return str(value)
        if isinstance(value, FieldFile):
            return value.name or ""
        if isinstance(value, dict):
            return {str(k): self.plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.plain(v) for v in value]
        return str(value)

    def row(self, obj: models.Model, skip: set[str]) -> dict:
        out = {"id": obj.pk}
        for f in classifiable_fields(type(obj)):
            if f.name in skip or f.name == "id":
                continue
            if f.many_to_many:
                related = list(getattr(obj, f.name).all())
                out[f.name] = [
                    self.label(r) if _is_reference(f.related_model) else r.pk for r in related
                ]
            elif f.is_relation:
                if f.related_model is None:  # a generic relation: its id columns say it
                    continue
                if _is_reference(f.related_model):
                    related = getattr(obj, f.name)
                    out[f.name] = self.label(related) if related is not None else None
                else:
                    out[f.name] = getattr(obj, f.attname)
            else:
                out[f.name] = self.plain(getattr(obj, f.attname))
        return out


def _skipped(entry: ModelEntry, *, finance: bool) -> set[str]:
    """Field names left out of ``entry``'s rows: the tenant, the link back to the subject
    (it is the customer itself), the withheld fields."""
    skip = {"tenant"}
    if not entry.is_subject and not entry.reach.parent:
        skip.add(entry.reach.path.split("__")[0])
    skip |= {k.rsplit(".", 1)[1] for k in WITHHELD if k.rsplit(".", 1)[0] == entry.label}
    if entry.is_subject and not finance:
        skip |= set(FINANCE_FIELDS)
    return skip


def _finance_history(entry: ModelEntry, row: models.Model) -> bool:
    """A change-history row recording a finance field of the customer (hidden from callers
    who may not see finance fields, as the card's history tab hides it)."""
    type_col, _id_col, field_col = entry.reach.history
    subject = pii.subject_entry().model._meta.model_name
    return getattr(row, type_col) == subject and getattr(row, field_col) in FINANCE_FIELDS


def _audit_entries(customer: Customer) -> list[dict]:
    """Audit entries about the customer or one of its rows (services put the customer's
    id in ``data``), and the erasure chunks that named it. Ids, actions, times and actors
    only: an entry's ``data`` may hold other customers' ids."""
    pk = customer.pk
    about = (
        Q(object_type="customer", object_id=str(pk))
        | Q(data__customer=pk)
        | Q(data__customer_id=pk)
        | Q(data__anonymized__contains=[pk])
    )
    # Across the tenant's audit chains, in time order (a number counts within one chain).
    events = AuditEvent.objects.filter(about).order_by("created_at", "id")
    return [
        {
            "seq": e.seq,
            "created_at": e.created_at.isoformat(),
            "action": e.action,
            "actor_type": e.actor_type,
            "actor_id": e.actor_id,
            "object_type": e.object_type,
            "object_id": e.object_id,
        }
        for e in events.iterator()
    ]


def subject_language(customer: Customer) -> str:
    """The customer's language, else the company's."""
    return customer.language or require_tenant().default_language


def subject_access_data(customer: Customer, *, finance: bool = True) -> dict:
    """Everything held about ``customer``, as one JSON-serialisable document.

    ``finance=False`` leaves the customer's finance fields out (and says so).
    """
    tenant = require_tenant()
    rows = subject_rows(customer)
    values = _Values()
    doc: dict = {
        "format_version": FORMAT_VERSION,
        "generated_at": timezone.now().isoformat(),
        "tenant": tenant.name,
        "language": subject_language(customer),
        "customer": {},
        **{s: [] for s in SECTIONS.values() if s != "customer"},
        **{s: [] for s in EXTRA_SECTIONS},
        "other": {},
        "withheld": [],
    }
    for entry in pii.reaching():
        skip = _skipped(entry, finance=finance)
        found = rows.get(entry.label, [])
        if entry.reach.history and not finance:
            found = [r for r in found if not _finance_history(entry, r)]
        out = [values.row(obj, skip) for obj in found]
        section = SECTIONS.get(entry.label)
        if section == "customer":
            doc["customer"] = out[0] if out else {}
        elif section:
            doc[section] = out
        elif out:
            doc["other"][entry.label] = out
    decisions = _with_customer(rows.get(ConsentDecision._meta.label, []), customer)
    doc["consent_receipts"] = [values.plain(consent_receipt(d, tenant=tenant)) for d in decisions]
    doc["audit_entries"] = _audit_entries(customer)
    withheld = dict(WITHHELD)
    if not finance:
        withheld |= {f"{Customer._meta.label}.{name}": "finance" for name in FINANCE_FIELDS}
    doc["withheld"] = [
        {"field": name, "reason": code, "explanation": REASONS[code]}
        for name, code in withheld.items()
    ]
    return doc


def _with_customer(decisions: Iterable[ConsentDecision], customer: Customer):
    for d in decisions:
        d.customer = customer  # the receipt names the customer by number: no query each
        yield d


def section_counts(doc: dict) -> dict[str, int]:
    """Rows per section (for the audit entry: counts, no personal data)."""
    counts = {
        key: len(value)
        for key, value in doc.items()
        if isinstance(value, list) and key != "withheld"
    }
    counts["other"] = sum(len(v) for v in doc["other"].values())
    return counts


# --- The use case --------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectExport:
    content: bytes
    content_type: str
    filename: str
    data: dict
    event: AuditEvent


def subject_access_export(
    *, customer: Customer, actor: Actor, fmt: str, channel: str, finance: bool
) -> SubjectExport:
    """Build the export of ``customer`` in ``fmt`` and record it in the audit log.

    One transaction, so a failure while building leaves no entry for an export nobody
    got. The entry holds the format, the channel (``browser`` or ``api``), whether finance
    fields were in it and the rows per section: counts, no personal data.
    """
    import json

    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}")
    with transaction.atomic():
        data = subject_access_data(customer, finance=finance)
        if fmt == "pdf":
            from .subject_pdf import subject_access_pdf

            content, content_type = subject_access_pdf(data), "application/pdf"
        else:
            content = json.dumps(data, indent=2, ensure_ascii=False).encode()
            content_type = "application/json"
        event = audit_record(
            action=EXPORTED,
            actor=actor,
            object_type="customer",
            object_id=customer.pk,
            data={
                "format": fmt,
                "channel": channel,
                "finance": finance,
                "rows": section_counts(data),
            },
        )
    filename = f"customer-{customer.number or customer.pk}-personal-data.{fmt}"
    return SubjectExport(content, content_type, filename, data, event)
