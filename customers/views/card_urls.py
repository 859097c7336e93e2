"""The customer card and creating a customer (included under /customers/)."""

from django.urls import path

from . import card_addresses, card_consignees, card_contact, card_customer, card_history

urlpatterns = [
    path("new/", card_customer.customer_create, name="customer-create"),
    path("<int:pk>/", card_contact.customer_card, name="customer-card"),
    path("<int:pk>/consignees/", card_consignees.customer_consignees, name="customer-consignees"),
    path("<int:pk>/history/", card_history.customer_history, name="customer-history"),
    path("<int:pk>/settings/", card_customer.customer_settings, name="customer-settings"),
    path("<int:pk>/status/", card_customer.customer_status, name="customer-status"),
    path("<int:pk>/delete/", card_customer.customer_delete, name="customer-delete"),
    # Addresses
    path("<int:pk>/addresses/new/", card_addresses.address_create, name="customer-address-create"),
    path(
        "<int:pk>/addresses/head-office/",
        card_addresses.head_office_change,
        name="customer-head-office-change",
    ),
    path(
        "<int:pk>/addresses/<int:address_pk>/",
        card_addresses.address_edit,
        name="customer-address-edit",
    ),
    path(
        "<int:pk>/addresses/<int:address_pk>/delete/",
        card_addresses.address_delete,
        name="customer-address-delete",
    ),
    # Contacts
    path("<int:pk>/contacts/new/", card_contact.contact_create, name="customer-contact-create"),
    path("<int:pk>/contacts/link/", card_contact.contact_link, name="customer-contact-link"),
    path(
        "<int:pk>/contacts/<int:contact_pk>/",
        card_contact.contact_edit,
        name="customer-contact-edit",
    ),
    path(
        "<int:pk>/contacts/<int:contact_pk>/active/",
        card_contact.contact_active,
        name="customer-contact-active",
    ),
    path(
        "<int:pk>/contacts/<int:contact_pk>/delete/",
        card_contact.contact_delete,
        name="customer-contact-delete",
    ),
    path(
        "<int:pk>/contacts/<int:contact_pk>/customers/",
        card_contact.contact_link_customer,
        name="customer-contact-link-customer",
    ),
    path(
        "<int:pk>/contacts/<int:contact_pk>/unlink/",
        card_contact.contact_unlink,
        name="customer-contact-unlink",
    ),
    # Consignees
    path(
        "<int:pk>/consignees/new/",
        card_consignees.consignee_create,
        name="customer-consignee-create",
    ),
    path(
        "<int:pk>/consignees/<int:consignee_pk>/",
        card_consignees.consignee_edit,
        name="customer-consignee-edit",
    ),
    path(
        "<int:pk>/consignees/<int:consignee_pk>/delete/",
        card_consignees.consignee_delete,
        name="customer-consignee-delete",
    ),
]
