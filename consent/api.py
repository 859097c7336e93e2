"""The consent REST API (API.md): request consent, read requests, record POS decisions,
the current terms, and a receipt per decision. Reads need customers:read, writes consent:write."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from config.api import IdempotentCreateMixin
from customers.api import IDEMPOTENCY_KEY, PARENT_ID, RegistryViewSet
from customers.serializers import MAX_ID
from tenancy.client_ip import client_ip

from . import selectors
from . import serializers as s
from .models import ConsentDecision, ConsentRequest
from .receipts import consent_receipt
from .services import NoAddressError, consent_record, consent_request_create

ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


class Unprocessable(exceptions.ValidationError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


def _get(queryset, raw):
    raw = str(raw)
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        raise NotFound()
    try:
        return queryset.get(pk=int(raw))
    except queryset.model.DoesNotExist:
        raise NotFound() from None


class ConsentViewSet(RegistryViewSet):
    required_scopes = {"read": "customers:read", "write": "consent:write"}


class ConsentRequestViewSet(IdempotentCreateMixin, ConsentViewSet):
    queryset = ConsentRequest.objects.none()
    serializer_class = s.ConsentRequestSerializer
    create_serializer_class = s.ConsentRequestCreateSerializer

    @extend_schema(
        summary="Ask a customer for consent (email or SMS)",
        parameters=[PARENT_ID, IDEMPOTENCY_KEY],
        request=s.ConsentRequestCreateSerializer,
        responses={
            202: s.ConsentRequestSerializer,
            422: OpenApiResponse(description="The customer has no address for the channel."),
        },
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, data) -> ConsentRequest:
        self.created_status = status.HTTP_202_ACCEPTED
        try:
            consent_request, _token = consent_request_create(
                customer=self.get_customer(),
                channel=data["channel"],
                language=data.get("language"),
                actor=self.actor,
            )
        except NoAddressError as exc:
            raise Unprocessable(exc.message_dict) from None
        return consent_request

    @extend_schema(
        summary="A consent request and its status",
        parameters=[ID],
        responses=s.ConsentRequestSerializer,
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def get_object(self) -> ConsentRequest:
        return _get(ConsentRequest.objects.select_related("terms"), self.kwargs["id"])


class CustomerConsentViewSet(IdempotentCreateMixin, ConsentViewSet):
    queryset = ConsentDecision.objects.none()
    serializer_class = s.ConsentStateSerializer
    create_serializer_class = s.ConsentDecisionCreateSerializer

    @extend_schema(
        summary="A customer's current consent",
        parameters=[PARENT_ID],
        responses=s.ConsentStateSerializer,
    )
    def retrieve(self, request, *args, **kwargs):
        return Response(s.ConsentStateSerializer(self._state()).data)

    def _state(self) -> dict:
        return selectors.consent_status_of(self.get_customer())

    @extend_schema(
        summary="Record a consent decision taken at the till (or by staff)",
        parameters=[PARENT_ID, IDEMPOTENCY_KEY],
        request=s.ConsentDecisionCreateSerializer,
        responses={201: s.ConsentRecordedSerializer},
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, data) -> ConsentDecision:
        ip = client_ip(self.request)
        return consent_record(
            customer=self.get_customer(),
            decision=data["decision"],
            method=data["method"],
            actor=self.actor,
            terms_version=data.get("terms_version"),
            language=data.get("language"),
            context=data.get("context") or {},
            how=data.get("how", ""),
            note=data.get("note", ""),
            ip=ip,
            user_agent=self.request.META.get("HTTP_USER_AGENT", ""),
        )

    def render(self, instance, status_code=status.HTTP_200_OK) -> Response:
        body = dict(s.ConsentStateSerializer(self._state()).data)
        body["decision"] = s.ConsentDecisionSerializer(instance).data
        return Response(body, status=status_code)


class ConsentTermsViewSet(ConsentViewSet):
    queryset = ConsentDecision.objects.none()
    serializer_class = s.ConsentTermsSerializer

    @extend_schema(
        summary="The consent text a POS shows before asking",
        parameters=[s.TermsParamsSerializer],
        responses=s.ConsentTermsSerializer,
    )
    def current(self, request, *args, **kwargs):
        params = s.TermsParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        language = params.validated_data.get("language") or self.tenant.default_language
        terms = selectors.terms_current(language=language)
        if terms is None:
            raise NotFound()
        return self.render(terms)


class ConsentReceiptViewSet(ConsentViewSet):
    queryset = ConsentDecision.objects.none()
    serializer_class = s.ConsentDecisionSerializer

    @extend_schema(
        summary="A decision's consent receipt (Kantara CR v1.1 / ISO/IEC TS 27560 fields)",
        parameters=[ID],
        responses={200: OpenApiTypes.OBJECT},
    )
    def receipt(self, request, *args, **kwargs):
        decision = _get(ConsentDecision.objects.select_related("customer"), self.kwargs["id"])
        response = Response(consent_receipt(decision, tenant=self.tenant))
        response["Content-Disposition"] = (
            f'attachment; filename="consent-receipt-{decision.receipt_id}.json"'
        )
        return response
