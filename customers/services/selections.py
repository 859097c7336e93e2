"""A user's own selection of customers (PENGVIN "Eget urval") and saved lists ("Listor").

The selection is a per-user working set, like a shopping basket: adding and
removing customers is not a change of the registry, so it is neither in the
customers' change history nor in the audit log. Saved lists are: a shared
list changes what colleagues see.

Saved lists keep every filter of the list: the status, the structured
filters, the sort order and the search text. The search is often a person's
name or phone number, so it is kept in its own column that the registry
classifies as free text: anonymizing that person redacts it there too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record
from tenancy.context import require_tenant

from ..models import Customer, SavedList, SelectionEntry

# The filters a saved list keeps (the keys of the customer list's query string).
LIST_FILTER_KEYS = (
    "status",
    "district",
    "group",
    "business_area",
    "last_activity_before",
    "consent",
    "sort",
)


@transaction.atomic
def selection_add(*, user, customers: Iterable[Customer]) -> list[Customer]:
    """Add customers to ``user``'s selection; return those that were not in it yet."""
    ids = {c.pk for c in customers}
    # Re-read inside the tenant scope: a customer of another tenant is never added.
    wanted = list(Customer.objects.filter(pk__in=ids).order_by("name", "pk"))
    present = set(
        SelectionEntry.objects.filter(user=user, customer__in=wanted).values_list(
            "customer_id", flat=True
        )
    )
    new = [c for c in wanted if c.pk not in present]
    tenant = require_tenant()
    # ignore_conflicts: a second tab adding the same customer at the same time is no error.
    SelectionEntry.objects.bulk_create(
        [SelectionEntry(tenant=tenant, user=user, customer=c) for c in new],
        ignore_conflicts=True,
    )
    return new


def numbers_parse(text: str) -> list[str]:
    """Customer numbers typed by a user: separated by commas, semicolons or white space."""
    seen: dict[str, None] = {}
    for part in text.replace(",", " ").replace(";", " ").split():
        seen.setdefault(part.strip(), None)
    return [n for n in seen if n]


@transaction.atomic
def selection_add_by_numbers(*, user, numbers: Iterable[str]) -> tuple[list[Customer], list[str]]:
    """Add the customers with these numbers; return (newly added, numbers that match none).

    Numbers already in the selection are neither added twice nor reported as unknown.
    """
    wanted = list(dict.fromkeys(str(n).strip() for n in numbers if str(n).strip()))
    found = {c.number: c for c in Customer.objects.filter(number__in=wanted)}
    unknown = [n for n in wanted if n not in found]
    added = selection_add(user=user, customers=found.values())
    return added, unknown


@transaction.atomic
def selection_remove(*, user, customer_ids: Iterable[int]) -> int:
    """Remove customers from ``user``'s selection; return how many were removed."""
    removed, _by_model = SelectionEntry.objects.filter(
        user=user, customer_id__in=list(customer_ids)
    ).delete()
    return removed


@transaction.atomic
def selection_clear(*, user) -> int:
    removed, _by_model = SelectionEntry.objects.filter(user=user).delete()
    return removed


def saved_lists_visible(user) -> QuerySet[SavedList]:
    """The user's own lists and every shared one; other users' own lists stay hidden (seed 003)."""
    return (
        SavedList.objects.filter(Q(owner=user) | Q(shared=True))
        .select_related("owner")
        .order_by("name", "pk")
    )


@transaction.atomic
def saved_list_save(
    *, user, name: str, shared: bool = False, filters: Mapping[str, object]
) -> SavedList:
    """Save the filters of the customer list under a name that is unique among the user's lists."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter a name for the list.")})
    kept = {
        key: str(value)
        for key, value in filters.items()
        if key in LIST_FILTER_KEYS and value not in (None, "")
    }
    search = str(filters.get("q") or "").strip()[: SavedList._meta.get_field("search").max_length]
    duplicate = _("You already have a list with this name.")
    if SavedList.objects.filter(owner=user, name__iexact=name).exists():
        raise ValidationError({"name": duplicate})
    try:
        with transaction.atomic():
            saved = SavedList.objects.create(
                owner=user, name=name, shared=shared, filters=kept, search=search
            )
    except IntegrityError as exc:  # the same name saved at the same time in another tab
        raise ValidationError({"name": duplicate}) from exc
    audit_record(
        action="saved_list.created",
        actor=Actor.user(user),
        object_type="saved_list",
        object_id=saved.pk,
        # Which filters, never their values: the search may name a person.
        data={"shared": shared, "filters": sorted([*kept, *(["q"] if search else [])])},
    )
    return saved


@transaction.atomic
def saved_list_delete(*, user, saved_list: SavedList) -> None:
    """Delete one of the user's own lists; a colleague's shared list is not theirs to delete."""
    if saved_list.owner_id != user.pk:
        raise PermissionDenied(_("Only the owner of a list can delete it."))
    list_id = saved_list.pk
    saved_list.delete()
    audit_record(
        action="saved_list.deleted",
        actor=Actor.user(user),
        object_type="saved_list",
        object_id=list_id,
    )
