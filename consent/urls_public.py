"""/c/<token>: the customer's consent page (no login)."""

from django.urls import path

from . import views_public

urlpatterns = [
    path("<str:token>", views_public.consent_page, name="consent-page"),
]
