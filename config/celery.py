"""The Celery app: Redis broker, late acks, tenant-aware tasks (see tenancy/tasks.py)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

# Every task is sent after the surrounding transaction commits (tenancy/tasks.py).
app = Celery("kundreg", task_cls="tenancy.tasks:AfterCommitTask")
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
    # Each tenant's audit chain head, anchored outside the database (audit/anchor.py):
    # verify_audit_log detects events deleted at the head once a checkpoint covered them.
    "audit-checkpoints": {
        "task": "audit.write_checkpoints",
        "schedule": crontab(minute="7,22,37,52"),
    },
    # No message left queued with no task, or sending with no worker (notifications/sweep.py),
    # and no consent batch left running with no chunk (consent.batches_sweep).
    "notifications-sweep": {
        "task": "notifications.sweep",
        "schedule": 60.0,
    },
    "consent-batches-sweep": {
        "task": "consent.batches_sweep",
        "schedule": 60.0,
    },
    # No anonymization run left running with no chunk (anonymization/runs.py).
    "anonymization-runs-sweep": {
        "task": "anonymization.runs_sweep",
        "schedule": 60.0,
    },
    # Tenants that turned it on: a daily run of their eligible prospects (anonymization/auto.py).
    "anonymization-auto-prospects": {
        "task": "anonymization.auto_prospects",
        "schedule": crontab(hour=3, minute=17),
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
