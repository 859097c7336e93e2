"""Settings for a real worker process started by a test (tests/consent/test_worker_killed.py).

The test's own database (its name comes in KUNDREG_TEST_DB), its own queue (the xdist
variables are inherited), emails written to files the test can count, and sweeps that
act at once instead of after minutes.
"""

import os

from config.settings.test import *  # noqa: F403

for _alias in ("default", "owner"):
    DATABASES[_alias]["NAME"] = os.environ["KUNDREG_TEST_DB"]  # noqa: F405

# The starting test's queue, cache keys and control exchange (a run without xdist would
# otherwise get names of its own).
CELERY_TASK_DEFAULT_QUEUE = os.environ["KUNDREG_TEST_QUEUE"]
CELERY_CONTROL_EXCHANGE = os.environ["KUNDREG_TEST_QUEUE"]
CACHES["default"]["KEY_PREFIX"] = os.environ["KUNDREG_TEST_CACHE_PREFIX"]  # noqa: F405

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["KUNDREG_TEST_EMAIL_DIR"]
NOTIFICATIONS_SWEEP_AFTER_SECONDS = 0
NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS = 2
CONSENT_BATCH_STALL_SECONDS = 2
if "KUNDREG_TEST_JOURNAL_DIR" in os.environ:  # tests/anonymization/test_replay.py
    ERASURE_JOURNAL_DIR = os.environ["KUNDREG_TEST_JOURNAL_DIR"]
