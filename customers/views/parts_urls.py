"""The card's parts, under /customers/ (the card shell at <pk>/ links to the first four)."""

from django.urls import path

from . import parts_activities, parts_files, parts_keys, parts_registry

urlpatterns = [
    # Keys and cards: customer keys, contact keys, predefined designations, ID cards
    path("<int:pk>/keys/", parts_keys.customer_keys, name="customer-keys"),
    path("<int:pk>/keys/add/", parts_keys.key_add, name="customer-key-add"),
    path(
        "<int:pk>/keys/<int:key_pk>/remove/",
        parts_keys.customer_key_remove,
        name="customer-key-remove",
    ),
    path(
        "<int:pk>/keys/contact-keys/<int:key_pk>/remove/",
        parts_keys.contact_key_remove,
        name="contact-key-remove",
    ),
    path("<int:pk>/designations/add/", parts_keys.designation_add, name="designation-add"),
    path(
        "<int:pk>/designations/<int:designation_pk>/remove/",
        parts_keys.designation_remove,
        name="designation-remove",
    ),
    path("<int:pk>/id-cards/new/", parts_keys.id_card_edit, name="id-card-create"),
    path("<int:pk>/id-cards/<int:card_pk>/", parts_keys.id_card_edit, name="id-card-edit"),
    path(
        "<int:pk>/id-cards/<int:card_pk>/delete/", parts_keys.id_card_delete, name="id-card-delete"
    ),
    path("key-types/", parts_keys.key_type_rules, name="key-type-rules"),
    path("key-types/<int:entry_pk>/", parts_keys.key_type_rules, name="key-type-rule-edit"),
    # Files and links
    path("<int:pk>/files/", parts_files.customer_files, name="customer-files"),
    path("<int:pk>/files/upload/", parts_files.file_add, name="customer-file-add"),
    path("<int:pk>/files/link/", parts_files.link_add, name="customer-link-add"),
    path(
        "<int:pk>/files/<int:attachment_pk>/download/",
        parts_files.file_download,
        name="customer-file-download",
    ),
    path(
        "<int:pk>/files/<int:attachment_pk>/delete/",
        parts_files.attachment_delete,
        name="customer-file-delete",
    ),
    # The activity feed
    path("<int:pk>/activities/", parts_activities.customer_activities, name="customer-activities"),
    path("<int:pk>/activities/add/", parts_activities.activity_add, name="customer-activity-add"),
    path(
        "<int:pk>/activities/<int:activity_pk>/complete/",
        parts_activities.activity_complete,
        name="customer-activity-complete",
    ),
    path(
        "<int:pk>/activities/<int:activity_pk>/reopen/",
        parts_activities.activity_reopen,
        name="customer-activity-reopen",
    ),
    path(
        "<int:pk>/activities/<int:activity_pk>/delete/",
        parts_activities.activity_delete,
        name="customer-activity-delete",
    ),
    # Update from the business registry (Norway, Finland)
    path(
        "<int:pk>/update-from-registry/",
        parts_registry.registry_update,
        name="customer-registry-update",
    ),
]
