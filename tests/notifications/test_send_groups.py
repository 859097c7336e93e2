"""Send tasks for groups of messages (a batch chunk's): one broker message, each message
sent under the single-message protocol (its own claim, slot and result)."""

from __future__ import annotations

from notifications.backends import locmem
from notifications.models import OutboundMessage, Status
from notifications.queue_many import SEND_GROUP_SIZE, Outgoing, message_queue_many
from notifications.queue_many import messages_enqueue as enqueue
from notifications.tasks import send_messages
from tenancy.context import tenant_context

from . import flaky
from .conftest import enable_sms, wait_for


def _queue_many(tenant, count: int) -> list[int]:
    """``count`` SMS queued as a batch chunk queues them (their group tasks after commit)."""
    with tenant_context(tenant):
        return message_queue_many(
            template="plain",
            outgoing=[
                Outgoing(channel="sms", to=f"+4670100{i:04d}", language="sv", context={"text": i})
                for i in range(count)
            ],
        )


def _messages(tenant, ids) -> dict[int, OutboundMessage]:
    with tenant_context(tenant):
        return {m.pk: m for m in OutboundMessage.objects.filter(pk__in=ids)}


def _all(tenant, ids, status=Status.SENT):
    return lambda: all(m.status == status for m in _messages(tenant, ids).values())


def test_a_chunk_publishes_one_task_per_group(live_personas):
    from config.celery import app

    app.control.purge()
    tenant = live_personas.tenant_a
    enqueue(list(range(1, 2 * SEND_GROUP_SIZE + 2)), tenant_id=tenant.pk)
    sends = f"{app.conf.task_default_queue}\x06\x166"  # the sends' priority list (test_tasks)
    with app.connection_for_write() as connection:
        assert connection.default_channel.client.llen(sends) == 3  # three tasks, not 21
    assert app.control.purge() == 3


def test_a_group_sends_each_message_once(live_personas, celery_worker):
    tenant = live_personas.tenant_a
    enable_sms(tenant)
    ids = _queue_many(tenant, SEND_GROUP_SIZE + 3)
    assert wait_for(_all(tenant, ids))
    assert sorted(m["to"] for m in locmem.outbox) == sorted(
        m.destination for m in _messages(tenant, ids).values()
    )

    # The group delivered again (a lost ack, a sweep's duplicate): nothing is sent twice.
    result = send_messages.apply(args=[ids[:SEND_GROUP_SIZE]], kwargs={"tenant_id": tenant.pk})
    assert result.get() == f"{SEND_GROUP_SIZE} done"
    assert len(locmem.outbox) == len(ids)
    assert {m.attempts for m in _messages(tenant, ids).values()} == {1}


def test_a_transient_failure_retries_that_message_alone(live_personas, celery_worker, settings):
    settings.SMS_BACKEND = "tests.notifications.flaky.FlakyBackend"
    flaky.failures_left, flaky.calls = 1, 0  # the group's first send fails once
    tenant = live_personas.tenant_a
    enable_sms(tenant)
    ids = _queue_many(tenant, 4)
    assert wait_for(_all(tenant, ids))
    messages = _messages(tenant, ids)
    assert [messages[pk].attempts for pk in ids] == [2, 1, 1, 1]
    assert flaky.calls == 5
    assert len(locmem.outbox) == 4


def test_a_paced_group_comes_back_for_the_rest(live_personas, celery_worker, settings):
    settings.NOTIFICATIONS_PACING_MAX_WAIT = 0.2  # a slot a second away: the task comes back
    tenant = live_personas.tenant_a
    enable_sms(tenant, rate=2)
    ids = _queue_many(tenant, 4)
    assert wait_for(_all(tenant, ids), timeout=30)
    messages = _messages(tenant, ids)
    # Being paced is no attempt, and nothing was sent twice or early.
    assert {m.attempts for m in messages.values()} == {1}
    assert len(locmem.outbox) == 4
    # Four sends at two a second span 1.5 s (less what recording the first took).
    times = sorted(m.sent_at for m in messages.values())
    assert (times[-1] - times[0]).total_seconds() >= 1.2


class _BrokenForOne(locmem.LocmemBackend):
    """An error of ours (not the provider's) for one number."""

    def send(self, **kwargs) -> str:
        if kwargs["to"].endswith("0001"):
            raise RuntimeError("a bug")
        return super().send(**kwargs)


def test_an_unexpected_error_leaves_that_message_to_the_sweep_and_sends_the_rest(
    live_personas, celery_worker, settings
):
    settings.SMS_BACKEND = f"{__name__}._BrokenForOne"
    tenant = live_personas.tenant_a
    enable_sms(tenant)
    ids = _queue_many(tenant, 4)
    rest = [ids[0], *ids[2:]]
    assert wait_for(_all(tenant, rest))
    # Claimed and cut off: ``sending``, for the sweep to settle with the provider.
    assert _messages(tenant, [ids[1]])[ids[1]].status == Status.SENDING
    assert len(locmem.outbox) == 3
