"""The site's URLs plus two test-only views that write, then answer 500 without raising.

Used by tests/web/test_rollback_on_500.py (``@pytest.mark.urls``); never part of the app.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as site_urlpatterns
from tenancy.context import current_tenant
from tenancy.models import ReferenceEntry

MARK = "written-before-the-500"


def _write(status: int) -> tuple[int, str]:
    """One tenant-owned row and one platform row; what was written goes in a header."""
    if current_tenant() is None:
        return 409, "no tenant active"  # the test fails loudly rather than pass vacuously
    ReferenceEntry.objects.create(register="district", code=MARK, name=MARK)
    get_user_model().objects.create(username=MARK)
    return status, "entry,user"


def write_then_answer(request, status: int):
    status, wrote = _write(status)
    response = HttpResponse(b"written", status=status, content_type="text/plain")
    response["X-Wrote"] = wrote
    return response


class WriteThenAnswerApi(APIView):
    def post(self, request, status: int):
        status, wrote = _write(status)
        return Response({"wrote": wrote}, status=status, headers={"X-Wrote": wrote})


urlpatterns = [
    path("__tests__/write-then/<int:status>/", write_then_answer),
    path("__tests__/api/write-then/<int:status>/", WriteThenAnswerApi.as_view()),
    *site_urlpatterns,
]
