"""A process sending as fast as the pacing limiter lets it (tests/notifications/test_pacing_global).

    python -m tests.notifications.pacing_probe NAME RATE SECONDS

Prints one JSON line: the slots it booked (Redis's clock) and when it sent (its own).
"""

from __future__ import annotations

import json
import sys
import time

import django


def main(name: str, rate: float, seconds: float) -> None:
    django.setup()
    from notifications.pacing import Limit, pacing_reserve

    slots, sent = [], []
    stop = time.time() + seconds
    while time.time() < stop:
        slot = pacing_reserve([Limit(name, rate)], max_wait=0.5)
        time.sleep(slot.wait)
        if slot.booked:
            slots.append(slot.at)
            sent.append(time.time())
    print(json.dumps({"slots": slots, "sent": sent}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
