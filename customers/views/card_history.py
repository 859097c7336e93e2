"""The card's history tab: the recorded field changes, newest first, a page at a time, and
the exports of the customer's personal data."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from audit.models import AuditEvent

from ..models import FINANCE_FIELDS, Address, ChangeRecord, Consignee, Contact, Customer
from ..permissions import can_see_finance
from .card import VIEW, card_customer, card_render

HISTORY_PAGE_SIZE = 50
EXPORTS_SHOWN = 20

# Pseudo-fields the services record besides real model fields.
HISTORY_FIELD_LABELS = {
    "address": gettext_lazy("Address"),
    "head_office": gettext_lazy("Head office"),
    "contact": gettext_lazy("Contact"),
    "consignee": gettext_lazy("Consignee"),
}
HISTORY_OBJECTS = {
    "customer": Customer,
    "address": Address,
    "contact": Contact,
    "consignee": Consignee,
}


def _history_rows(records):
    rows = []
    for record in records:
        model = HISTORY_OBJECTS.get(record.object_type)
        label = HISTORY_FIELD_LABELS.get(record.field, record.field)
        is_bool = False
        if model is not None:
            try:
                model_field = model._meta.get_field(record.field)
            except FieldDoesNotExist:  # a pseudo-field of the service, e.g. "head_office"
                model_field = None
            if model_field is not None and hasattr(model_field, "verbose_name"):
                label = model_field.verbose_name
                is_bool = model_field.get_internal_type() == "BooleanField"
        old, new = record.old_value, record.new_value
        if is_bool:
            yes_no = {"True": _("Yes"), "False": _("No")}
            old, new = yes_no.get(old, old), yes_no.get(new, new)
        rows.append(
            {
                "record": record,
                "object": model._meta.verbose_name if model else record.object_type,
                "field": label,
                "old": old,
                "new": new,
            }
        )
    return rows


@VIEW
@require_http_methods(["GET"])
def customer_history(request, pk):
    customer = card_customer(pk)
    records = ChangeRecord.objects.filter(customer=customer).select_related("changed_by")
    if not can_see_finance(request):
        records = records.exclude(object_type="customer", field__in=FINANCE_FIELDS)
    page = Paginator(records, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    # Exports of the customer's personal data (GDPR art. 15, reports/subject_access.py):
    # who took them and when, from the audit log (the entries name no one).
    exports = AuditEvent.objects.filter(
        action="customer.exported", object_type="customer", object_id=str(customer.pk)
    ).order_by("-seq")[:EXPORTS_SHOWN]
    return card_render(
        request,
        customer,
        tab="history",
        tab_template="customers/card/history.html",
        page=page,
        rows=_history_rows(page.object_list),
        exports=exports,
    )
