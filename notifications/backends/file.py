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

    def send(self, *, to: str, body: str, sender: str = "", status_callback: str = "") -> str:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        provider_id = f"FILE{uuid.uuid4().hex}"
        record = {
            "id": provider_id,
            "to": to,
            "from": sender,
            "body": body,
            "status_callback": status_callback,
            "created_at": timezone.now().isoformat(),
        }
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        path = folder / f"{stamp}-{provider_id}.json"
        path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
        return provider_id
