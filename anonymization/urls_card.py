"""The legal-hold and anonymization panels' actions on a customer card:
/anonymization/customers/…"""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:pk>/anonymize/", views.anonymize_view, name="anonymize-customer"),
    path("<int:pk>/legal-hold/", views.legal_hold_set_view, name="legal-hold-set"),
    path(
        "<int:pk>/legal-hold/<int:hold_pk>/lift/",
        views.legal_hold_lift_view,
        name="legal-hold-lift",
    ),
]
