from django.urls import path

from . import views

urlpatterns = [
    path("", views.endpoint_list, name="webhooks"),
    path("<int:pk>/", views.endpoint_detail, name="webhook-detail"),
    path("<int:pk>/toggle/", views.endpoint_toggle, name="webhook-toggle"),
    path("<int:pk>/rotate-secret/", views.endpoint_rotate, name="webhook-rotate"),
    path("<int:pk>/delete/", views.endpoint_delete, name="webhook-delete"),
    path(
        "<int:pk>/deliveries/<int:delivery_pk>/replay/",
        views.delivery_replay,
        name="webhook-replay",
    ),
]
