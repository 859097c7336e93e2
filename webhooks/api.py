"""The events feed, for clients that cannot receive webhooks (GET /api/v1/events/)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from config.api_schema import AutoSchema
from config.api_strict import StrictRequestMixin
from tenancy.api_auth import HasScope

from . import selectors
from .models import Event
from .serializers import EventPageSerializer, EventParamsSerializer


class _PageSchema(AutoSchema):
    def _is_list_view(self, serializer=None) -> bool:
        return False  # one page object with its own cursor, not an array of events


class EventViewSet(StrictRequestMixin, viewsets.GenericViewSet):
    schema = _PageSchema()
    queryset = Event.objects.none()
    permission_classes = [HasScope]
    required_scopes = {"read": "customers:read"}
    pagination_class = None  # a cursor of its own: the last event id seen
    query_params = {"list": EventParamsSerializer}

    @extend_schema(
        summary="Events, oldest first",
        description="What happened in the company since the cursor: consent granted, declined, "
        "withdrawn or expired, customers created, updated or anonymized, anonymization runs "
        "finished. Events carry ids and codes only, never personal data. Read with "
        "`after=0`, then pass `next_after` as `after` until `has_more` is false; store "
        "`next_after` and poll with it later. The same events go to the company's webhooks, "
        "signed.",
        parameters=[EventParamsSerializer],
        responses=EventPageSerializer,
        operation_id="events_list",
    )
    def list(self, request, *args, **kwargs):
        params = EventParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        after, limit = params.validated_data["after"], params.validated_data["limit"]
        events, has_more = selectors.event_page(after=after, limit=limit)
        next_after = events[-1].pk if events else after
        next_url = None
        if has_more:
            next_url = replace_query_param(request.build_absolute_uri(), "after", next_after)
        return Response(
            {
                "results": [event.payload() for event in events],
                "next_after": next_after,
                "has_more": has_more,
                "next": next_url,
                "previous": None,
            }
        )
