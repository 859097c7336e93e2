from django.urls import path

from . import views

urlpatterns = [
    path("", views.report_page, name="reports"),
    path("export/<str:fmt>/", views.report_export, name="report-export"),
    path("settings/", views.report_settings_page, name="report-settings"),
]
