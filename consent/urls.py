from django.urls import path

from . import views, views_card

urlpatterns = [
    path("", views.terms_edit, name="consent-terms"),
    # The consent panel on the customer card (consent.views_card): /settings/consent/customers/…
    path(
        "customers/<int:pk>/request/",
        views_card.consent_request_send,
        name="consent-card-request",
    ),
    path(
        "customers/<int:pk>/record/",
        views_card.consent_record_manual,
        name="consent-card-record",
    ),
    path(
        "customers/<int:pk>/refresh/",
        views_card.consent_refresh_customer,
        name="consent-card-refresh",
    ),
    path(
        "customers/<int:pk>/decisions/<int:decision_pk>/receipt/",
        views_card.consent_receipt_download,
        name="consent-card-receipt",
    ),
]
