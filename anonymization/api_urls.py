"""/api/v1/ routes of anonymization (docs/api.md)."""

from django.urls import path

from .api import AnonymizationRunViewSet, EligibilityViewSet

urlpatterns = [
    path(
        "anonymization-runs/",
        AnonymizationRunViewSet.as_view({"get": "list"}),
        name="api-anonymization-run-list",
    ),
    path(
        "anonymization-runs/<id>/",
        AnonymizationRunViewSet.as_view({"get": "retrieve"}),
        name="api-anonymization-run-detail",
    ),
    path(
        "eligibility/",
        EligibilityViewSet.as_view({"get": "list"}),
        name="api-eligibility-list",
    ),
    path(
        "customers/<id>/eligibility/",
        EligibilityViewSet.as_view({"get": "retrieve"}),
        name="api-eligibility-detail",
    ),
]
