"""The eligibility API: who may be anonymized today, and what keeps the others.

Both answers come from ``anonymization.eligibility``, the selector the Anonymization page
and the ``eligibility`` command use. Scope ``anonymization:read`` (admins and bookkeepers
for a browser session). Another tenant's customer does not exist: 404.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from customers.api import RegistryViewSet, get_by_path_id
from customers.models import Customer

from . import eligibility, selectors
from . import serializers as s
from .models import AnonymizationRun

ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        summary="Customers eligible for anonymization, or blocked",
        description="`state=eligible`: customers whose retention period has passed and that "
        "nothing else keeps; `state=blocked`: customers kept by an open order, delivery, "
        "invoice or case, a balance that is not zero, or a legal hold. Customers kept only "
        "by their retention period are in neither list. Each row names every reason.",
        parameters=[s.EligibilityListParamsSerializer],
        responses=s.EligibilitySerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="A customer's eligibility for anonymization",
        description="The date the customer may be anonymized and every reason it may not be yet.",
        parameters=[ID],
        responses=s.EligibilitySerializer,
    ),
)
class EligibilityViewSet(RegistryViewSet):
    queryset = Customer.objects.none()
    serializer_class = s.EligibilitySerializer
    required_scopes = {"read": "anonymization:read", "write": "anonymization:read"}
    cursor_ordering = ("pk",)
    query_params = {"list": s.EligibilityListParamsSerializer}

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["today"] = self.today
        return context

    @property
    def today(self):
        if not hasattr(self, "_today"):
            self._today = eligibility.tenant_today()
        return self._today

    def list(self, request, *args, **kwargs):
        params = s.EligibilityListParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        select = {
            "eligible": eligibility.eligible_customers,
            "blocked": eligibility.blocked_customers,
        }[params.validated_data["state"]]
        customers = select(today=self.today, prospects=params.validated_data.get("prospects"))
        return self.render_page(customers)

    def retrieve(self, request, *args, **kwargs):
        customer = get_by_path_id(Customer.objects.all(), self.kwargs["id"])
        return self.render(eligibility.eligibility_of(customer, today=self.today))


@extend_schema_view(
    list=extend_schema(
        summary="Anonymization runs",
        description="Newest first: each run's status, the kinds of data it erased and its "
        "counts. No personal data: which customers a run reached is in the audit log.",
        responses=s.AnonymizationRunSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="An anonymization run", parameters=[ID], responses=s.AnonymizationRunSerializer
    ),
)
class AnonymizationRunViewSet(RegistryViewSet):
    queryset = AnonymizationRun.objects.none()
    serializer_class = s.AnonymizationRunSerializer
    required_scopes = {"read": "anonymization:read", "write": "anonymization:read"}
    cursor_ordering = ("-pk",)

    def get_queryset(self):
        return selectors.run_list()

    def list(self, request, *args, **kwargs):
        return self.render_page(self.get_queryset())

    def retrieve(self, request, *args, **kwargs):
        return self.render(get_by_path_id(self.get_queryset(), self.kwargs["id"]))
