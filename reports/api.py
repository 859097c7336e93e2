"""GET /api/v1/customers/{id}/export/: everything held about a customer (GDPR art. 15/20).

The document of ``reports.subject_access`` as JSON, audited like the card's export. Who
may: an API key with both ``customers:read`` and ``audit:read`` (the export holds the
customer's audit entries); a signed-in user with the rights the card's export needs
(``reports.subject_access.EXPORT_PERMS``). An API key never sees finance fields
(customers.permissions), so its document leaves them out and lists them as withheld.
Another tenant's customer does not exist: 404.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.actors import Actor
from config.api_strict import StrictRequestMixin
from customers.api import get_by_path_id
from customers.models import Customer
from customers.permissions import api_key_of, can_see_finance, membership_of
from tenancy.api_auth import HasTenant

from .subject_access import (
    EXPORT_PERMS,
    EXPORT_SCOPES,
    EXTRA_SECTIONS,
    SECTIONS,
    subject_access_export,
)


class MayExportPersonalData(HasTenant):
    message = gettext_lazy(
        "This API key or user lacks what this needs: the scopes customers:read and audit:read."
    )

    def has_permission(self, request, view):
        super().has_permission(request, view)
        key = api_key_of(request)
        if key is not None:
            return all(key.has_scope(scope) for scope in EXPORT_SCOPES)
        membership = membership_of(request)
        return membership is not None and all(membership.has_perm(p) for p in EXPORT_PERMS)


def _document_serializer() -> type[serializers.Serializer]:
    """The export's shape, for the OpenAPI schema: its sections are lists of rows whose
    keys are the models' field names."""
    fields = {
        "format_version": serializers.IntegerField(help_text="Changes when a key changes."),
        "generated_at": serializers.DateTimeField(),
        "tenant": serializers.CharField(help_text="The company that holds the data."),
        "language": serializers.CharField(help_text="The customer's language."),
        "customer": serializers.DictField(help_text="The customer's own fields."),
        **{
            section: serializers.ListField(
                child=serializers.DictField(), help_text="Rows; keys are field names."
            )
            for section in (*SECTIONS.values(), *EXTRA_SECTIONS)
            if section != "customer"
        },
        "other": serializers.DictField(
            child=serializers.ListField(child=serializers.DictField()),
            help_text="Rows of other registered models, by model label.",
        ),
        "withheld": serializers.ListField(
            child=serializers.DictField(),
            help_text="Fields left out: field, reason (secret, derived, finance), explanation.",
        ),
    }
    return type("SubjectAccessExportSerializer", (serializers.Serializer,), fields)


SubjectAccessExportSerializer = _document_serializer()


class CustomerExportView(StrictRequestMixin, APIView):
    permission_classes = [MayExportPersonalData]

    @extend_schema(
        operation_id="customers_export_retrieve",
        summary="Everything held about a customer (GDPR art. 15/20)",
        description="The customer's data-subject access export as JSON: registry data, "
        "contacts, addresses, consignees, keys, activities, the list of files, consent "
        "requests, decisions with their proof and receipts, messages sent, sales documents, "
        "change history and the audit entries about it. Needs the scopes `customers:read` "
        "and `audit:read`. An API key gets no finance fields; `withheld` lists every field "
        "left out and why. Each export is recorded in the audit log (`customer.exported`).",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses=SubjectAccessExportSerializer,
    )
    def get(self, request, id):
        customer = get_by_path_id(Customer.objects.all(), id)
        export = subject_access_export(
            customer=customer,
            actor=Actor.from_request(request),
            fmt="json",
            channel="api",
            finance=can_see_finance(request),
        )
        response = Response(export.data)
        response["Cache-Control"] = "no-store, private"
        return response
