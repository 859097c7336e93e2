"""Answers the health probes before any other middleware (first in MIDDLEWARE).

A probe from inside the network (docker, a load balancer, Kubernetes) sends whatever Host
it likes and plain HTTP: ALLOWED_HOSTS would answer 400 and SECURE_SSL_REDIRECT 301. Only
GET and HEAD of exactly these paths are answered here; everything else goes on as usual.
"""

from __future__ import annotations

from config import health

PROBES = {"/livez": health.livez, "/readyz": health.readyz, "/healthz": health.healthz}


class HealthProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = PROBES.get(request.path_info)
        if view is not None and request.method in ("GET", "HEAD"):
            return view(request)
        return self.get_response(request)
