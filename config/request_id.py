"""A request id on every log line of a request, and on its response (X-Request-ID).

The proxy's id is kept when it sends a sane one, so its access log and ours join; otherwise
a new one is made. Anything else in the header (long, odd characters) is not trusted into
the logs.
"""

from __future__ import annotations

import re
import uuid

from config.logging import request_id_var

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,128}")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request_id = given if _SANE.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response
