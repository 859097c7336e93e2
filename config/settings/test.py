"""The test suite: real PostgreSQL and Redis, fast password hashing."""

import os
import tempfile
import uuid
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_FAILURE_LIMIT = 3
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"tenant": "10000/min"}}  # noqa: F405
# Every test client connects from 127.0.0.1: bad-key tests must not throttle the next ones.
API_KEY_FAILURE_RATE = "10000/min"
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405

# pytest-xdist workers share one Redis: each gets its own queue and cache keys.
# Concurrent runs may share it too, so the run's id is part of the names.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_RUN = (os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex)[:8]
CACHES["default"]["KEY_PREFIX"] = f"kundreg-test-{_RUN}-{_WORKER}"  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = f"test-{_RUN}-{_WORKER}"
# Pings (healthz) go over the control exchange: another run's worker must not answer.
CELERY_CONTROL_EXCHANGE = f"test-{_RUN}-{_WORKER}"
MEDIA_ROOT = VAR_DIR / "test-media" / _WORKER  # noqa: F405
# Never the dev server's checkpoints; tests/audit/conftest.py gives each test its own.
AUDIT_CHECKPOINT_DIR = Path(tempfile.gettempdir()) / f"kundreg-test-audit-{_RUN}-{_WORKER}"
# Never the dev server's erasure journal either; tests/anonymization/test_replay.py gives
# each of its tests its own.
ERASURE_JOURNAL_DIR = Path(tempfile.gettempdir()) / f"kundreg-test-journal-{_RUN}-{_WORKER}"
# Serve static files from the app directories, no collectstatic needed.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# --- Notifications -------------------------------------------------------------------
SMS_BACKEND = "notifications.backends.locmem.LocmemBackend"
SMS_FILE_PATH = VAR_DIR / "test-outbox" / "sms" / _WORKER  # noqa: F405
TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000000"
TWILIO_AUTH_TOKEN = "test-twilio-auth-token"  # noqa: S105  (test-only fake)
TWILIO_MESSAGING_SERVICE_SID = "MG00000000000000000000000000000000"
ANYMAIL = {"WEBHOOK_SECRET": "hookuser:hookpass"}
NOTIFICATIONS_ANYMAIL_ESP = "postmark"  # its tracking route exists; sending stays locmem
NOTIFICATIONS_RETRY_BACKOFF_BASE = 0.2
