"""/api/v1/ routes of reports (docs/api.md)."""

from django.urls import path

from .api import CustomerExportView

urlpatterns = [
    path("customers/<id>/export/", CustomerExportView.as_view(), name="api-customer-export"),
]
