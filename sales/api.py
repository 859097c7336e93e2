"""The sales-document API (docs/api.md): post (an upsert by kind and number), list, read.

Reads need ``customers:read``, posting ``sales:write``. Another tenant's document or
customer does not exist: 404 on the path, "does not exist" for the ``customer`` field.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import NotFound

from config.api import IdempotentCreateMixin
from customers.api import IDEMPOTENCY_KEY, RegistryViewSet, get_by_path_id
from customers.models import Customer

from . import serializers as s
from .models import SalesDocument
from .services import sales_document_post

ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        summary="Sales documents",
        description="Newest first; `customer` narrows to one customer's documents.",
        parameters=[s.SalesDocumentListParamsSerializer],
        responses=s.SalesDocumentSerializer(many=True),
    ),
    create=extend_schema(
        summary="Report a sales document",
        description="201 when created. A second post with the same `kind` and `number` "
        "updates the document (status, balance, amount, date) and answers 200. Moves the "
        "customer's last activity forward to the document's date, never back. Amount and "
        "balance may be negative only for credit notes and payments.",
        parameters=[IDEMPOTENCY_KEY],
        request=s.SalesDocumentPostSerializer,
        responses={200: s.SalesDocumentSerializer, 201: s.SalesDocumentSerializer},
    ),
    retrieve=extend_schema(
        summary="Read a sales document", parameters=[ID], responses=s.SalesDocumentSerializer
    ),
)
class SalesDocumentViewSet(IdempotentCreateMixin, RegistryViewSet):
    queryset = SalesDocument.objects.none()
    serializer_class = s.SalesDocumentSerializer
    create_serializer_class = s.SalesDocumentPostSerializer
    required_scopes = {"read": "customers:read", "write": "sales:write"}
    cursor_ordering = ("-pk",)
    query_params = {"list": s.SalesDocumentListParamsSerializer}

    def get_queryset(self):
        return SalesDocument.objects.all()

    def list(self, request, *args, **kwargs):
        params = s.SalesDocumentListParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        documents = self.get_queryset()
        customer_id = params.validated_data.get("customer")
        if customer_id is not None:
            if not Customer.objects.filter(pk=customer_id).exists():
                raise NotFound()
            documents = documents.filter(customer_id=customer_id)
        return self.render_page(documents)

    def get_object(self) -> SalesDocument:
        return get_by_path_id(self.get_queryset(), self.kwargs["id"])

    def perform_create(self, data) -> SalesDocument:
        document, created = sales_document_post(actor=self.actor, **data)
        if not created:
            self.created_status = status.HTTP_200_OK
        return document
