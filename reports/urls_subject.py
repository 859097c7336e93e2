"""The data-subject access export of a customer (included under /reports/)."""

from django.urls import path

from . import views_subject

urlpatterns = [
    path(
        "customers/<int:pk>/personal-data.<str:fmt>",
        views_subject.customer_personal_data,
        name="customer-personal-data",
    ),
]
