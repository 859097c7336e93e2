"""Reads of the registry: search and lists, the card, contacts."""

from __future__ import annotations

from datetime import datetime

from django.contrib.postgres.fields import ArrayField
from django.db import connections
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Exists,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)

from . import hooks
from .models import Activity, Address, Contact, Customer, CustomerStatus, SelectionEntry
from .search import query_terms

SORTABLE = {
    "number": "number",
    "-number": "-number",
    "name": "sort_name",
    "-name": "-sort_name",
    "last_activity": "last_activity_at",
    "-last_activity": "-last_activity_at",
    "created": "created_at",
    "-created": "-created_at",
}


# A search answers with at most this many customers; lists say so when it was cut.
SEARCH_LIMIT = 500
SEARCH_CAPPED = "search_capped"  # the annotation customer_search adds when it stopped there
# The list's Inactive tab: every customer that is not active (inactive and anonymized ones:
# an anonymized customer kept for the books can still be found by its number).
NOT_ACTIVE = "!active"


def search_ids(query: str, country: str = "SE", status: str | None = None, using: str = "default"):
    """Ids of at most SEARCH_LIMIT customers whose folded search text holds every term of
    ``query``, or None when the query has no terms (it filters nothing). ``status`` is a
    status, or "!" and a status for every other one (NOT_ACTIVE): the limit applies after it.

    The matching runs in kundreg_customer_search() on the trigram-indexed private copy of
    the search text, partitioned by tenant (customers/migrations/0002, 0003 and 0005, ADR
    0004), as the function's owner, for the transaction's tenant only.
    """
    terms = query_terms(query, country)
    if not terms:
        return None
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT kundreg_customer_search(%s::text[], %s, %s)", [terms, status, SEARCH_LIMIT]
        )
        return [row[0] for row in cursor.fetchall()]


def customer_search(
    queryset: QuerySet[Customer], query: str, country: str = "SE", status: str | None = None
):
    """``queryset`` narrowed to the customers matching ``query`` (see search_ids).

    The search runs once, here, and the queryset filters on the ids it found: a list
    view counts and then fetches a page, and as a subquery the search would run for each.
    """
    ids = search_ids(query, country, status, using=queryset.db)
    if ids is None:
        return queryset
    queryset = queryset.filter(_AnyOf(F("pk"), ids))
    if len(ids) >= SEARCH_LIMIT:
        # Marked on the queryset itself, so whoever lists it can say the search was cut.
        queryset = queryset.annotate(**{SEARCH_CAPPED: Value(True)})
    return queryset


def search_capped(queryset: QuerySet[Customer]) -> bool:
    """Whether a search in ``queryset`` stopped at SEARCH_LIMIT matches (more may match)."""
    return SEARCH_CAPPED in queryset.query.annotations


class _AnyOf(Func):
    """``expression = ANY(%s)``: the ids travel as one array parameter, not one each."""

    arg_joiner = " = ANY("
    template = "(%(expressions)s))"
    output_field = BooleanField()

    def __init__(self, expression, values: list[int]):
        super().__init__(expression, Value(values, output_field=ArrayField(BigIntegerField())))


def customer_list(
    *,
    search: str = "",
    status: str | None = CustomerStatus.ACTIVE,
    number: str = "",
    email: str = "",
    phone: str = "",
    district: int | None = None,
    group: int | None = None,
    business_area: int | None = None,
    last_activity_before: datetime | None = None,
    ordering: str = "name",
    country: str = "SE",
    consent: str = "",
    updated_since: datetime | None = None,
    ids: list[int] | None = None,
) -> QuerySet[Customer]:
    qs = Customer.objects.all()
    if ids is not None:
        # The scoped manager (and row security) keep another tenant's ids out.
        qs = qs.filter(_AnyOf(F("pk"), ids))
    if updated_since is not None:
        qs = qs.filter(changed_since(updated_since))
    if status == NOT_ACTIVE:
        qs = qs.exclude(status=CustomerStatus.ACTIVE)
    elif status:
        qs = qs.filter(status=status)
    if search:
        qs = customer_search(qs, search, country, status=status or None)
    if number:
        qs = qs.filter(number=number)
    if email:
        qs = qs.filter(email__iexact=email)
    if phone:
        qs = customer_search(qs, phone, country)
    if district:
        qs = qs.filter(district_id=district)
    if group:
        qs = qs.filter(groups__id=group)
    if business_area:
        qs = qs.filter(business_area_id=business_area)
    if last_activity_before:
        qs = qs.filter(Q(last_activity_at__lt=last_activity_before) | Q(last_activity_at=None))
    if consent and hooks.consent_status_filter is not None:
        qs = hooks.consent_status_filter(qs, consent)
    field = SORTABLE.get(ordering, "sort_name")
    if field == "last_activity_at":  # never-active customers count as the oldest
        order = F(field).asc(nulls_first=True)
    elif field == "-last_activity_at":
        order = F(field[1:]).desc(nulls_last=True)
    else:
        order = field
    return qs.order_by(order, "pk").prefetch_related(
        Prefetch("addresses", queryset=Address.objects.filter(is_head_office=True))
    )


def changed_since(moment: datetime) -> Q:
    """Customers whose answer may differ since ``moment``: their own row, or their head
    office (its own row: changing, adding or replacing it does not touch the customer's)."""
    head_office = Address.objects.filter(
        customer=OuterRef("pk"), is_head_office=True, updated_at__gte=moment
    )
    return Q(updated_at__gte=moment) | Q(Exists(head_office))


def customer_card(pk: int) -> Customer:
    return (
        Customer.objects.select_related(
            "district",
            "business_area",
            "payment_terms",
            "invoice_type",
            "account_owner",
            "created_by",
            "updated_by",
        )
        .prefetch_related("groups", "addresses")
        .get(pk=pk)
    )


def contacts_of(
    customer: Customer, *, include_inactive: bool = False, include_deleted: bool = False
) -> QuerySet[Contact]:
    """The customer's contacts: active ones, plus inactive and/or deleted ("Deleted contact")."""
    qs = customer.contacts.select_related("title").prefetch_related("roles")
    if not include_inactive:
        qs = qs.filter(Q(is_active=True) | Q(deleted_at__isnull=False))
    if not include_deleted:
        qs = qs.filter(deleted_at=None)
    return qs


def activity_feed(customer: Customer) -> dict[str, list[Activity]]:
    """Planned (open tasks) and completed (done tasks and notes), as the card shows them."""
    planned, completed = [], []
    for activity in customer.activities.select_related("contact", "created_by"):
        (planned if activity.is_planned else completed).append(activity)
    planned.sort(key=lambda a: (a.due_date is None, a.due_date, a.created_at))
    completed.sort(key=lambda a: a.done_at or a.created_at, reverse=True)
    return {"planned": planned, "completed": completed}


def selection_of(user) -> QuerySet[Customer]:
    ids = SelectionEntry.objects.filter(user=user).values("customer_id")
    return Customer.objects.filter(pk__in=ids).order_by("name")


# A picker answers with a handful of matches: enough to choose from, never a browse.
PICK_LIMIT = 20


def customer_pick(*, query: str, country: str = "SE") -> list[dict]:
    """Number and name of at most PICK_LIMIT customers matching ``query`` (the Nordic
    search), for booking hours against them elsewhere (the employee role, the
    ``customers:pick`` scope). Nothing for an empty query: picking is not browsing.
    Anonymized customers are left out: nobody books against them any more."""
    if not query_terms(query, country):
        return []
    queryset = customer_search(
        Customer.objects.exclude(status=CustomerStatus.ANONYMIZED), query, country
    )
    return list(queryset.order_by("sort_name", "pk").values("id", "number", "name")[:PICK_LIMIT])
