"""The Celery app: Redis broker, late acks, tenant-aware tasks (see tenancy/tasks.py)."""

import os

from celery import Celery, signals
from celery.schedules import crontab

from config import metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

# Every task is sent after the surrounding transaction commits (tenancy/tasks.py).
app = Celery("kundreg", task_cls="tenancy.tasks:AfterCommitTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Worker and beat log like the web (settings.LOGGING: JSON or text, UTC, request and tenant
# ids): with a receiver here Celery configures no logging of its own.
@signals.setup_logging.connect
def _setup_logging(**kwargs) -> None:
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


# Task and message counts; the worker's main process serves them (config/metrics.py).
metrics.connect_signals()
signals.worker_init.connect(metrics.start_worker_server, weak=False)

# Celery's Django fixup (5.7) closes every database connection before and after each task
# unless CELERY_DB_REUSE_MAX is set: CONN_MAX_AGE was ignored, and each send connected to
# PostgreSQL anew (about 1 ms CPU, and a backend start, per message). The fixup's close is
# put off for ever here; instead a task starts and ends the way Django treats a request
# (close_old_connections): a connection older than CONN_MAX_AGE or broken is closed. With
# CONN_MAX_AGE 0 (the default, prefork queues) every task still gets a fresh connection.
app.conf.CELERY_DB_REUSE_MAX = 2**62


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:
    if task is not None and getattr(task.request, "is_eager", False):
        return  # run inline (tests, apply()): the caller's connection, maybe mid-transaction
    from django.db import close_old_connections

    close_old_connections()


# One queue per kind of work, so each can get its own workers past one machine
# (docker-compose.yml, docs/adr/0013-scale-out.md): sends wait on providers, batches and
# anonymization runs are long and CPU-bound, exports write files. `make run` and the tests
# keep one worker consuming all of them, so nothing is stranded.
DEFAULT_QUEUE = "default"
QUEUES = ("sending", "batches", "anonymization", "exports", DEFAULT_QUEUE)
# Celery's own default name: tasks queued under it before the queues existed still drain.
LEGACY_QUEUE = "celery"
TASK_QUEUES = {
    "notifications.send_message": "sending",
    "notifications.send_messages": "sending",
    "consent.batch_work": "batches",
    "consent.batch_finish": "batches",
    "anonymization.run_work": "anonymization",
    "anonymization.deletion_work": "anonymization",
    "reports.export_job_work": "exports",
}


def route_task(name, args, kwargs, options, task=None, **kw):
    """The queue of task ``name``; everything to a run's own default queue if it set one.

    A test run or a benchmark sets ``task_default_queue`` to a queue of its own and serves
    only that (config/settings/test.py, benchmarks/*_worker.py): routing its tasks to the
    shared queues would hand them to some other worker.
    """
    own = app.conf.task_default_queue
    if own not in (LEGACY_QUEUE, DEFAULT_QUEUE):
        return {"queue": own}
    return {"queue": TASK_QUEUES.get(name, DEFAULT_QUEUE)}


app.conf.task_routes = (route_task,)

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
    # Export files deleted when they expire; export jobs that lost their worker sent again.
    "reports-export-jobs-sweep": {
        "task": "reports.export_jobs_sweep",
        "schedule": 60.0,
    },
    # The dashboard's customer charts counted again before anyone waits for them
    # (reports/dashboard_snapshot.py).
    "reports-dashboard-snapshots-sweep": {
        "task": "reports.dashboard_snapshots_sweep",
        "schedule": crontab(minute="*/10"),
    },
    # Tenants that turned it on: a daily run of their eligible prospects (anonymization/auto.py).
    "anonymization-auto-prospects": {
        "task": "anonymization.auto_prospects",
        "schedule": crontab(hour=3, minute=17),
    },
    # Webhook deliveries due for a (re)try whose task was lost or is too far off (webhooks/).
    "webhooks-sweep": {
        "task": "webhooks.sweep",
        "schedule": 30.0,
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
