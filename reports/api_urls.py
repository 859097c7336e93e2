"""/api/v1/ routes of reports (API.md)."""

from django.urls import path

from .api import CustomerExportView

urlpatterns = [
    path("customers/<id>/export/", CustomerExportView.as_view(), name="api-customer-export"),
]
