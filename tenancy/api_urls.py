from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import MeView, ReferenceEntryViewSet

router = SimpleRouter()
router.register("reference-entries", ReferenceEntryViewSet, basename="reference-entry")

urlpatterns = [path("me/", MeView.as_view(), name="api-me"), *router.urls]
