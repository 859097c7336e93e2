from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework import mixins, viewsets

from config.api_strict import StrictRequestMixin
from tenancy.api_auth import HasScope

from .forms import UtcDateTimeMixin
from .models import ActorType, AuditEvent
from .selectors import audit_events
from .serializers import AuditEventSerializer


class UtcIsoDateTimeField(UtcDateTimeMixin, IsoDateTimeField):
    """ISO 8601, as UTC (UtcDateTimeMixin: an offset beyond ±15:59 was a 500)."""


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class AuditEventFilter(filters.FilterSet):
    # Declared, not generated from Meta.fields: generation queries the scoped manager at import.
    action = filters.CharFilter(field_name="action", lookup_expr="startswith")
    actor_type = filters.ChoiceFilter(field_name="actor_type", choices=ActorType.choices)
    object_type = filters.CharFilter(field_name="object_type")
    object_id = filters.CharFilter(field_name="object_id")
    since = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")


class AuditEventViewSet(
    StrictRequestMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The tenant's audit log, newest first. Read-only: the log is append-only."""

    queryset = AuditEvent.objects.none()
    serializer_class = AuditEventSerializer
    permission_classes = [HasScope]
    required_scopes = {"read": "audit:read"}
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = AuditEventFilter
    # An entry is addressed by its id: sequence numbers count within one of the tenant's
    # chains (audit/services.py), so they no longer name one entry.
    # Pages run newest first by id (config.api.CursorPagination): one order across chains.
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return audit_events()
