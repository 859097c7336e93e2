"""GET /api/v1/customers/pick/?q=: number and name of matching customers (issue 14, 12).

For systems that book hours against customers: the ``customers:pick`` scope (or
``customers:read``, which sees more anyway), and for signed-in users the picker's
permission, which every role has. Nothing else about a customer is answered.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from config.api_strict import StrictRequestMixin
from tenancy.api_auth import HasTenant, principal_allows_any
from tenancy.roles import Perm

from .selectors import PICK_LIMIT, customer_pick

PICK_SCOPES = ("customers:pick", "customers:read")


class PickParamsSerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=200,
        allow_blank=True,
        help_text=_("Customer number or name; accent- and case-insensitive."),
    )


class PickedCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField()


class CanPick(HasTenant):
    message = _("This API key or user lacks the scope this needs.")

    def has_permission(self, request, view):
        super().has_permission(request, view)
        return principal_allows_any(request, PICK_SCOPES, Perm.CUSTOMER_PICK)


class CustomerPickViewSet(StrictRequestMixin, viewsets.ViewSet):
    permission_classes = [CanPick]
    pagination_class = None
    query_params = {"list": PickParamsSerializer}

    @extend_schema(
        summary="Pick a customer",
        description=f"At most {PICK_LIMIT} matches, number and name only; none for an empty q.",
        parameters=[PickParamsSerializer],
        responses=PickedCustomerSerializer(many=True),
    )
    def list(self, request):
        params = PickParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        tenant = request._request.tenant
        found = customer_pick(query=params.validated_data["q"], country=tenant.country)
        return Response(PickedCustomerSerializer(found, many=True).data)
