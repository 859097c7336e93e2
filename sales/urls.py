from django.urls import path

from . import views

urlpatterns = [
    path("", views.sales_list, name="sales-list"),
    path("import/", views.sales_import_upload, name="sales-import"),
    path("import/template.csv", views.sales_import_template, name="sales-import-template"),
    path("import/<slug:token>/", views.sales_import_confirm, name="sales-import-preview"),
    path("customers/<int:pk>/", views.customer_sales, name="customer-sales"),
]
