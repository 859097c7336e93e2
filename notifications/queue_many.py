"""Queueing many messages at once (a consent batch chunk): ``message_queue``'s rules, set-based.

``services.message_queue`` renders, counts an SMS against the monthly cap, inserts and
enqueues one message per call. A chunk of a consent batch queues hundreds: here the cap is
taken for all of a chunk's SMS in one UPDATE (:func:`sms_month_take_many`), the messages
are rendered in their own language (a template that only inserts values, once per language,
then filled in per message) and written in one INSERT (:func:`insert_rows`), and their send
tasks go to the broker after the commit over one connection, one task per group of
``SEND_GROUP_SIZE`` messages (``tasks.send_messages``). Nothing is sent for a chunk that
rolls back (the tasks are sent from ``on_commit``), and a task lost between the commit and
the broker is re-sent by the sweep, like any queued message (``sweep.py``).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.template import Context
from django.template.base import TextNode, TokenType, VariableNode
from django.template.defaulttags import LoadNode
from django.template.loader import get_template
from django.templatetags.i18n import BlockTranslateNode
from django.utils import timezone, translation

from config.bulk import insert_rows
from tenancy.context import require_tenant

from .models import Channel, NotificationSettings, OutboundMessage
from .selectors import notification_settings
from .services import SmsNotEnabled


@dataclass(frozen=True)
class Outgoing:
    """One message to queue: what ``message_queue`` takes, by id where it takes objects."""

    channel: str
    to: str
    language: str
    context: dict
    customer_id: int | None = None
    reference: str = ""


def sms_month_take_many(count: int) -> int:
    """Count up to ``count`` SMS against this month's cap; return how many it allows.

    ``services._sms_month_take`` for ``count`` messages in one statement: the settings row
    is locked until the caller's transaction ends (so two chunks cannot both take the last
    ones), and a rollback gives the count back. The first of the caller's SMS get the
    allowance, as they would one by one in the same order.
    """
    if count <= 0:
        return 0
    tenant = require_tenant()
    month = timezone.localdate(timezone=zoneinfo.ZoneInfo(tenant.time_zone)).replace(day=1)
    table = NotificationSettings._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH current AS (
                SELECT id, sms_monthly_cap AS cap,
                       CASE WHEN sms_month = %(month)s THEN sms_month_count ELSE 0 END AS used
                  FROM {table} WHERE tenant_id = %(tenant)s FOR UPDATE
            ), granted AS (
                SELECT id, used, CASE WHEN cap IS NULL THEN %(count)s
                                      ELSE LEAST(%(count)s, GREATEST(cap - used, 0)) END AS n
                  FROM current
            )
            UPDATE {table} s SET sms_month = %(month)s, sms_month_count = g.used + g.n
              FROM granted g WHERE s.id = g.id AND g.n > 0
            RETURNING g.n
            """,  # noqa: S608 - the model's table name only
            {"month": month, "tenant": tenant.pk, "count": count},
        )
        row = cursor.fetchone()
    return row[0] if row else 0


def _plain_names(template) -> list[str] | None:
    """The context names ``template`` inserts as they are (text, ``{% load %}``, plain
    ``{{ name }}``, ``{% blocktranslate %}`` with plain names), or None when it does more
    (a filter, a condition, a plural, ...): then it must be rendered per message."""
    names = []
    for node in template.nodelist:
        if isinstance(node, TextNode | LoadNode):
            continue
        if isinstance(node, VariableNode):
            expression = node.filter_expression
            lookups = getattr(expression.var, "lookups", None)
            if expression.filters or not lookups or len(lookups) != 1:
                return None
            names.append(lookups[0])
        elif isinstance(node, BlockTranslateNode):
            if node.plural or node.countervar or node.message_context or node.asvar:
                return None
            if node.extra_context:
                return None
            names += [t.contents for t in node.singular if t.token_type == TokenType.VAR]
        else:
            return None
    return names


_MARK = "\x00"  # PostgreSQL text cannot hold NUL: no value of a message contains it


def _render(name: str, context: dict, cache: dict) -> str:
    """``services.render_plain`` for many messages in the active language.

    A template that only inserts its values as they are is rendered once per language with
    a marker for each value, and each message is the result with its own values put in
    (what rendering would give: string values are inserted unchanged, autoescape is off).
    Anything else, or a value that is not a string, is rendered per message.
    """
    key = (name, translation.get_language())
    if key not in cache:
        template = get_template(name).template
        names = _plain_names(template)
        parts = None
        if names is not None:
            marked = {n: f"{_MARK}{n}{_MARK}" for n in names}
            parts = template.render(Context(marked, autoescape=False)).split(_MARK)
        cache[key] = (template, names, parts)
    template, names, parts = cache[key]
    if parts is None or not all(type(context.get(n)) is str for n in names):
        return template.render(Context(context, autoescape=False))
    # parts: text, name, text, name, ..., text
    return "".join(context[p] if i % 2 else p for i, p in enumerate(parts))


def message_queue_many(*, template: str, outgoing: Sequence[Outgoing]) -> list[int]:
    """Queue ``outgoing`` (``message_queue`` for each, in one INSERT); return the ids in order.

    Each message is rendered from ``notifications/<template>.<channel>.txt`` in its own
    language, as ``message_queue`` renders it. The caller has taken the cap for the SMS
    among them (:func:`sms_month_take_many`); an SMS for a tenant without the subscription
    raises ``SmsNotEnabled`` for all, as it would for the first of them one by one.
    """
    if not outgoing:
        return []
    if any(o.channel == Channel.SMS for o in outgoing) and not notification_settings().sms_enabled:
        raise SmsNotEnabled()
    tenant = require_tenant()
    now = timezone.now()
    templates: dict = {}
    messages = []
    # Grouped by language: one translation switch per language, not per message.
    by_language: dict[str, list[int]] = {}
    for i, item in enumerate(outgoing):
        by_language.setdefault(item.language, []).append(i)
    rendered: dict[int, tuple[str, str]] = {}
    for language, indexes in by_language.items():
        with translation.override(language):
            for i in indexes:
                item = outgoing[i]
                name = f"notifications/{template}.{item.channel}.txt"
                body = _render(name, item.context, templates).strip()
                subject = ""
                if item.channel == Channel.EMAIL:
                    name = f"notifications/{template}.subject.txt"
                    subject = " ".join(_render(name, item.context, templates).split())
                rendered[i] = (body, subject)
    tenant_id = tenant.pk
    for i, item in enumerate(outgoing):
        body, subject = rendered[i]
        messages.append(
            {
                "tenant_id": tenant_id,
                "customer_id": item.customer_id,
                "channel": item.channel,
                "destination": item.to,
                "language": item.language,
                "template": template,
                "subject": subject,
                "body": body,
                "reference": item.reference,
                "queued_at": now,
            }
        )
    ids = insert_rows(OutboundMessage, messages)
    transaction.on_commit(lambda: messages_enqueue(ids, tenant_id=tenant_id))
    return ids


# Messages per send task. A group is sent one message after another by one worker thread
# (about 50 ms each at the provider), so groups must stay small enough that a batch's
# messages still spread over the threads: a chunk of 500 becomes 25 tasks, and a batch
# makes several chunks a second. Publishing is about 1 ms of CPU per task (kombu), so
# groups of 10 cost a batch 6% more CPU than groups of 20 (docs/benchmarks.md).
SEND_GROUP_SIZE = 20


def messages_enqueue(ids: Sequence[int], *, tenant_id: int) -> None:
    """Send the send tasks of messages ``ids``, in groups of ``SEND_GROUP_SIZE``
    (``tasks.send_messages``), to the broker over one connection (call it after the commit:
    ``message_queue_many`` does)."""
    from .tasks import send_messages

    groups = [list(ids[i : i + SEND_GROUP_SIZE]) for i in range(0, len(ids), SEND_GROUP_SIZE)]
    with send_messages.app.producer_or_acquire() as producer:
        for group in groups:
            send_messages.apply_async(
                args=[group], kwargs={"tenant_id": tenant_id}, producer=producer
            )
