"""Settings → Numbering (included under /settings/numbering/)."""

from django.urls import path

from . import numbering

urlpatterns = [
    path("", numbering.numbering, name="numbering"),
]
