"""Tests: messages go to ``outbox``, a module-level list (like Django's mail.outbox)."""

from __future__ import annotations

import itertools

from .base import BaseSmsBackend, SmsStatus

outbox: list[dict] = []
_ids = itertools.count(1)


class LocmemBackend(BaseSmsBackend):
    provider = "locmem"

    def send(
        self, *, to: str, body: str, sender: str = "", status_callback: str = "", key: str = ""
    ) -> str:
        provider_id = f"LM{next(_ids):08d}"
        outbox.append(
            {
                "id": provider_id,
                "key": key,
                "to": to,
                "body": body,
                "sender": sender,
                "status_callback": status_callback,
            }
        )
        return provider_id

    def fetch_status(self, provider_id: str) -> SmsStatus | None:
        return None

    def find(self, *, key: str, to: str, body: str, since) -> str | None:
        return next((m["id"] for m in outbox if key and m.get("key") == key), None)
