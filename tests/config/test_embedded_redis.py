"""The embedded broker keeps queued tasks across a crash (make run's Redis under var/)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import os, signal, time
    import redis
    from config import embedded

    embedded.start_redis()
    client = redis.Redis(unix_socket_path=str(embedded._redis_socket()))
    assert client.config_get("appendonly") == {"appendonly": "yes"}, client.config_get("appendonly")
    assert client.config_get("save")["save"], "no snapshot schedule"
    client.lpush("celery", "a queued task")
    time.sleep(1.5)  # appendfsync everysec
    pid = int(embedded._redis_pidfile().read_text())
    os.kill(pid, signal.SIGKILL)  # a crash: no clean shutdown, no final save
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    embedded._redis_pidfile().unlink()
    assert embedded.start_redis() is True
    client = redis.Redis(unix_socket_path=str(embedded._redis_socket()))
    print(client.lrange("celery", 0, -1))
    embedded.stop_redis()
    """
)


def test_queued_tasks_survive_a_killed_broker(tmp_path):
    env = {**os.environ, "KUNDREG_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[b'a queued task']"
