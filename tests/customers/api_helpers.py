"""Requests and problem answers of the customer API, shared by its test modules."""

from __future__ import annotations

import json

URL = "/api/v1/customers/"
PROBLEM = "application/problem+json"


def send(client, method, url, body=None, **headers):
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(url, data, content_type="application/json", **headers)


def errors(response) -> dict[str, str]:
    assert response.status_code == 400, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    return {e["field"]: e["message"] for e in response.json()["errors"]}
