"""A local stand-in for Twilio's REST API: it answers "create message" like Twilio, after a delay.

The benchmarks run the real ``twilio`` library against it (``fanout_worker`` points the
library's HTTP client here), so what is measured is our code, the library and one HTTP
round trip of a realistic length — not a mock of our own code.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class _Handler(BaseHTTPRequestHandler):
    server: FakeTwilioServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        time.sleep(self.server.latency)
        sid = "SM" + uuid.uuid4().hex
        body = json.dumps(
            {
                "sid": sid,
                "status": "queued",
                "to": form.get("To", [""])[0],
                "messaging_service_sid": form.get("MessagingServiceSid", [None])[0],
                "num_segments": "1",
                "error_code": None,
                "error_message": None,
            }
        ).encode()
        self.server.count()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


class FakeTwilioServer(ThreadingHTTPServer):
    """``with FakeTwilioServer(latency=0.05) as fake: fake.url``; ``fake.received`` counts."""

    daemon_threads = True

    def __init__(self, *, latency: float = 0.05) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.latency = latency
        self.received = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def count(self) -> None:
        with self._lock:
            now = time.perf_counter()
            self.received += 1
            self.first_at = self.first_at or now
            self.last_at = now

    def reset(self) -> None:
        with self._lock:
            self.received, self.first_at, self.last_at = 0, None, None

    def __enter__(self) -> FakeTwilioServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
