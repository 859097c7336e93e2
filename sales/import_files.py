"""Where an uploaded CSV waits between the import's preview and its confirmation.

The file stays on the server (``MEDIA_ROOT/imports/<tenant>/<token>.csv``); the browser only
holds a random token, and the token counts only in the session that uploaded it. The
confirmation checks the stored file again, so nothing the client sends is trusted.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from django.conf import settings

SESSION_KEY = "sales_import"
ABANDONED_AFTER = 24 * 3600  # seconds: an upload nobody confirmed by then is removed


def _path(tenant_id: int, token: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / str(tenant_id) / f"{token}.csv"


def _valid(token: str) -> bool:
    return 16 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


def import_file_store(*, session, tenant_id: int, data: bytes) -> str:
    """Keep ``data`` for this session and tenant; a previous upload of the session goes."""
    import_file_discard(session=session)
    _sweep(tenant_id)
    token = secrets.token_urlsafe(24)
    path = _path(tenant_id, token)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    session[SESSION_KEY] = {"tenant": tenant_id, "token": token}
    return token


def import_file_load(*, session, tenant_id: int, token: str) -> bytes | None:
    """The stored upload, or None unless this session uploaded it in this tenant."""
    held = session.get(SESSION_KEY) or {}
    if held.get("tenant") != tenant_id or held.get("token") != token or not _valid(token):
        return None
    try:
        return _path(tenant_id, token).read_bytes()
    except FileNotFoundError:
        return None


def import_file_discard(*, session) -> None:
    """Remove the session's waiting upload (in whichever tenant it was made)."""
    held = session.pop(SESSION_KEY, None) or {}
    token, held_tenant = held.get("token", ""), held.get("tenant")
    if isinstance(held_tenant, int) and isinstance(token, str) and _valid(token):
        _path(held_tenant, token).unlink(missing_ok=True)


def _sweep(tenant_id: int) -> None:
    """Remove the tenant's uploads that were previewed but never confirmed nor replaced."""
    folder = _path(tenant_id, "x").parent
    if not folder.is_dir():
        return
    limit = time.time() - ABANDONED_AFTER
    for path in folder.glob("*.csv"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except FileNotFoundError:
            pass
