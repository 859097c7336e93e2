"""The consent REST API (docs/api.md): request consent, read requests, record POS decisions,
the current terms, and a receipt per decision. Reads need customers:read, writes consent:write;
publishing terms consent:admin (for a browser session: the right to edit consent terms).

Product conditions are their own problem types (config.api.ProductCondition, 422), so a
client can branch on them: ``sms-not-enabled``, ``sms-limit-reached``, ``no-consent-terms``
and ``no-address`` (the customer has no email or mobile for the channel).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from config.api import IdempotentCreateMixin, ProductCondition
from customers.api import (
    CONDITIONAL_READ,
    IDEMPOTENCY_KEY,
    PARENT_ID,
    RegistryViewSet,
    conditional,
)
from customers.serializers import MAX_ID
from notifications.selectors import notification_settings
from notifications.services import SmsCapReached, SmsNotEnabled
from tenancy.client_ip import client_ip

from . import selectors
from . import serializers as s
from .models import ConsentDecision, ConsentRequest, ConsentTerms
from .receipts import consent_receipt
from .services import (
    NoAddressError,
    NoTermsError,
    OpenRequestExists,
    consent_record,
    consent_request_create,
    consent_terms_publish,
)

ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


class Unprocessable(exceptions.ValidationError):
    """The customer has no email or mobile number for the channel (``errors`` names it)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    problem_kind = "no-address"
    title = gettext_lazy("No address for this channel")


def no_consent_terms(language: str, *, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY):
    problem = ProductCondition(
        kind="no-consent-terms",
        title=_("No consent text in this language"),
        detail=_(
            "No consent text is published in %(language)s yet. An administrator can publish "
            "one (POST /api/v1/consent-terms/)."
        )
        % {"language": language},
    )
    problem.status_code = status_code
    return problem


def sms_not_enabled(exc: SmsNotEnabled) -> ProductCondition:
    return ProductCondition(
        kind="sms-not-enabled",
        title=_("SMS is not enabled for the company"),
        detail=exc.messages[0],
    )


def sms_limit_reached(exc: SmsCapReached) -> ProductCondition:
    return ProductCondition(
        kind="sms-limit-reached",
        title=_("The company's monthly SMS limit is reached"),
        detail=exc.messages[0],
    )


class RequestOpen(exceptions.APIException):
    """409: the customer already has a request waiting for an answer; nothing was sent.
    The problem names it (``request_id``) and shows it (``request``)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "consent-request-open"  # the problem type's last part
    title = gettext_lazy("A consent request is already open")

    def __init__(self, exc: OpenRequestExists):
        super().__init__(exc.messages[0])
        # Extra members of the problem (config.api_errors).
        self.problem_extra = {
            "request_id": exc.request.pk,
            "request": s.ConsentRequestSerializer(exc.request).data,
        }


OPEN_REQUEST = OpenApiResponse(
    description="The customer already has a request waiting for an answer (sent, not yet "
    "answered or expired): no second message is sent. The problem's `type` ends in "
    "`/problems/consent-request-open`; `request_id` names the open request and `request` "
    "shows it (as `GET /consent-requests/{id}/` would). Also 409 when an `Idempotency-Key` "
    "is reused with another body (`type` ending in `/problems/idempotency-conflict`)."
)

PRODUCT_CONDITIONS = OpenApiResponse(
    description="The request is valid but the company's setup does not allow it; the "
    "problem's `type` ends in `/problems/<kind>`: `no-address` (the customer has no email "
    "or mobile number for the channel; `errors` names `channel`), `sms-not-enabled` (the "
    "company does not subscribe to SMS), `sms-limit-reached` (this month's SMS are used up), "
    "`no-consent-terms` (no consent text is published in the language)."
)


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
        responses={202: s.ConsentRequestSerializer, 409: OPEN_REQUEST, 422: PRODUCT_CONDITIONS},
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
        except NoTermsError:
            language = data.get("language") or self.get_customer().language
            raise no_consent_terms(language or self.tenant.default_language) from None
        except SmsNotEnabled as exc:
            raise sms_not_enabled(exc) from None
        except SmsCapReached as exc:
            raise sms_limit_reached(exc) from None
        except OpenRequestExists as exc:
            raise RequestOpen(exc) from None
        return consent_request

    @extend_schema(
        summary="A consent request and its status",
        **conditional(CONDITIONAL_READ, parameters=[ID], responses=s.ConsentRequestSerializer),
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
    queryset = ConsentTerms.objects.none()
    serializer_class = s.ConsentTermsSerializer
    create_serializer_class = s.ConsentTermsPublishSerializer
    required_scopes = {"read": "customers:read", "write": "consent:admin"}
    query_params = {"current": s.TermsParamsSerializer}

    @extend_schema(
        summary="The consent text a POS shows before asking",
        description="404 with the problem type `no-consent-terms` when no text is published "
        "in the language.",
        parameters=[s.TermsParamsSerializer],
        responses=s.ConsentTermsSerializer,
    )
    def current(self, request, *args, **kwargs):
        params = s.TermsParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        language = params.validated_data.get("language") or self.tenant.default_language
        terms = selectors.terms_current(language=language)
        if terms is None:
            raise no_consent_terms(language, status_code=status.HTTP_404_NOT_FOUND)
        return self.render(terms)

    @extend_schema(
        summary="Publish a new version of the consent text",
        description="The next version in the language, 201. The same text as the current "
        "version publishes nothing and answers that version, 200. Scope `consent:admin`.",
        request=s.ConsentTermsPublishSerializer,
        responses={200: s.ConsentTermsSerializer, 201: s.ConsentTermsSerializer},
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_create(self, data) -> ConsentTerms:
        before = selectors.terms_current(language=data["language"])
        terms = consent_terms_publish(
            language=data["language"], text=data["text"], actor=self.actor
        )
        if before is not None and before.pk == terms.pk:
            self.created_status = status.HTTP_200_OK
        return terms


class ConsentSettingsViewSet(ConsentViewSet):
    queryset = ConsentTerms.objects.none()
    serializer_class = s.ConsentSettingsSerializer

    @extend_schema(
        summary="What a client needs before asking for consent",
        description="The channels a request may go by (email always, SMS when the company "
        "subscribes to it), the company's languages and the consent text published in each.",
        responses=s.ConsentSettingsSerializer,
    )
    def retrieve(self, request, *args, **kwargs):
        tenant = self.tenant
        settings = {
            "channels": {"email": True, "sms": notification_settings().sms_enabled},
            "languages": list(tenant.languages),
            "default_language": tenant.default_language,
            "terms": [versions[0] for versions in selectors.terms_history().values()],
            "request_valid_days": selectors.request_valid_days(),
        }
        return self.render(settings)


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
