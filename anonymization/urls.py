from django.urls import path

from . import views

urlpatterns = [
    path("", views.retention_settings, name="retention-settings"),
]
