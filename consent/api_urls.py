"""/api/v1/ routes of consent (docs/api.md)."""

from django.urls import path

from .api import (
    ConsentReceiptViewSet,
    ConsentRequestViewSet,
    ConsentSettingsViewSet,
    ConsentTermsViewSet,
    CustomerConsentViewSet,
)

urlpatterns = [
    path(
        "customers/<customer_id>/consent-requests/",
        ConsentRequestViewSet.as_view({"post": "create"}),
        name="api-customer-consent-request-list",
    ),
    path(
        "consent-requests/<id>/",
        ConsentRequestViewSet.as_view({"get": "retrieve"}),
        name="api-consent-request-detail",
    ),
    path(
        "customers/<customer_id>/consent/",
        CustomerConsentViewSet.as_view({"get": "retrieve", "post": "create"}),
        name="api-customer-consent",
    ),
    path(
        "consent-terms/",
        ConsentTermsViewSet.as_view({"post": "create"}),
        name="api-consent-terms-list",
    ),
    path(
        "consent-settings/",
        ConsentSettingsViewSet.as_view({"get": "retrieve"}),
        name="api-consent-settings",
    ),
    path(
        "consent-terms/current/",
        ConsentTermsViewSet.as_view({"get": "current"}),
        name="api-consent-terms-current",
    ),
    path(
        "consent-decisions/<id>/receipt/",
        ConsentReceiptViewSet.as_view({"get": "receipt"}),
        name="api-consent-decision-receipt",
    ),
]
