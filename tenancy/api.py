from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.actors import Actor
from config.api import IdempotentCreateMixin
from config.api_strict import StrictRequestMixin

from . import services
from .api_auth import SCOPE_PERMS, HasScope
from .models import ReferenceEntry, ReferenceRegister
from .roles import Perm, role_has_perm
from .serializers import MeSerializer, ReferenceEntrySerializer


class MeView(StrictRequestMixin, APIView):
    """Who is calling: the tenant, the key or user, and the scopes in effect."""

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request):
        django_request = request._request
        key = getattr(django_request, "api_key", None)
        if key is not None:
            scopes, user = sorted(key.scopes), None
        else:
            role = django_request.membership.role
            scopes = sorted(s for s, perm in SCOPE_PERMS.items() if role_has_perm(role, perm))
            user = request.user.get_username()
        tenant = django_request.tenant
        data = {
            "tenant": tenant.slug,
            "tenant_name": tenant.name,
            "key": key.prefix if key else None,
            "user": user,
            "scopes": scopes,
        }
        return Response(MeSerializer(data).data)


REGISTER = extend_schema(
    parameters=[
        OpenApiParameter("register", enum=ReferenceRegister.values, description="only this one")
    ]
)


# Reads and changes look in one register when asked; a new entry names its register in the body.
@extend_schema_view(list=REGISTER, retrieve=REGISTER, partial_update=REGISTER)
class ReferenceEntryViewSet(
    StrictRequestMixin,
    IdempotentCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The tenant's reference registers (payment terms, districts, ...), e.g. synced from an ERP."""

    queryset = ReferenceEntry.objects.none()
    serializer_class = ReferenceEntrySerializer
    permission_classes = [HasScope]
    required_scopes = {"read": "customers:read", "write": "customers:write"}
    # In the browser only admins maintain registers; the API holds signed-in users to that.
    session_perms = {"write": Perm.SETTINGS_EDIT}
    http_method_names = ["get", "post", "patch", "head", "options"]
    query_params = {
        "list": ("register",),
        "retrieve": ("register",),
        "partial_update": ("register",),
    }

    def get_queryset(self):
        qs = ReferenceEntry.objects.order_by("register", "sort_order", "code")
        register = self.request.query_params.get("register")
        return qs.filter(register=register) if register else qs

    def perform_create(self, serializer):
        # A ValidationError from the service becomes a field-level problem+json.
        serializer.instance = services.reference_entry_save(
            actor=Actor.from_request(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.reference_entry_save(
            entry=serializer.instance,
            actor=Actor.from_request(self.request),
            **serializer.validated_data,
        )
