"""Consent to many customers at once, the re-consent list and "Update consent" (/consent/…)."""

from django.urls import path

from . import views_batches as v

urlpatterns = [
    path("batches/", v.batch_list, name="consent-batches"),
    path("batches/new/", v.batch_new, name="consent-batch-new"),
    path("batches/<int:pk>/", v.batch_detail, name="consent-batch"),
    path("batches/<int:pk>/unreachable/", v.batch_unreachable, name="consent-batch-unreachable"),
    path(
        "batches/<int:pk>/unreachable/export/<str:fmt>/",
        v.batch_unreachable_export,
        name="consent-batch-unreachable-export",
    ),
    path("reconsent/", v.reconsent_list, name="consent-reconsent"),
    path("refresh/", v.consent_refresh_view, name="consent-refresh"),
]
