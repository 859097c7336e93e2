from django.urls import path

from . import views_review

urlpatterns = [
    path("uncertain/", views_review.uncertain_list, name="notifications-uncertain"),
    path(
        "uncertain/<int:pk>/decide/",
        views_review.uncertain_decide,
        name="notifications-uncertain-decide",
    ),
]
