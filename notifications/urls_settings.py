"""Settings → SMS (included under /settings/sms/): settings.edit."""

from django.urls import path

from . import views_settings

urlpatterns = [
    path("", views_settings.sms_settings, name="sms-settings"),
]
