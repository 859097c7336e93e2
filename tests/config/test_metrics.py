"""Prometheus metrics and error reporting (issue 15 item 7).

/metrics is refused (404) without the bearer token or an allowed network, is answered
whatever the Host, and holds request, message, task and job-progress figures, never a
tenant's name. Sentry starts only with a DSN, with Django and Celery, and its events carry
no request body, cookies or credentials.
"""

from __future__ import annotations

import pytest
from django.test import Client

from config.sentry import sentry_init
from consent.models import BatchStatus, ConsentBatch
from notifications.sending import message_send
from notifications.services import message_queue
from tenancy.context import tenant_context, tenant_scope

TOKEN = "metrics-token-for-tests"


def queue_email(tenant, to):
    with tenant_context(tenant):
        return message_queue(
            channel="email",
            to=to,
            language="sv",
            template="plain",
            context={"text": "Hej", "subject_text": "Hej"},
            reference="metrics:1",
        )


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    return TOKEN


def scrape(**headers) -> tuple[int, str]:
    response = Client().get("/metrics", **headers)
    return response.status_code, response.content.decode()


def sample(body: str, prefix: str) -> float:
    """The value of the one line starting with ``prefix`` (0 when absent)."""
    values = [
        float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(prefix)
    ]
    assert len(values) <= 1, values
    return values[0] if values else 0.0


def test_refused_without_the_token(db, token):
    assert scrape()[0] == 404
    assert scrape(HTTP_AUTHORIZATION="Bearer wrong")[0] == 404
    assert scrape(HTTP_AUTHORIZATION=TOKEN)[0] == 404  # not as a bearer token


def test_refused_when_nothing_is_configured(db, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", []
    assert scrape()[0] == 404
    assert scrape(HTTP_AUTHORIZATION="Bearer ")[0] == 404


def test_an_allowed_network_needs_no_token(db, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert scrape()[0] == 404  # the test client is 127.0.0.1
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert scrape()[0] == 200


def test_served_with_the_token_whatever_the_host(db, token):
    status, body = scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_HOST="web:8000")
    assert status == 200
    assert "kundreg_http_request_duration_seconds" in body
    assert 'kundreg_jobs_active{kind="consent_batch"}' in body


def test_requests_and_messages_are_counted(personas, token, smtp_server):
    _status, before = scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert personas.client(personas.alice).get("/customers/999999/").status_code == 404
    sent = queue_email(personas.tenant_a, "kund@example.test")
    refused = queue_email(personas.tenant_a, "nobody@example.test")
    with tenant_scope(personas.tenant_a):
        message_send(message_id=sent.pk)
        message_send(message_id=refused.pk)
    _status, after = scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    for prefix in (
        'kundreg_http_requests_total{method="GET",status="4xx"}',
        'kundreg_http_request_duration_seconds_count{view="customer-card"}',
        'kundreg_messages_total{channel="email",status="sent"}',
        'kundreg_messages_total{channel="email",status="failed"}',
    ):
        assert sample(after, prefix) == sample(before, prefix) + 1, prefix


def test_progress_of_running_batches_without_tenant_names(personas, token):
    for tenant, total, sent in ((personas.tenant_a, 10, 3), (personas.tenant_b, 5, 0)):
        with tenant_context(tenant):
            ConsentBatch.objects.create(
                channel="email",
                source="api",
                status=BatchStatus.RUNNING,
                total=total,
                sent=sent,
                actor_type="system",
            )
            ConsentBatch.objects.create(
                channel="email",
                source="api",
                status=BatchStatus.DONE,
                total=4,
                sent=4,
                actor_type="system",
            )
    _status, body = scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert sample(body, 'kundreg_jobs_active{kind="consent_batch"}') == 2
    assert sample(body, 'kundreg_jobs_customers_remaining{kind="consent_batch"}') == 12
    assert sample(body, 'kundreg_jobs_active{kind="anonymization_run"}') == 0
    for name in (personas.tenant_a.name, personas.tenant_a.slug, personas.tenant_b.slug):
        assert name not in body


def test_worker_tasks_are_counted_by_name_queue_and_state(live_personas, celery_worker, token):
    from django.conf import settings

    from tenancy.tasks import heartbeat
    from tests.notifications.conftest import wait_for

    prefix = (
        # Labels come in alphabetical order.
        f'kundreg_celery_tasks_total{{queue="{settings.CELERY_TASK_DEFAULT_QUEUE}",'
        'state="success",task="tenancy.tasks.heartbeat"}'
    )
    before = sample(scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")[1], prefix)
    heartbeat.delay()
    assert wait_for(
        lambda: sample(scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")[1], prefix) == before + 1,
        timeout=20,
    )


# --- Sentry ----------------------------------------------------------------------------------


@pytest.fixture
def sentry_events():
    import sentry_sdk
    from sentry_sdk.transport import Transport

    events: list[dict] = []

    class Recording(Transport):
        def capture_envelope(self, envelope):
            event = envelope.get_event()
            if event is not None:
                events.append(event)

    assert sentry_init(dsn="", environment="x") is False  # no DSN: nothing started
    assert not sentry_sdk.get_client().is_active()
    started = sentry_init(
        dsn="https://key@o0.ingest.sentry.io/0",
        environment="test",
        release="kundreg@1",
        transport=Recording,
    )
    assert started
    try:
        yield events
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)


def test_sentry_starts_with_django_and_celery_and_strips_bodies_and_cookies(sentry_events):
    import sentry_sdk

    client = sentry_sdk.get_client()
    assert {"django", "celery"} <= set(client.integrations)
    assert not client.options["send_default_pii"]
    assert client.options["include_local_variables"] is False
    assert (client.options["environment"], client.options["release"]) == ("test", "kundreg@1")
    with sentry_sdk.new_scope() as scope:
        scope.add_event_processor(
            lambda event, hint: {
                **event,
                "request": {
                    "url": "https://kundreg.example.com/customers/new/",
                    "method": "POST",
                    "data": {"name": "Anna Andersson"},
                    "cookies": {"sessionid": "s3cr3t"},
                    "headers": {
                        "Cookie": "sessionid=s3cr3t",
                        "Authorization": "Api-Key k",
                        "User-Agent": "pytest",
                    },
                },
            }
        )
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            sentry_sdk.capture_exception()
    sentry_sdk.flush()
    [event] = sentry_events
    assert event["exception"]["values"][0]["type"] == "RuntimeError"
    request = event["request"]
    assert "data" not in request and "cookies" not in request
    assert request["headers"] == {"User-Agent": "pytest"}
    assert "Anna" not in str(event) and "s3cr3t" not in str(event)
