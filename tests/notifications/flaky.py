"""An SMS backend that fails transiently a set number of times, then sends (for retry tests)."""

from __future__ import annotations

from notifications.backends import SendError
from notifications.backends.locmem import LocmemBackend

failures_left = 0
calls = 0


class FlakyBackend(LocmemBackend):
    provider = "flaky"

    def send(self, **kwargs) -> str:
        global failures_left, calls
        calls += 1
        if failures_left > 0:
            failures_left -= 1
            raise SendError("503 try later", permanent=False, code="503")
        return super().send(**kwargs)
