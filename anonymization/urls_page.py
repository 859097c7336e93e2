"""The Anonymization page and its runs: /anonymization/"""

from django.urls import path, re_path

from . import views_deletion, views_page, views_runs

urlpatterns = [
    path("", views_page.anonymization_page, name="anonymization"),
    path("runs/", views_runs.run_list, name="anonymization-runs"),
    path("runs/start/", views_runs.run_start, name="anonymization-run-start"),
    path("runs/<int:pk>/", views_runs.run_detail, name="anonymization-run"),
    re_path(
        r"^runs/(?P<pk>[0-9]+)/report\.(?P<fmt>json|pdf)$",
        views_runs.run_report,
        name="anonymization-run-report",
    ),
    path("deletion/", views_deletion.deletion_page, name="deletion"),
    path("deletion/start/", views_deletion.deletion_start, name="deletion-start"),
    path("deletion/runs/", views_deletion.deletion_run_list, name="deletion-runs"),
    path("deletion/runs/<int:pk>/", views_deletion.deletion_run_detail, name="deletion-run"),
]
