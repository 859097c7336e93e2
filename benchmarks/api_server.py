"""The product's WSGI application for the API latency benchmark, served by gunicorn.

    BENCH_DB_NAME=<db> gunicorn benchmarks.api_server:application ...

It is ``config.wsgi``'s application with two differences: the database is the benchmark's
throwaway one, and one URL more, ``/bench/bare/``, a bare DRF view (no authentication,
permission, throttle or database) answering a small JSON body. That view goes through
the same gunicorn worker, middleware and DRF renderer, so the product's calls measured
against it show what the product itself adds on top of the framework.
"""

from __future__ import annotations

import os

import django
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
django.setup()

for _alias in ("default", "owner"):
    settings.DATABASES[_alias]["NAME"] = os.environ["BENCH_DB_NAME"]
settings.ROOT_URLCONF = "benchmarks.api_server"
if os.environ.get("BENCH_BROKER_URL"):
    from config.celery import app

    app.conf.broker_url = os.environ["BENCH_BROKER_URL"]

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import include, path  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402


class BareView(APIView):
    """DRF with nothing of ours: the baseline every product call is compared with."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    def get(self, request):
        return Response({"id": 1, "number": "1000", "name": "Bare"})

    def post(self, request):
        return Response({"id": 1, "status": "granted"}, status=201)


urlpatterns = [
    path("bench/bare/", BareView.as_view()),
    path("", include("config.urls")),
]

application = get_wsgi_application()
