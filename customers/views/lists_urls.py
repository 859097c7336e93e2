from django.urls import path

from . import lists, picker

urlpatterns = [
    path("", lists.customer_list_view, name="customer-list"),
    path("pick/", picker.customer_pick_view, name="customer-pick"),
    path("export/<str:fmt>/", lists.customer_export, name="customer-export"),
    path("selection/", lists.selection_view, name="customer-selection"),
    path("selection/add/", lists.selection_add_view, name="customer-selection-add"),
    path("selection/remove/", lists.selection_remove_view, name="customer-selection-remove"),
    path("selection/clear/", lists.selection_clear_view, name="customer-selection-clear"),
    path("selection/export/<str:fmt>/", lists.selection_export, name="customer-selection-export"),
    path("lists/", lists.saved_list_save_view, name="customer-saved-list-save"),
    path("lists/<int:pk>/", lists.saved_list_open, name="customer-saved-list"),
    path("lists/<int:pk>/delete/", lists.saved_list_delete_view, name="customer-saved-list-delete"),
]
