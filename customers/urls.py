from django.urls import include, path

urlpatterns = [
    path("", include("customers.views.lists_urls")),
    path("", include("customers.views.card_urls")),
    path("", include("customers.views.parts_urls")),
]
