"""The customer card and creating a customer (included under /customers/)."""

from django.urls import path

from . import card

urlpatterns = [
    path("new/", card.customer_create, name="customer-create"),
    path("<int:pk>/", card.customer_card, name="customer-card"),
    path("<int:pk>/consignees/", card.customer_consignees, name="customer-consignees"),
    path("<int:pk>/history/", card.customer_history, name="customer-history"),
    path("<int:pk>/settings/", card.customer_settings, name="customer-settings"),
    path("<int:pk>/status/", card.customer_status, name="customer-status"),
    path("<int:pk>/delete/", card.customer_delete, name="customer-delete"),
    # Addresses
    path("<int:pk>/addresses/new/", card.address_create, name="customer-address-create"),
    path(
        "<int:pk>/addresses/head-office/",
        card.head_office_change,
        name="customer-head-office-change",
    ),
    path("<int:pk>/addresses/<int:address_pk>/", card.address_edit, name="customer-address-edit"),
    path(
        "<int:pk>/addresses/<int:address_pk>/delete/",
        card.address_delete,
        name="customer-address-delete",
    ),
    # Contacts
    path("<int:pk>/contacts/new/", card.contact_create, name="customer-contact-create"),
    path("<int:pk>/contacts/link/", card.contact_link, name="customer-contact-link"),
    path("<int:pk>/contacts/<int:contact_pk>/", card.contact_edit, name="customer-contact-edit"),
    path(
        "<int:pk>/contacts/<int:contact_pk>/active/",
        card.contact_active,
        name="customer-contact-active",
    ),
    path(
        "<int:pk>/contacts/<int:contact_pk>/delete/",
        card.contact_delete,
        name="customer-contact-delete",
    ),
    path(
        "<int:pk>/contacts/<int:contact_pk>/customers/",
        card.contact_link_customer,
        name="customer-contact-link-customer",
    ),
    path(
        "<int:pk>/contacts/<int:contact_pk>/unlink/",
        card.contact_unlink,
        name="customer-contact-unlink",
    ),
    # Consignees
    path("<int:pk>/consignees/new/", card.consignee_create, name="customer-consignee-create"),
    path(
        "<int:pk>/consignees/<int:consignee_pk>/",
        card.consignee_edit,
        name="customer-consignee-edit",
    ),
    path(
        "<int:pk>/consignees/<int:consignee_pk>/delete/",
        card.consignee_delete,
        name="customer-consignee-delete",
    ),
]
