"""/api/v1/ routes of the registry (docs/api.md); nested registers hang under their customer."""

from django.urls import path

from .api import (
    AddressViewSet,
    ConsigneeViewSet,
    ContactCustomerViewSet,
    ContactViewSet,
    CustomerViewSet,
)
from .api_pick import CustomerPickViewSet

LIST = {"get": "list", "post": "create"}
DETAIL = {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}

urlpatterns = [
    path("customers/", CustomerViewSet.as_view(LIST), name="api-customer-list"),
    # Before customers/<id>/, which would take "pick" for an id.
    path("customers/pick/", CustomerPickViewSet.as_view({"get": "list"}), name="api-customer-pick"),
    path(
        "customers/<id>/",
        CustomerViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="api-customer-detail",
    ),
    path(
        "customers/<customer_id>/contacts/",
        ContactViewSet.as_view(LIST),
        name="api-customer-contact-list",
    ),
    path(
        "customers/<customer_id>/contacts/<contact_id>/",
        ContactViewSet.as_view(DETAIL),
        name="api-customer-contact-detail",
    ),
    path(
        "customers/<customer_id>/addresses/",
        AddressViewSet.as_view(LIST),
        name="api-customer-address-list",
    ),
    path(
        "customers/<customer_id>/addresses/<address_id>/",
        AddressViewSet.as_view(DETAIL),
        name="api-customer-address-detail",
    ),
    path(
        "customers/<customer_id>/addresses/<address_id>/make-head-office/",
        AddressViewSet.as_view({"post": "make_head_office"}),
        name="api-customer-address-make-head-office",
    ),
    path(
        "customers/<customer_id>/consignees/",
        ConsigneeViewSet.as_view(LIST),
        name="api-customer-consignee-list",
    ),
    path(
        "customers/<customer_id>/consignees/<consignee_id>/",
        ConsigneeViewSet.as_view(DETAIL),
        name="api-customer-consignee-detail",
    ),
    path(
        "contacts/<contact_id>/customers/",
        ContactCustomerViewSet.as_view({"post": "create"}),
        name="api-contact-customer-list",
    ),
    path(
        "contacts/<contact_id>/customers/<customer_id>/",
        ContactCustomerViewSet.as_view({"delete": "destroy"}),
        name="api-contact-customer-detail",
    ),
]
