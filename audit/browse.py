"""Reading the audit log for people: the audit page's filters and the entries about one
customer (the card's history). Newest first by time, then row id: ``seq`` counts within
one chain only.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from tenancy.models import ApiKey, Membership

from .describe import known_actions
from .models import ActorType, AuditEvent

NEWEST_FIRST = ("-created_at", "-id")


def about_customer(customer_id: int, *, contact_ids: Iterable[int] = ()) -> Q:
    """Entries about one customer, whichever way the entry names it: as its object, as
    ``customer``/``customer_id`` in the data, or as a contact of it that was deleted
    (older deletions name no customer; the link to a deleted contact stays)."""
    about = (
        Q(object_type="customer", object_id=str(customer_id))
        | Q(data__customer=customer_id)
        | Q(data__customer_id=customer_id)
        | Q(action="contact.deleted", data__customers__contains=[customer_id])
        | Q(action="anonymization.chunk", data__anonymized__contains=[customer_id])
    )
    contact_ids = [str(pk) for pk in contact_ids]
    if contact_ids:
        about |= Q(action="contact.deleted", object_type="contact", object_id__in=contact_ids)
    return about


def audit_events(
    *,
    who: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    customer_id: int | None = None,
    actor_type: str = "",
    since=None,
    until=None,
) -> QuerySet[AuditEvent]:
    """The active tenant's entries matching the audit page's filters.

    ``who``: ``user:<id>``, ``api_key:<prefix>``, ``system`` or ``customer``.
    ``action``: a known action exactly, anything else as a prefix (``customer.``).
    """
    qs = AuditEvent.objects.all()
    if who:
        kind, _sep, ident = who.partition(":")
        qs = qs.filter(actor_type=kind)
        if ident:
            qs = qs.filter(actor_id=ident)
    if actor_type:
        qs = qs.filter(actor_type=actor_type)
    if action:
        qs = (
            qs.filter(action=action)
            if action in known_actions()
            else qs.filter(action__startswith=action)
        )
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if customer_id is not None:
        qs = qs.filter(about_customer(customer_id))
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs.order_by(*NEWEST_FIRST)


def actor_choices(tenant) -> list[tuple[str, list[tuple[str, str]]]]:
    """The "person" select: the tenant's users (active or not: a membership stays when it
    is switched off), its API keys, and the system and the customers themselves."""
    users = get_user_model().objects.filter(
        pk__in=Membership.objects.filter(tenant=tenant).values("user_id")
    )
    people = sorted(
        ((f"user:{u.pk}", u.get_full_name() or u.get_username()) for u in users),
        key=lambda pair: pair[1].lower(),
    )
    keys = [
        (f"api_key:{prefix}", name)
        for prefix, name in ApiKey.objects.order_by("name").values_list("prefix", "name")
    ]
    others = [(ActorType.SYSTEM.value, ActorType.SYSTEM.label)]
    others.append((ActorType.CUSTOMER.value, ActorType.CUSTOMER.label))
    choices = []
    if people:
        choices.append((str(ActorType.USER.label), people))
    if keys:
        choices.append((str(ActorType.API_KEY.label), keys))
    choices.append(("—", [(value, str(label)) for value, label in others]))
    return choices
