"""The consent panel's actions on a customer card (consent.views_card): /consent/customers/…"""

from django.urls import path

from . import views_card

urlpatterns = [
    path(
        "<int:pk>/request/",
        views_card.consent_request_send,
        name="consent-card-request",
    ),
    path(
        "<int:pk>/record/",
        views_card.consent_record_manual,
        name="consent-card-record",
    ),
    path(
        "<int:pk>/refresh/",
        views_card.consent_refresh_customer,
        name="consent-card-refresh",
    ),
    path(
        "<int:pk>/decisions/<int:decision_pk>/receipt/",
        views_card.consent_receipt_download,
        name="consent-card-receipt",
    ),
]
