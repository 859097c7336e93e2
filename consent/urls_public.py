"""/c/<token>: the customer's consent page (no login), and the company's look for it."""

from django.urls import path

from . import views_brand, views_public

urlpatterns = [
    path("brand/<slug:slug>.css", views_brand.brand_css, name="consent-brand-css"),
    path("brand/<slug:slug>/logo", views_brand.brand_logo, name="consent-brand-logo"),
    path("<str:token>", views_public.consent_page, name="consent-page"),
]
