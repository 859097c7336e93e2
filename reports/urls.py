from django.urls import path

from . import views, views_audit, views_exports

urlpatterns = [
    path("", views.report_page, name="reports"),
    path("export/<str:fmt>/", views.report_export, name="report-export"),
    path("settings/", views.report_settings_page, name="report-settings"),
    path("audit-log/export/", views_audit.audit_log_export, name="audit-export"),
    path("exports/<int:pk>/", views_exports.export_job_page, name="report-export-job"),
    path(
        "exports/<int:pk>/download/",
        views_exports.export_job_download,
        name="report-export-download",
    ),
]
