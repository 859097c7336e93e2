"""A plain HTTP client for scripts/prod_smoke.sh: what a reverse proxy and an integrator send.

    smoke_http.py [--wait SECONDS] [--key KEY] [--post JSON] [--header "Name: value"]
                  [--status CODE] [--field NAME] URL

Requests carry ``X-Forwarded-Proto: https`` as the TLS-terminating proxy's would (production
settings redirect plain HTTP). Prints the body, or one field of a JSON body; exits 1 when
the status is not the expected one (200, or 201 for a POST without --status).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--wait", type=float, default=0)
    parser.add_argument("--key")
    parser.add_argument("--post")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--status", type=int)
    parser.add_argument("--field")
    args = parser.parse_args()
    expected = args.status or (201 if args.post is not None else 200)
    headers = {"X-Forwarded-Proto": "https", "Accept": "application/json"}
    if args.key:
        headers["Authorization"] = f"Api-Key {args.key}"
    if args.post is not None:
        headers["Content-Type"] = "application/json"
    for header in args.header:
        name, _sep, value = header.partition(":")
        headers[name.strip()] = value.strip()
    data = args.post.encode() if args.post is not None else None
    deadline = time.monotonic() + args.wait
    while True:
        status, body = _request(args.url, data, headers)
        if status == expected or time.monotonic() >= deadline:
            break
        time.sleep(1)
    if status != expected:
        print(f"{args.url}: {status}, expected {expected}\n{body[:2000]}", file=sys.stderr)
        return 1
    print(json.loads(body)[args.field] if args.field else body)
    return 0


def _request(url: str, data: bytes | None, headers: dict) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - ours
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own URL
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:  # not listening yet
        return 0, str(error)


if __name__ == "__main__":
    sys.exit(main())
