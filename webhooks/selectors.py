"""Reads: the feed, the endpoints and their delivery log (all of the active tenant)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Event, WebhookDelivery, WebhookEndpoint


def event_page(*, after: int = 0, limit: int = 100) -> tuple[list[Event], bool]:
    """Events after the cursor, oldest first, and whether there are more."""
    rows = list(
        Event.objects.filter(id__gt=after).select_related("tenant").order_by("id")[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("created_at", "id")


def delivery_log(*, endpoint: WebhookEndpoint, limit: int = 100) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .order_by("-id")[:limit]
    )
