"""/api/v1/ routes of sales documents (docs/api.md)."""

from django.urls import path

from .api import SalesDocumentViewSet

urlpatterns = [
    path(
        "sales-documents/",
        SalesDocumentViewSet.as_view({"get": "list", "post": "create"}),
        name="api-sales-document-list",
    ),
    path(
        "sales-documents/<id>/",
        SalesDocumentViewSet.as_view({"get": "retrieve"}),
        name="api-sales-document-detail",
    ),
]
