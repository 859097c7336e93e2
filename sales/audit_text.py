"""How sales documents read in the audit log (audit/describe.py discovers this module)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as L

from audit.describe import action

from .models import DocumentKind, SalesDocument


def _document(template):
    return lambda d: d.say(
        template,
        kind=d.choice(DocumentKind, d.data.get("kind")).lower(),
        number=d.data.get("number", "—"),
        customer=d.customer(),
        fields=d.fields(SalesDocument, d.data.get("changed", [])),
    )


action(
    "sales.document_created",
    L("Sales document recorded"),
    "sales",
    lambda d: _document(_("{actor} recorded the {kind} {number} of the customer {customer}."))(d),
)
action(
    "sales.document_updated",
    L("Sales document changed"),
    "sales",
    lambda d: _document(
        _("{actor} changed {fields} of the {kind} {number} of the customer {customer}.")
    )(d),
)
action(
    "sales.documents_imported",
    L("Sales documents imported"),
    "sales",
    lambda d: d.say(
        _("{actor} imported sales documents: {created} new, {updated} changed."),
        created=d.number(d.data.get("created", 0)),
        updated=d.number(d.data.get("updated", 0)),
    ),
)
