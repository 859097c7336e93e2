"""The Anonymization page: /anonymization/"""

from django.urls import path

from . import views_page

urlpatterns = [
    path("", views_page.anonymization_page, name="anonymization"),
]
