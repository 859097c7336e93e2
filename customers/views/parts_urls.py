"""The card's parts, under /customers/ (the card shell at <pk>/ links to the first four)."""

from django.urls import path

from . import parts

urlpatterns = [
    # Keys and cards: customer keys, contact keys, predefined designations, ID cards
    path("<int:pk>/keys/", parts.customer_keys, name="customer-keys"),
    path("<int:pk>/keys/add/", parts.key_add, name="customer-key-add"),
    path(
        "<int:pk>/keys/<int:key_pk>/remove/",
        parts.customer_key_remove,
        name="customer-key-remove",
    ),
    path(
        "<int:pk>/keys/contact-keys/<int:key_pk>/remove/",
        parts.contact_key_remove,
        name="contact-key-remove",
    ),
    path("<int:pk>/designations/add/", parts.designation_add, name="designation-add"),
    path(
        "<int:pk>/designations/<int:designation_pk>/remove/",
        parts.designation_remove,
        name="designation-remove",
    ),
    path("<int:pk>/id-cards/new/", parts.id_card_edit, name="id-card-create"),
    path("<int:pk>/id-cards/<int:card_pk>/", parts.id_card_edit, name="id-card-edit"),
    path("<int:pk>/id-cards/<int:card_pk>/delete/", parts.id_card_delete, name="id-card-delete"),
    path("key-types/", parts.key_type_rules, name="key-type-rules"),
    path("key-types/<int:entry_pk>/", parts.key_type_rules, name="key-type-rule-edit"),
    # Files and links
    path("<int:pk>/files/", parts.customer_files, name="customer-files"),
    path("<int:pk>/files/upload/", parts.file_add, name="customer-file-add"),
    path("<int:pk>/files/link/", parts.link_add, name="customer-link-add"),
    path(
        "<int:pk>/files/<int:attachment_pk>/download/",
        parts.file_download,
        name="customer-file-download",
    ),
    path(
        "<int:pk>/files/<int:attachment_pk>/delete/",
        parts.attachment_delete,
        name="customer-file-delete",
    ),
    # The activity feed
    path("<int:pk>/activities/", parts.customer_activities, name="customer-activities"),
    path("<int:pk>/activities/add/", parts.activity_add, name="customer-activity-add"),
    path(
        "<int:pk>/activities/<int:activity_pk>/complete/",
        parts.activity_complete,
        name="customer-activity-complete",
    ),
    path(
        "<int:pk>/activities/<int:activity_pk>/reopen/",
        parts.activity_reopen,
        name="customer-activity-reopen",
    ),
    path(
        "<int:pk>/activities/<int:activity_pk>/delete/",
        parts.activity_delete,
        name="customer-activity-delete",
    ),
    # Update from the business registry (Norway, Finland)
    path(
        "<int:pk>/update-from-registry/",
        parts.registry_update,
        name="customer-registry-update",
    ),
]
