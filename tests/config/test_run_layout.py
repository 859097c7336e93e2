"""Every process of `make run` builds links to the web server's port (honcho, real Procfile
layout: each process gets its own PORT, and links must not follow it)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.smtp import free_port

BASE_DIR = Path(__file__).resolve().parents[2]
PRINT_SITE_URL = (
    '.venv/bin/python -c "import django; django.setup(); from django.conf import settings; '
    "print('SITE_URL', settings.SITE_URL, flush=True)\"; sleep 5"
)


def test_web_worker_and_beat_share_the_web_servers_site_url(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        "".join(f"{name}: {PRINT_SITE_URL}\n" for name in ("web", "worker", "beat")),
        encoding="utf-8",
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SITE_URL"}
    env |= {"PORT": str(port), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    command = f". scripts/run-env.sh && exec .venv/bin/honcho start -f {procfile} -d {BASE_DIR}"
    result = subprocess.run(
        ["sh", "-c", command],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    urls = dict(re.findall(r"(web|worker|beat)\.1\s+\| SITE_URL (\S+)", result.stdout))
    assert urls == {name: f"http://127.0.0.1:{port}" for name in ("web", "worker", "beat")}, (
        result.stdout + result.stderr
    )
