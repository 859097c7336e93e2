from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import views
from config.api_docs import RedocView
from config.api_errors import api_not_found
from config.health import healthz, livez, readyz

api_v1 = [
    path("", include("tenancy.api_urls")),
    path("", include("audit.api_urls")),
    path("", include("customers.api_urls")),
    path("", include("consent.api_urls")),
    path("", include("sales.api_urls")),
    path("", include("anonymization.api_urls")),
    path("", include("reports.api_urls")),
    path("", include("webhooks.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("readyz", readyz, name="readyz"),
    path("accounts/", include("config.auth_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("settings/", include("tenancy.urls")),
    path("audit/", include("audit.urls")),
    path("customers/", include("customers.urls")),
    path("sales/", include("sales.urls")),
    path("reports/", include("reports.urls")),
    path("reports/", include("reports.urls_subject")),
    path("c/", include("consent.urls_public")),
    path("settings/consent/", include("consent.urls")),
    path("consent/customers/", include("consent.urls_card")),
    path("settings/retention/", include("anonymization.urls")),
    path("settings/sms/", include("notifications.urls_settings")),
    path("settings/numbering/", include("customers.views.numbering_urls")),
    path("settings/webhooks/", include("webhooks.urls")),
    path("anonymization/customers/", include("anonymization.urls_card")),
    path("anonymization/", include("anonymization.urls_page")),
    path("consent/", include("consent.urls_batches")),
    path("consent/", include("consent.urls_replies")),
    path("hooks/", include("notifications.urls")),
    path("messages/", include("notifications.urls_review")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", RedocView.as_view(url_name="api-schema"), name="api-redoc"),
    re_path(r"^api/", api_not_found),
]

# No /media/ URL, not even in DEBUG: stored files are served by permission-checking views.
