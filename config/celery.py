"""The Celery app: Redis broker, late acks, tenant-aware tasks (see tenancy/tasks.py)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("kundreg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "worker-heartbeat": {
        "task": "tenancy.tasks.heartbeat",
        "schedule": 30.0,
    },
    "purge-idempotency-records": {
        "task": "tenancy.tasks.purge_idempotency_records",
        "schedule": crontab(minute=17),
    },
    "notifications-poll-pending-sms": {
        "task": "notifications.poll_pending_sms",
        "schedule": crontab(minute="*/10"),
    },
    # Consent requests expire, get their one reminder, consents are renewed or lapse
    # (consent/lifecycle.py). Hourly: the settings count in days and months, so an hour
    # late is precise enough, and the page already treats an expired link as expired.
    "consent-lifecycle": {
        "task": "consent.lifecycle_tick",
        "schedule": crontab(minute=23),
    },
}
