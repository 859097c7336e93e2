"""Development: one JSON file per message under ``SMS_FILE_PATH`` (var/outbox/sms/)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .base import BaseSmsBackend


class FileBackend(BaseSmsBackend):
    provider = "file"

    def send(
        self, *, to: str, body: str, sender: str = "", status_callback: str = "", key: str = ""
    ) -> str:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        provider_id = f"FILE{uuid.uuid4().hex}"
        record = {
            "id": provider_id,
            "key": key,
            "to": to,
            "from": sender,
            "body": body,
            "status_callback": status_callback,
            "created_at": timezone.now().isoformat(),
        }
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        path = folder / f"{stamp}-{provider_id}.json"
        # Written whole under a temporary name, then renamed: find() never reads half a file.
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
        partial.rename(path)
        return provider_id

    def find(self, *, key: str, to: str, body: str, since) -> str | None:
        folder = Path(settings.SMS_FILE_PATH)
        if not key or not folder.is_dir():
            return None
        for path in folder.glob("*.json"):
            record = json.loads(path.read_text(encoding="utf-8"))
            if record.get("key") == key:
                return record["id"]
        return None
