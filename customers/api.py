"""The registry's REST API (docs/api.md): customers, their contacts, addresses and consignees.

Views are thin: parse with an input serializer, call a service (which records
history and audit), render with an output serializer. Ids of another tenant,
and nested objects of another customer, are 404 for reads and writes alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from audit.actors import Actor
from config.api import CursorPagination, IdempotentCreateMixin
from config.api_conditional import (
    IF_MATCH,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    PRECONDITION_FAILED,
    check_if_match,
    etag_of,
    if_none_match_hits,
    not_modified,
    tagged,
)
from config.api_strict import StrictRequestMixin
from tenancy.api_auth import HasScope

from . import serializers as s
from .models import Address, Consignee, Contact, Customer
from .selectors import (
    SEARCH_LIMIT,
    SORTABLE,
    contacts_of,
    customer_card,
    customer_list,
    search_capped,
)
from .services.addresses import address_add, address_delete, address_update, head_office_change
from .services.consignees import consignee_create, consignee_delete, consignee_update
from .services.contacts import (
    contact_create,
    contact_delete,
    contact_link,
    contact_unlink,
    contact_update,
)
from .services.customers import customer_create, customer_set_status, customer_update

NO_ACTIVITY = datetime(1970, 1, 1, tzinfo=UTC)


def _id(raw) -> int:
    """A path id; anything but a whole number that could be a row is a 404."""
    raw = str(raw)
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= s.MAX_ID:
        raise NotFound()
    return int(raw)


def get_by_path_id(queryset, raw_id):
    try:
        return queryset.get(pk=_id(raw_id))
    except queryset.model.DoesNotExist:
        raise NotFound() from None


class RegistryPagination(CursorPagination):
    """Cursor pages in the view's ``cursor_ordering`` (tampered cursors: see the base class)."""

    def get_ordering(self, request, queryset, view):
        return tuple(view.cursor_ordering)


class RegistryViewSet(StrictRequestMixin, viewsets.GenericViewSet):
    """Shared shape: output ``serializer_class``, ``create_serializer_class`` and
    ``update_serializer_class`` for input, and the ``perform_*`` hooks that call services.
    Query parameters an action takes are declared in ``query_params`` (config.api_strict)."""

    permission_classes = [HasScope]
    required_scopes = {"read": "customers:read", "write": "customers:write"}
    pagination_class = RegistryPagination
    cursor_ordering: tuple[str, ...] = ("pk",)
    create_serializer_class = None
    update_serializer_class = None

    def get_serializer_class(self):
        # By method rather than action, so that OPTIONS describes the input too.
        if self.request.method == "POST" and self.create_serializer_class:
            return self.create_serializer_class
        if self.request.method == "PATCH" and self.update_serializer_class:
            return self.update_serializer_class
        return self.serializer_class

    # -- helpers

    @property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    @property
    def tenant(self):
        return self.request._request.tenant

    def parse(self, *, partial: bool = False) -> dict:
        serializer = self.get_serializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def render(self, instance, status_code=status.HTTP_200_OK) -> Response:
        output = self.serializer_class(instance, context=self.get_serializer_context())
        return Response(output.data, status=status_code)

    def render_page(self, queryset) -> Response:
        page = self.paginate_queryset(queryset)
        output = self.serializer_class(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(output.data)

    def get_customer(self) -> Customer:
        if not hasattr(self, "_customer"):
            self._customer = get_by_path_id(Customer.objects.all(), self.kwargs["customer_id"])
        return self._customer

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if "customer_id" in self.kwargs:
            # Another tenant's (or no) customer is a 404 before anything else is looked at.
            self.get_customer()

    # -- actions

    def list(self, request, *args, **kwargs):
        return self.render_page(self.get_queryset())

    def retrieve(self, request, *args, **kwargs):
        response = self.render(self.get_object())
        etag = etag_of(response.data)
        if if_none_match_hits(request, etag):
            return not_modified(etag)
        return tagged(response, etag)

    def create(self, request, *args, **kwargs):
        # Overridden through perform_create only: IdempotentCreateMixin wraps this method.
        data = self.parse()
        self.created_status = status.HTTP_201_CREATED
        with transaction.atomic():
            instance = self.perform_create(data)
        return self.render(self.fresh(instance), self.created_status)

    def partial_update(self, request, *args, **kwargs):
        instance = self.get_object()
        if "If-Match" in request.headers:
            # Locked until the request's transaction ends, then read again: a second PATCH
            # with the same If-Match waits here and then finds the tag changed (412).
            list(type(instance).objects.select_for_update().filter(pk=instance.pk).values("pk"))
            instance = self.get_object()
            check_if_match(request, etag_of(self.render(instance).data))
        data = self.parse(partial=True)
        with transaction.atomic():
            instance = self.perform_update(instance, data)
        response = self.render(self.fresh(instance))
        return tagged(response, etag_of(response.data))

    def destroy(self, request, *args, **kwargs):
        self.perform_destroy(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def fresh(self, instance):
        """The object as reads show it, after a write."""
        return instance


# ---------------------------------------------------------------------------
# Customers

CUSTOMER_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
PARENT_ID = OpenApiParameter(
    "customer_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The customer's id."
)
CONTACT_ID = OpenApiParameter("contact_id", OpenApiTypes.INT, OpenApiParameter.PATH)
ADDRESS_ID = OpenApiParameter("address_id", OpenApiTypes.INT, OpenApiParameter.PATH)
CONSIGNEE_ID = OpenApiParameter("consignee_id", OpenApiTypes.INT, OpenApiParameter.PATH)
# Single-object reads answer an ETag (and 304); changes take an optional If-Match (412).
CONDITIONAL_READ = {"parameters": [IF_NONE_MATCH], "responses": {304: NOT_MODIFIED}}
CONDITIONAL_WRITE = {"parameters": [IF_MATCH], "responses": {412: PRECONDITION_FAILED}}


def conditional(kind: dict, *, parameters: list, responses) -> dict:
    """extend_schema arguments with the conditional header and answer of ``kind``."""
    if not isinstance(responses, dict):
        responses = {200: responses}
    return {
        "parameters": [*parameters, *kind["parameters"]],
        "responses": {**responses, **kind["responses"]},
    }


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Repeat the request safely: the same key and body answer the first response "
    "again without doing anything; another body with the key is a 409.",
)


def _cursor_ordering(queryset, ordering: str):
    """The list in ``ordering`` as cursor pagination needs it: a comparable value in every row."""
    field = SORTABLE.get(ordering, "sort_name")
    sign, name = ("-", field[1:]) if field.startswith("-") else ("", field)
    if name == "last_activity_at":
        # Customers without any activity sort as the oldest.
        queryset = queryset.annotate(activity=Coalesce(name, Value(NO_ACTIVITY)))
        name = "activity"
    return queryset, (f"{sign}{name}", f"{sign}pk")


class CustomerPagination(RegistryPagination):
    """The customer list's pages say whether the search stopped at its limit."""

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["truncated"] = {
            "type": "boolean",
            "description": f"True when the search stopped at its limit of {SEARCH_LIMIT} "
            "matches: more customers may match than the pages hold. Narrow it with more "
            "search terms or with number, email, phone, status or last_activity_before.",
        }
        schema["required"] = [*schema.get("required", []), "truncated"]
        return schema


@extend_schema_view(
    list=extend_schema(
        summary="Find customers",
        parameters=[s.CustomerListParamsSerializer],
        responses=s.CustomerSerializer(many=True),
    ),
    create=extend_schema(
        summary="Create a customer",
        parameters=[IDEMPOTENCY_KEY],
        request=s.CustomerCreateSerializer,
        responses={201: s.CustomerSerializer},
    ),
    retrieve=extend_schema(
        summary="Read a customer",
        **conditional(CONDITIONAL_READ, parameters=[CUSTOMER_ID], responses=s.CustomerSerializer),
    ),
    partial_update=extend_schema(
        summary="Change a customer",
        request=s.CustomerUpdateSerializer,
        **conditional(CONDITIONAL_WRITE, parameters=[CUSTOMER_ID], responses=s.CustomerSerializer),
    ),
)
class CustomerViewSet(IdempotentCreateMixin, RegistryViewSet):
    """Customers of the caller's tenant. Finance fields need the finance right (no API key)."""

    queryset = Customer.objects.none()
    serializer_class = s.CustomerSerializer
    create_serializer_class = s.CustomerCreateSerializer
    update_serializer_class = s.CustomerUpdateSerializer
    query_params = {"list": s.CustomerListParamsSerializer}
    pagination_class = CustomerPagination

    def list(self, request, *args, **kwargs):
        params = s.CustomerListParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = dict(params.validated_data)
        ordering = filters.pop("ordering")
        queryset = customer_list(**filters, ordering=ordering, country=self.tenant.country)
        self.truncated = search_capped(queryset)
        queryset, self.cursor_ordering = _cursor_ordering(queryset, ordering)
        return self.render_page(queryset.prefetch_related("groups"))

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["truncated"] = self.truncated
        return response

    def get_object(self) -> Customer:
        try:
            return customer_card(_id(self.kwargs["id"]))
        except Customer.DoesNotExist:
            raise NotFound() from None

    def fresh(self, customer):
        return customer_card(customer.pk)

    def perform_create(self, data) -> Customer:
        address = data.pop("address", None)
        data.setdefault("country", self.tenant.country)
        user = self.request.user
        customer = customer_create(actor=self.actor, user=user, **data)
        if address:
            address_add(customer=customer, actor=self.actor, user=user, **address)
        return customer

    def perform_update(self, customer, data) -> Customer:
        new_status = data.pop("status", None)
        user = self.request.user
        if data:
            customer = customer_update(customer=customer, actor=self.actor, user=user, **data)
        if new_status is not None:
            customer_set_status(customer=customer, status=new_status, actor=self.actor, user=user)
        return customer


# ---------------------------------------------------------------------------
# Contacts


@extend_schema_view(
    list=extend_schema(
        summary="A customer's contacts",
        description='Active, inactive and deleted ones (deleted: "Deleted contact" only).',
        parameters=[PARENT_ID],
        responses=s.ContactSerializer(many=True),
    ),
    create=extend_schema(
        summary="Add a contact to a customer",
        parameters=[PARENT_ID, IDEMPOTENCY_KEY],
        request=s.ContactCreateSerializer,
        responses={201: s.ContactSerializer},
    ),
    retrieve=extend_schema(
        **conditional(
            CONDITIONAL_READ, parameters=[PARENT_ID, CONTACT_ID], responses=s.ContactSerializer
        )
    ),
    partial_update=extend_schema(
        request=s.ContactUpdateSerializer,
        **conditional(
            CONDITIONAL_WRITE, parameters=[PARENT_ID, CONTACT_ID], responses=s.ContactSerializer
        ),
    ),
    destroy=extend_schema(
        summary="Delete a contact for good",
        description="Irreversible: every personal field is emptied and the contact shows as "
        '"Deleted contact" wherever it was used, for all its customers.',
        parameters=[PARENT_ID, CONTACT_ID],
        responses={204: None},
    ),
)
class ContactViewSet(IdempotentCreateMixin, RegistryViewSet):
    queryset = Contact.objects.none()
    serializer_class = s.ContactSerializer
    create_serializer_class = s.ContactCreateSerializer
    update_serializer_class = s.ContactUpdateSerializer
    cursor_ordering = ("number",)

    def get_queryset(self):
        contacts = contacts_of(self.get_customer(), include_inactive=True, include_deleted=True)
        return contacts.prefetch_related("links")

    def get_object(self) -> Contact:
        return get_by_path_id(self.get_queryset(), self.kwargs["contact_id"])

    def fresh(self, contact):
        return get_by_path_id(self.get_queryset(), contact.pk)

    def perform_create(self, data) -> Contact:
        return contact_create(
            customer=self.get_customer(), actor=self.actor, user=self.request.user, **data
        )

    def perform_update(self, contact, data) -> Contact:
        return contact_update(contact=contact, actor=self.actor, user=self.request.user, **data)

    def perform_destroy(self, contact) -> None:
        contact_delete(contact=contact, actor=self.actor, user=self.request.user)


@extend_schema_view(
    create=extend_schema(
        summary="Link a contact to a customer",
        description="201 when linked now, 200 when it already was.",
        parameters=[CONTACT_ID, IDEMPOTENCY_KEY],
        request=s.ContactLinkSerializer,
        responses={200: s.ContactSerializer, 201: s.ContactSerializer},
    ),
    destroy=extend_schema(
        summary="Unlink a contact from a customer",
        parameters=[CONTACT_ID, PARENT_ID],
        responses={204: None},
    ),
)
class ContactCustomerViewSet(IdempotentCreateMixin, RegistryViewSet):
    """The customers a contact person belongs to (one person may serve several)."""

    queryset = Contact.objects.none()
    serializer_class = s.ContactSerializer
    create_serializer_class = s.ContactLinkSerializer

    def get_contact(self) -> Contact:
        return get_by_path_id(
            Contact.objects.prefetch_related("links", "roles"), self.kwargs["contact_id"]
        )

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.contact = self.get_contact()

    def perform_create(self, data) -> Contact:
        customer = data["customer"]
        if any(link.customer_id == customer.pk for link in self.contact.links.all()):
            self.created_status = status.HTTP_200_OK
        contact_link(contact=self.contact, customer=customer, actor=self.actor)
        return self.contact

    def fresh(self, contact):
        return self.get_contact()

    def get_object(self) -> Contact:
        customer = self.get_customer()
        if not any(link.customer_id == customer.pk for link in self.contact.links.all()):
            raise NotFound()
        return self.contact

    def perform_destroy(self, contact) -> None:
        contact_unlink(contact=contact, customer=self.get_customer(), actor=self.actor)


# ---------------------------------------------------------------------------
# Addresses


@extend_schema_view(
    list=extend_schema(
        summary="A customer's addresses",
        parameters=[PARENT_ID],
        responses=s.AddressSerializer(many=True),
    ),
    create=extend_schema(
        summary="Add an address",
        description="A customer's first address becomes its head office.",
        parameters=[PARENT_ID, IDEMPOTENCY_KEY],
        request=s.AddressInputSerializer,
        responses={201: s.AddressSerializer},
    ),
    retrieve=extend_schema(
        **conditional(
            CONDITIONAL_READ, parameters=[PARENT_ID, ADDRESS_ID], responses=s.AddressSerializer
        )
    ),
    partial_update=extend_schema(
        request=s.AddressInputSerializer,
        **conditional(
            CONDITIONAL_WRITE, parameters=[PARENT_ID, ADDRESS_ID], responses=s.AddressSerializer
        ),
    ),
    destroy=extend_schema(
        summary="Delete an address",
        description="When it was the head office, the oldest remaining address takes over.",
        parameters=[PARENT_ID, ADDRESS_ID],
        responses={204: None},
    ),
)
class AddressViewSet(IdempotentCreateMixin, RegistryViewSet):
    queryset = Address.objects.none()
    serializer_class = s.AddressSerializer
    create_serializer_class = s.AddressInputSerializer
    update_serializer_class = s.AddressInputSerializer
    bodyless_actions = ("destroy", "make_head_office")

    def get_queryset(self):
        return self.get_customer().addresses.all()

    def get_object(self) -> Address:
        return get_by_path_id(self.get_queryset(), self.kwargs["address_id"])

    def perform_create(self, data) -> Address:
        return address_add(
            customer=self.get_customer(), actor=self.actor, user=self.request.user, **data
        )

    def perform_update(self, address, data) -> Address:
        return address_update(address=address, actor=self.actor, user=self.request.user, **data)

    def perform_destroy(self, address) -> None:
        address_delete(address=address, actor=self.actor, user=self.request.user)

    @extend_schema(
        summary="Make this address the head office",
        description="The previous head office stays as an ordinary address.",
        parameters=[PARENT_ID, ADDRESS_ID],
        request=None,
        responses=s.AddressSerializer,
    )
    def make_head_office(self, request, *args, **kwargs):
        address = head_office_change(
            address=self.get_object(), actor=self.actor, user=self.request.user
        )
        return self.render(address)


# ---------------------------------------------------------------------------
# Consignees


@extend_schema_view(
    list=extend_schema(
        summary="A customer's consignees (goods receivers)",
        parameters=[PARENT_ID],
        responses=s.ConsigneeSerializer(many=True),
    ),
    create=extend_schema(
        summary="Add a consignee",
        parameters=[PARENT_ID, IDEMPOTENCY_KEY],
        request=s.ConsigneeCreateSerializer,
        responses={201: s.ConsigneeSerializer},
    ),
    retrieve=extend_schema(
        **conditional(
            CONDITIONAL_READ, parameters=[PARENT_ID, CONSIGNEE_ID], responses=s.ConsigneeSerializer
        )
    ),
    partial_update=extend_schema(
        request=s.ConsigneeUpdateSerializer,
        **conditional(
            CONDITIONAL_WRITE,
            parameters=[PARENT_ID, CONSIGNEE_ID],
            responses=s.ConsigneeSerializer,
        ),
    ),
    destroy=extend_schema(parameters=[PARENT_ID, CONSIGNEE_ID], responses={204: None}),
)
class ConsigneeViewSet(IdempotentCreateMixin, RegistryViewSet):
    queryset = Consignee.objects.none()
    serializer_class = s.ConsigneeSerializer
    create_serializer_class = s.ConsigneeCreateSerializer
    update_serializer_class = s.ConsigneeUpdateSerializer

    def get_queryset(self):
        return self.get_customer().consignees.all()

    def get_object(self) -> Consignee:
        return get_by_path_id(self.get_queryset(), self.kwargs["consignee_id"])

    def perform_create(self, data) -> Consignee:
        return consignee_create(
            customer=self.get_customer(), actor=self.actor, user=self.request.user, **data
        )

    def perform_update(self, consignee, data) -> Consignee:
        return consignee_update(
            consignee=consignee, actor=self.actor, user=self.request.user, **data
        )

    def perform_destroy(self, consignee) -> None:
        consignee_delete(consignee=consignee, actor=self.actor, user=self.request.user)
