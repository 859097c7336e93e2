"""The consent lifecycle over time: requests expire, one reminder, consent validity.

Run by Celery beat (consent.tasks.lifecycle_tick → consent.tasks.lifecycle_run per
tenant), always inside one tenant's context. The work comes in four steps, in this
order:

1. ``expire`` — open requests past ``expires_at`` become expired
   (``services.consent_request_expire``; the state turns EXPIRED when it was the
   customer's last request).
2. ``remind`` — one reminder for a request unanswered ``reminder_after_days`` after
   it was created (queued/sent/delivered, not yet expired, never reminded). Its link
   carries a second token for the same request (``kundreg_consent_token_add``), so
   the original link keeps working too.
3. ``renew`` — a granted consent whose ``valid_until`` is within
   ``renewal_notice_days``: a new request (channel "any") and ``renewal_requested_at``.
   A customer with neither email nor mobile is marked the same way (audited as
   ``consent.renewal_unreachable``), so it is not retried every hour; the consent
   then lapses and staff see EXPIRED.
4. ``lapse`` — a granted consent past ``valid_until`` becomes EXPIRED (audited).

Each call of :func:`lifecycle_chunk` does at most ``limit`` rows and says where to go
on (step, last id): ids are selected in SQL in id order (a keyset cursor, so a row
that fails is skipped until the next run instead of being picked again), each row is
locked with SKIP LOCKED and checked again, and handled in its own savepoint. Running
a step twice changes nothing the second time: no second reminder, no second renewal.
"""

from __future__ import annotations

import calendar
import logging
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import formats, timezone
from django.utils.translation import override

from audit.actors import Actor
from audit.services import audit_record
from notifications.services import message_queue
from tenancy.context import require_tenant

from . import selectors, tokens
from .delivery import REFERENCE_PREFIX
from .models import (
    OPEN_STATUSES,
    ConsentRequest,
    ConsentSettings,
    ConsentState,
    ConsentStatus,
    RequestStatus,
)
from .replies import reply_context

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("consent-lifecycle")
CHUNK = 200
STEPS = ("expire", "remind", "renew", "lapse")
# A failed message is not sent again to the same address.
REMINDABLE = (RequestStatus.QUEUED, RequestStatus.SENT, RequestStatus.DELIVERED)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole months in UTC, clamped to the month's end (as PostgreSQL does)."""
    moment = moment.astimezone(UTC) if timezone.is_aware(moment) else moment
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def consent_settings() -> ConsentSettings:
    """The tenant's settings row, or an unsaved one with the defaults."""
    return ConsentSettings.objects.first() or ConsentSettings(tenant=require_tenant())


def valid_until_for(*, decided_at: datetime) -> datetime | None:
    """When a consent granted at ``decided_at`` lapses (None: the tenant sets no limit)."""
    months = consent_settings().consent_valid_months
    return add_months(decided_at, months) if months else None


# ---------------------------------------------------------------------------
# What is due


def _due(step: str, *, now: datetime, cfg: ConsentSettings) -> QuerySet:
    if step == "expire":
        return ConsentRequest.objects.filter(status__in=OPEN_STATUSES, expires_at__lte=now)
    if step == "remind":
        if cfg.reminder_after_days is None:
            return ConsentRequest.objects.none()
        return ConsentRequest.objects.filter(
            status__in=REMINDABLE,
            reminded_at__isnull=True,
            expires_at__gt=now,
            created_at__lte=now - timedelta(days=cfg.reminder_after_days),
        )
    if step == "renew":
        return ConsentState.objects.filter(
            status=ConsentStatus.GRANTED,
            renewal_requested_at__isnull=True,
            valid_until__lte=now + timedelta(days=cfg.renewal_notice_days),
        )
    if step == "lapse":
        return ConsentState.objects.filter(status=ConsentStatus.GRANTED, valid_until__lte=now)
    raise ValueError(step)


def lifecycle_due(*, now: datetime | None = None) -> bool:
    """Whether the active tenant has any lifecycle work due (the beat task asks first)."""
    now, cfg = now or timezone.now(), consent_settings()
    return any(_due(step, now=now, cfg=cfg).exists() for step in STEPS)


# ---------------------------------------------------------------------------
# One row of each step (each called inside a savepoint; True when something changed)


def _locked(queryset: QuerySet, pk: int):
    return queryset.select_for_update(skip_locked=True, of=("self",)).filter(pk=pk).first()


def _expire(pk: int, *, now: datetime, cfg: ConsentSettings) -> bool:
    from .services import consent_request_expire

    request = _locked(_due("expire", now=now, cfg=cfg), pk)
    return request is not None and consent_request_expire(request=request, actor=SYSTEM)


def reminder_dispatch(request: ConsentRequest, *, link: str) -> None:
    """Queue the reminder on the request's channel, in its language, with a fresh link.

    The reference is the request's, so delivery reports and SMS replies to the
    reminder reach the request like those to the first message.
    """
    with override(request.language):
        expires = formats.date_format(timezone.localtime(request.expires_at), "DATE_FORMAT")
    message_queue(
        channel=request.channel,
        to=request.destination,
        language=request.language,
        template="consent_reminder",
        context={
            "name": request.customer.name,
            "tenant_name": require_tenant().name,
            "link": link,
            "expires": expires,
            **reply_context(request),  # SMS: the request's reply code (consent.replies)
        },
        customer=request.customer,
        reference=f"{REFERENCE_PREFIX}{request.pk}",
    )


def request_token_add(*, request: ConsentRequest, slot: int = tokens.REMINDER) -> str:
    """The reminder's token for ``request`` (consent.tokens); only its hash is stored."""
    token = tokens.request_token(request.pk, slot)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kundreg_consent_token_add(%s, %s)", [request.pk, selectors.token_hash(token)]
        )
        (added,) = cursor.fetchone()
    if not added:
        raise RuntimeError(f"No token was added for consent request {request.pk}.")
    return token


def _remind(pk: int, *, now: datetime, cfg: ConsentSettings) -> bool:
    queryset = _due("remind", now=now, cfg=cfg).select_related("customer")
    request = _locked(queryset, pk)
    if request is None:
        return False
    request_token_add(request=request)
    reminder_dispatch(request, link=tokens.link_marker(request.pk, tokens.REMINDER))
    ConsentRequest.objects.filter(pk=request.pk).update(reminded_at=now, updated_at=now)
    audit_record(
        action="consent.reminder_sent",
        actor=SYSTEM,
        object_type="consent.request",
        object_id=request.pk,
        data={"channel": request.channel},
    )
    return True


def _renew(pk: int, *, now: datetime, cfg: ConsentSettings) -> bool:
    from .services import NoAddressError, OpenRequestExists, consent_request_create

    state = _locked(_due("renew", now=now, cfg=cfg).select_related("customer"), pk)
    if state is None:
        return False
    data = {"customer_id": state.customer_id, "valid_until": state.valid_until.isoformat()}
    try:
        request, _token = consent_request_create(
            customer=state.customer, channel="any", actor=SYSTEM
        )
    except NoAddressError:
        # Nothing to send to: marked all the same, so it is not tried again every hour.
        action, data["reason"] = "consent.renewal_unreachable", "no_address"
    except OpenRequestExists as exc:
        # The customer was just asked (by staff, a batch): that request serves as renewal.
        action, data["request_id"] = "consent.renewal_requested", exc.request.pk
    else:
        action, data["request_id"] = "consent.renewal_requested", request.pk
    ConsentState.objects.filter(pk=state.pk).update(renewal_requested_at=now, updated_at=now)
    selectors.forget_registry_states()
    audit_record(
        action=action, actor=SYSTEM, object_type="consent.state", object_id=state.pk, data=data
    )
    return True


def _lapse(pk: int, *, now: datetime, cfg: ConsentSettings) -> bool:
    state = _locked(_due("lapse", now=now, cfg=cfg), pk)
    if state is None:
        return False
    # valid_until stays: it says when the consent lapsed.
    ConsentState.objects.filter(pk=state.pk).update(status=ConsentStatus.EXPIRED, updated_at=now)
    selectors.forget_registry_states()
    audit_record(
        action="consent.lapsed",
        actor=SYSTEM,
        object_type="consent.state",
        object_id=state.pk,
        data={
            "customer_id": state.customer_id,
            "terms_version": state.terms_version,
            "valid_until": state.valid_until.isoformat(),
        },
    )
    return True


HANDLERS = {"expire": _expire, "remind": _remind, "renew": _renew, "lapse": _lapse}


# ---------------------------------------------------------------------------
# The chunked run


def lifecycle_chunk(
    *, step: str = STEPS[0], after_id: int = 0, limit: int = CHUNK, now: datetime | None = None
) -> tuple[dict[str, int], tuple[str, int] | None]:
    """Work through at most ``limit`` due rows of the active tenant, from ``(step, after_id)``.

    Returns the number of rows changed per step and where to go on (``None``: all
    done). A row that raises is logged (id only) and skipped until the next run.
    """
    if step not in STEPS:
        raise ValueError(step)
    now, cfg = now or timezone.now(), consent_settings()
    done: dict[str, int] = {}
    budget = limit
    for name in STEPS[STEPS.index(step) :]:
        cursor = after_id if name == step else 0
        ids = list(
            _due(name, now=now, cfg=cfg)
            .filter(pk__gt=cursor)
            .order_by("pk")
            .values_list("pk", flat=True)[:budget]
        )
        for pk in ids:
            try:
                with transaction.atomic():
                    changed = HANDLERS[name](pk, now=now, cfg=cfg)
            except ValidationError as exc:  # e.g. no terms in the language, no SMS: next run
                fields = sorted(getattr(exc, "error_dict", {}))
                logger.warning("consent lifecycle: %s of row %s refused (%s)", name, pk, fields)
                changed = False
            except Exception:  # one bad row must not stop the others
                logger.exception("consent lifecycle: %s of row %s failed", name, pk)
                changed = False
            done[name] = done.get(name, 0) + int(changed)
        budget -= len(ids)
        if budget <= 0:
            return done, (name, ids[-1])
    return done, None


# ---------------------------------------------------------------------------
# Validity when the settings change


def validity_recompute(*, now: datetime | None = None) -> int:
    """Recompute ``valid_until`` of every granted consent of the tenant (one UPDATE).

    A consent whose renewal time moved into the future gets asked again then
    (``renewal_requested_at`` cleared). Returns the number of states updated.
    """
    now, cfg = now or timezone.now(), consent_settings()
    granted = ConsentState.objects.filter(status=ConsentStatus.GRANTED, decided_at__isnull=False)
    if not cfg.consent_valid_months:
        count = granted.exclude(valid_until=None, renewal_requested_at=None).update(
            valid_until=None, renewal_requested_at=None, updated_at=now
        )
    else:
        # The same month arithmetic as add_months (Django's connections run in UTC).
        months, notice = cfg.consent_valid_months, cfg.renewal_notice_days
        count = granted.update(
            valid_until=RawSQL("decided_at + make_interval(months => %s)", [months]),
            renewal_requested_at=RawSQL(
                "CASE WHEN decided_at + make_interval(months => %s, days => %s) > %s"
                " THEN NULL ELSE renewal_requested_at END",
                [months, -notice, now],
            ),
            updated_at=now,
        )
    selectors.forget_registry_states()
    return count
