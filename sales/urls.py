from django.urls import path

from . import views

urlpatterns = [
    path("customers/<int:pk>/", views.customer_sales, name="customer-sales"),
]
