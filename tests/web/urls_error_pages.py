"""The site's URLs plus test-only views that fail in each of the ways Django turns into
an error page (400, 403, 404, 500). Used by tests/web/test_error_pages.py; never part of the app.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


def bad_request(request):
    raise SuspiciousOperation("a test's bad request")


def forbidden(request):
    raise PermissionDenied


def not_found(request):
    raise Http404


def crash(request):
    raise RuntimeError("a test's unexpected failure")


urlpatterns = [
    path("__tests__/error/400/", bad_request),
    path("__tests__/error/403/", forbidden),
    path("__tests__/error/404/", not_found),
    path("__tests__/error/500/", crash),
    *site_urlpatterns,
]
