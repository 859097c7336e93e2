"""The send task on a real worker thread and the real Redis broker."""

from __future__ import annotations

import uuid

from django.conf import settings

from notifications import pacing
from notifications.backends import locmem
from notifications.models import OutboundMessage, Status
from notifications.services import message_queue
from notifications.tasks import retry_countdown, send_message
from tenancy.context import tenant_context

from . import flaky
from .conftest import enable_sms, wait_for


def _queue_sms(tenant, text="Hej", to="+46701234567"):
    with tenant_context(tenant):  # commits on exit: the task is sent then
        return message_queue(
            channel="sms", to=to, language="sv", template="plain", context={"text": text}
        )


def _status(tenant, pk):
    with tenant_context(tenant):
        return OutboundMessage.objects.get(pk=pk)


def test_real_worker_sends_a_queued_sms(live_personas, celery_worker):
    enable_sms(live_personas.tenant_a)
    message = _queue_sms(live_personas.tenant_a)
    sent = wait_for(lambda: _status(live_personas.tenant_a, message.pk).status == Status.SENT)
    assert sent
    assert [m["to"] for m in locmem.outbox] == ["+46701234567"]

    # The task delivered again (a redelivery after a lost ack, a duplicate): no second SMS.
    for _ in range(2):
        result = send_message.apply(
            args=[message.pk], kwargs={"tenant_id": live_personas.tenant_a.pk}
        )
        assert result.get() == Status.SENT
    assert len(locmem.outbox) == 1
    assert _status(live_personas.tenant_a, message.pk).attempts == 1


def test_transient_error_is_retried_and_sent_once(live_personas, celery_worker, settings):
    settings.SMS_BACKEND = "tests.notifications.flaky.FlakyBackend"
    flaky.failures_left, flaky.calls = 2, 0
    enable_sms(live_personas.tenant_a)
    message = _queue_sms(live_personas.tenant_a)
    assert wait_for(lambda: _status(live_personas.tenant_a, message.pk).status == Status.SENT)
    final = _status(live_personas.tenant_a, message.pk)
    assert final.attempts == 3
    assert flaky.calls == 3
    assert len(locmem.outbox) == 1


def test_rolled_back_queue_sends_nothing(live_personas, celery_worker):
    enable_sms(live_personas.tenant_a)
    try:
        with tenant_context(live_personas.tenant_a):
            message_queue(
                channel="sms", to="+46701234567", language="sv", template="plain", context={}
            )
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert not wait_for(lambda: locmem.outbox, timeout=2.0)


def test_sending_is_paced_per_tenant_across_workers(live_personas, celery_worker):
    enable_sms(live_personas.tenant_a, rate=1)
    ids = [_queue_sms(live_personas.tenant_a, to=f"+4670000000{i}").pk for i in range(3)]

    def all_sent():
        with tenant_context(live_personas.tenant_a):
            return OutboundMessage.objects.filter(pk__in=ids, status=Status.SENT).count() == len(
                ids
            )

    assert wait_for(all_sent, timeout=20)
    with tenant_context(live_personas.tenant_a):
        times = sorted(OutboundMessage.objects.values_list("sent_at", flat=True))
    # One per second window: three sends span at least two window boundaries.
    assert (times[-1] - times[0]).total_seconds() > 1.0


def test_pacing_spaces_slots_without_a_burst():
    """No window to straddle: slots come 1/rate apart (tests/notifications/test_pacing_global)."""
    tenant_id = 10_000_000 + uuid.uuid4().int % 1_000_000
    got = [pacing.pacing_acquire(tenant_id=tenant_id, rate_per_second=2) for _ in range(3)]
    assert got == [True, False, False]


def test_retry_backoff_stays_below_the_visibility_timeout():
    assert settings.NOTIFICATIONS_RETRY_BACKOFF_MAX < settings.CELERY_VISIBILITY_TIMEOUT
    delays = [retry_countdown(n) for n in range(1, 60)]
    assert max(delays) < settings.CELERY_VISIBILITY_TIMEOUT
    assert delays[0] < delays[3]  # it does grow
    assert send_message.acks_late is True


def test_sends_queue_behind_other_work_on_the_broker(live_personas):
    """send_message goes to the queue's priority-6 list; other tasks (a batch's next chunk)
    to the plain list, which the Redis transport serves first."""
    from config.celery import app

    app.control.purge()
    queue = app.conf.task_default_queue
    send_message.apply_async(args=[0], kwargs={"tenant_id": live_personas.tenant_a.pk})
    app.send_task("consent.batch_work", args=[0], kwargs={"tenant_id": 0})
    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        assert client.llen(queue) == 1  # the batch chunk
        assert client.llen(f"{queue}\x06\x166") == 1  # the send
    assert app.control.purge() == 2
