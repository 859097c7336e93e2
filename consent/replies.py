"""SMS replies to consent requests: the reply code, routing a reply, and the replies a person
must handle.

Several tenants may send from one shared sender (the platform's messaging service), so a
reply cannot go to "whoever wrote last". Each SMS request carries a short code
(``sms_reply_code``, e.g. ``K7QX``) and tells the customer to answer "JA K7QX" / "NEJ K7QX".
:class:`~consent.models.ReplyRoute` (a platform table: a keyed hash of the number, never
the number) finds the request from (the sender written to, the customer's number, the
code). The rules, in :func:`reply_receive`:

- a code naming one of the number's requests decides that request, and only it;
- a bare JA/NEJ decides only when every route of that sender and number belongs to one
  tenant and exactly one of them is open: always so for a tenant's own sender number,
  on the shared sender only while no other tenant has written to that number lately;
- STOP withdraws consent at the tenant(s) it can be attributed to: the code's, or every
  tenant that wrote to that number from that sender lately (each of them is the sender
  the customer told to stop);
- anything else decides nothing. When one tenant can be told, it becomes an
  :class:`~consent.models.UnmatchedReply` its staff assign or dismiss (``/consent/replies/``);
  otherwise an :class:`~consent.models.UnroutedReply` with no number and no text.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from audit.actors import Actor
from audit.services import audit_record
from notifications.selectors import sms_sender_key
from tenancy.context import require_tenant, tenant_context, tenant_scope
from tenancy.models import Tenant

from .models import (
    OPEN_STATUSES,
    Channel,
    ConsentDecision,
    ConsentRequest,
    ConsentStatus,
    Decision,
    Method,
    ReplyReason,
    ReplyRoute,
    ReplyStatus,
    UnmatchedReply,
    UnroutedReply,
)

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("sms-replies")

# No 0/O, 1/I: read off a phone screen and typed back without doubt.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 4
LETTERS = frozenset(c for c in ALPHABET if c.isalpha())
DIGITS = frozenset(c for c in ALPHABET if c.isdigit())

# A route outlives its request's expiry: a late STOP, or a late JA, is still attributed.
ROUTE_KEEP = timedelta(days=90)
UNROUTED_KEEP = timedelta(days=90)

REPLIES = {
    "ja": Decision.GRANTED,
    "yes": Decision.GRANTED,
    "j": Decision.GRANTED,
    "nej": Decision.DECLINED,
    "nei": Decision.DECLINED,
    "no": Decision.DECLINED,
    "stop": Decision.WITHDRAWN,
    "stopp": Decision.WITHDRAWN,
}
# The words the SMS asks for, in its language: each must be a key of REPLIES.
REPLY_WORDS = {
    "sv": ("JA", "NEJ"),
    "da": ("JA", "NEJ"),
    "nb": ("JA", "NEI"),
    "en": ("YES", "NO"),
}
_TOKENS = re.compile(r"[^\W_]+")


# ---------------------------------------------------------------------------
# Codes, numbers, texts


def is_code(token: str) -> bool:
    """A reply code has a letter and a digit, so that no word ("TACK") reads as one."""
    chars = set(token)
    return (
        len(token) == CODE_LENGTH
        and chars <= set(ALPHABET)
        and bool(chars & LETTERS)
        and bool(chars & DIGITS)
    )


def new_code() -> str:
    while True:
        code = "".join(secrets.choice(ALPHABET) for _i in range(CODE_LENGTH))
        if is_code(code):
            return code


def e164(number: str, region: str = "") -> str:
    """``number`` in E.164 where it parses (``070-123 45 67`` in SE: ``+46701234567``)."""
    number = (number or "").strip()
    try:
        parsed = phonenumbers.parse(number, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return re.sub(r"[^\d+]", "", number)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def number_key(number: str, region: str = "") -> str:
    """A keyed hash of a phone number: what a platform table may hold instead of it."""
    return salted_hmac(
        "kundreg.consent.reply_route", e164(number, region), algorithm="sha256"
    ).hexdigest()


@dataclass(frozen=True)
class ParsedReply:
    decision: str | None  # a Decision, or None: no word, or words that disagree
    code: str | None  # a code-shaped word, or None


def parse_reply(body: str) -> ParsedReply:
    """ "JA K7QX", "ja, k7qx!", "Ja tack" and "JAK7QX" all read as yes (the last two: yes
    with / without a code); "JA NEJ" and "K7QX K8QX" read as nothing and no code."""
    decisions, codes = set(), set()
    for token in _TOKENS.findall((body or "").upper()):
        word = token.lower()
        if word in REPLIES:
            decisions.add(REPLIES[word])
        elif is_code(token):
            codes.add(token)
        elif len(token) > CODE_LENGTH and is_code(token[-CODE_LENGTH:]):
            head = token[:-CODE_LENGTH].lower()
            if head in REPLIES:
                decisions.add(REPLIES[head])
                codes.add(token[-CODE_LENGTH:])
    return ParsedReply(
        decision=decisions.pop() if len(decisions) == 1 else None,
        code=codes.pop() if len(codes) == 1 else None,
    )


# ---------------------------------------------------------------------------
# Outbound: the code in the SMS


def reply_code_assign(*, request: ConsentRequest) -> str:
    """Give an SMS request its reply code and route (inside the request's transaction).

    The code is unique among the routes of the same sender and number, which is all a
    reply is looked up by; the database's unique constraint settles a race between two
    tenants writing to one number at once.
    """
    tenant = require_tenant()
    sender = sms_sender_key()
    key = number_key(request.destination, tenant.country)
    now = timezone.now()
    ReplyRoute.objects.filter(sender=sender, number_key=key, keep_until__lte=now).delete()
    taken = set(
        ReplyRoute.objects.filter(sender=sender, number_key=key).values_list("code", flat=True)
    )
    with connection.cursor() as cursor:
        for _attempt in range(50):
            code = new_code()
            if code in taken:
                continue
            cursor.execute(
                "INSERT INTO consent_replyroute "
                "(sender, number_key, code, tenant_id, request_id, created_at, keep_until) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT ON CONSTRAINT consent_reply_route_uniq DO NOTHING RETURNING id",
                [sender, key, code, tenant.pk, request.pk, now, request.expires_at + ROUTE_KEEP],
            )
            if cursor.fetchone() is not None:
                break
            taken.add(code)
        else:  # pragma: no cover - 700,000 codes for one number
            raise RuntimeError(f"No free reply code for consent request {request.pk}.")
    ConsentRequest.objects.filter(pk=request.pk).update(sms_reply_code=code)
    request.sms_reply_code = code
    return code


def reply_context(request: ConsentRequest) -> dict[str, str]:
    """What an SMS template about ``request`` needs to ask for a reply (``{}`` for email):
    ``reply_yes`` / ``reply_no`` ("JA K7QX" / "NEJ K7QX", in the request's language)."""
    if request.channel != Channel.SMS:
        return {}
    code = request.sms_reply_code or reply_code_assign(request=request)
    yes, no = REPLY_WORDS.get(request.language, REPLY_WORDS["en"])
    return {"reply_code": code, "reply_yes": f"{yes} {code}", "reply_no": f"{no} {code}"}


# ---------------------------------------------------------------------------
# Inbound: which request a reply answers


@dataclass(frozen=True)
class ReplyOutcome:
    """What became of a reply: ``decided``, ``withdrawn``, ``unmatched`` (a tenant's staff
    will see it) or ``unrouted`` (no tenant could be told)."""

    result: str
    tenant_ids: tuple[int, ...] = ()
    request_ids: tuple[int, ...] = ()
    reason: str = ""


@dataclass
class _Reply:
    sender: str
    from_number: str
    body: str
    provider_message_id: str
    parsed: ParsedReply
    key: str
    routes: list[ReplyRoute] = field(default_factory=list)

    @property
    def tenants(self) -> dict[int, Tenant]:
        return {route.tenant_id: route.tenant for route in self.routes}


def _open_request(route: ReplyRoute, *, lock: bool = False) -> ConsentRequest | None:
    """The route's request while it waits for an answer (the route's tenant is active)."""
    queryset = ConsentRequest.objects.filter(
        pk=route.request_id, status__in=OPEN_STATUSES, expires_at__gt=timezone.now()
    )
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return queryset.select_related("customer").first()


def reply_receive(
    *, sender_key: str, from_number: str, body: str, provider_message_id: str = ""
) -> ReplyOutcome:
    """Decide what an inbound SMS answers, and act on it (no tenant is active here).

    ``sender_key`` is ``notifications.selectors.inbound_sender_key``: ``""`` for the
    platform's shared sender, else the number written to.
    """
    now = timezone.now()
    ReplyRoute.objects.filter(keep_until__lte=now).delete()
    UnroutedReply.objects.filter(received_at__lte=now - UNROUTED_KEEP).delete()
    reply = _Reply(
        sender=sender_key or "",
        from_number=(from_number or "")[:40],
        body=(body or "")[:1600],
        provider_message_id=(provider_message_id or "")[:64],
        parsed=parse_reply(body),
        key=number_key(from_number),
    )
    reply.routes = list(
        ReplyRoute.objects.filter(
            sender=reply.sender, number_key=reply.key, tenant__is_active=True
        ).select_related("tenant")
    )
    decision, code = reply.parsed.decision, reply.parsed.code
    named = next((r for r in reply.routes if code and r.code == code), None)
    tenants = reply.tenants
    only_tenant = next(iter(tenants.values())) if len(tenants) == 1 else None

    if decision == Decision.WITHDRAWN:
        # A STOP is never ambiguous about what it wants; only about whom it tells.
        return _withdraw(reply, [named] if named else reply.routes)
    if decision is None:
        tenant = named.tenant if named else only_tenant
        return _unmatched(reply, ReplyReason.UNPARSEABLE, tenant)
    if named is not None:
        return _decide(reply, named, decision)
    if code:
        return _unmatched(reply, ReplyReason.UNKNOWN_CODE, only_tenant)
    if only_tenant is None:
        return _unmatched(
            reply, ReplyReason.AMBIGUOUS if tenants else ReplyReason.NO_OPEN_REQUEST, None
        )
    with tenant_scope(only_tenant):
        open_routes = [route for route in reply.routes if _open_request(route) is not None]
    if len(open_routes) == 1:
        return _decide(reply, open_routes[0], decision)
    reason = ReplyReason.AMBIGUOUS if open_routes else ReplyReason.NO_OPEN_REQUEST
    return _unmatched(reply, reason, only_tenant)


def _decide(reply: _Reply, route: ReplyRoute, decision: str) -> ReplyOutcome:
    from .services import consent_record

    with tenant_context(route.tenant):
        request = _open_request(route, lock=True)
        if request is not None:
            consent_record(
                customer=request.customer,
                decision=decision,
                method=Method.SMS_REPLY,
                actor=Actor.customer(request.customer_id),
                request=request,
            )
            return ReplyOutcome("decided", tenant_ids=(route.tenant_id,), request_ids=(request.pk,))
    return _unmatched(reply, ReplyReason.CLOSED, route.tenant)


def _withdraw(reply: _Reply, routes: list[ReplyRoute]) -> ReplyOutcome:
    from .selectors import consent_state_of
    from .services import consent_record

    if not routes:
        return _unmatched(reply, _no_route_reason(reply), None)
    by_tenant: dict[int, list[ReplyRoute]] = {}
    for route in routes:
        by_tenant.setdefault(route.tenant_id, []).append(route)
    request_ids = []
    for tenant_routes in by_tenant.values():
        with tenant_context(tenant_routes[0].tenant):
            requests = ConsentRequest.objects.filter(
                pk__in=[route.request_id for route in tenant_routes]
            ).select_related("customer")
            customers = {request.customer_id: request.customer for request in requests}
            for customer in customers.values():
                state = consent_state_of(customer)
                if state is not None and state.status == ConsentStatus.WITHDRAWN:
                    continue
                consent_record(
                    customer=customer,
                    decision=Decision.WITHDRAWN,
                    method=Method.SMS_REPLY,
                    actor=Actor.customer(customer.pk),
                )
            request_ids += [request.pk for request in requests]
    return ReplyOutcome(
        "withdrawn", tenant_ids=tuple(sorted(by_tenant)), request_ids=tuple(sorted(request_ids))
    )


def _no_route_reason(reply: _Reply) -> str:
    if reply.sender and not ReplyRoute.objects.filter(sender=reply.sender).exists():
        return ReplyReason.UNKNOWN_SENDER
    return ReplyReason.NO_OPEN_REQUEST


def _unmatched(reply: _Reply, reason: str, tenant: Tenant | None) -> ReplyOutcome:
    parsed = reply.parsed
    if tenant is None:
        if not reply.routes and reason != ReplyReason.UNPARSEABLE:
            reason = _no_route_reason(reply)  # a code or a yes, but nothing was asked
        UnroutedReply.objects.create(
            sender=reply.sender,
            provider_message_id=reply.provider_message_id,
            decision=parsed.decision or "",
            has_code=parsed.code is not None,
            reason=reason,
            tenants=len(reply.tenants),
        )
        logger.info("SMS reply %s reaches no tenant (%s)", reply.provider_message_id, reason)
        return ReplyOutcome("unrouted", reason=reason)
    with tenant_context(tenant):
        row = UnmatchedReply.objects.create(
            tenant=tenant,
            from_number=reply.from_number,
            number_key=reply.key,
            sender=reply.sender,
            body=reply.body,
            decision=parsed.decision or "",
            code=parsed.code or "",
            reason=reason,
            provider_message_id=reply.provider_message_id,
        )
        audit_record(
            action="consent.sms_reply_unmatched",
            actor=SYSTEM,
            object_type="consent.sms_reply",
            object_id=row.pk,
            data={"reason": reason},
        )
    return ReplyOutcome("unmatched", tenant_ids=(tenant.pk,), reason=reason)


# ---------------------------------------------------------------------------
# The replies a person handles (the active tenant's)


def unmatched_replies():
    return UnmatchedReply.objects.filter(status=ReplyStatus.OPEN).select_related("handled_by")


def reply_candidates(reply: UnmatchedReply) -> list[ConsentRequest]:
    """The open SMS requests ``reply`` may answer: those sent to its number."""
    if not reply.from_number:
        return []
    request_ids = list(
        ReplyRoute.objects.filter(tenant=require_tenant(), number_key=reply.number_key)
        .values_list("request_id", flat=True)
        .distinct()
    )
    return list(
        ConsentRequest.objects.filter(
            Q(pk__in=request_ids) | Q(destination=reply.from_number),
            channel=Channel.SMS,
            status__in=OPEN_STATUSES,
            expires_at__gt=timezone.now(),
        )
        .select_related("customer")
        .order_by("-created_at", "-pk")
    )


def _handle(reply: UnmatchedReply) -> UnmatchedReply:
    reply = UnmatchedReply.objects.select_for_update().get(pk=reply.pk)
    if reply.status != ReplyStatus.OPEN:
        raise ValidationError(
            {"reply": _("Someone has already handled this reply.")}, code="handled"
        )
    return reply


def _close(reply: UnmatchedReply, status: str, *, actor: Actor, **fields) -> None:

    # The number and the text served their purpose: the decision (or none) remains.
    reply.status = status
    reply.handled_at = timezone.now()
    reply.handled_by = actor.signed_in_user()
    reply.from_number = reply.number_key = reply.body = ""
    for name, value in fields.items():
        setattr(reply, name, value)
    reply.save()


@transaction.atomic
def unmatched_reply_assign(
    *, reply: UnmatchedReply, request_id: int | str, decision: str, actor: Actor
) -> ConsentDecision:
    """Record ``decision`` as the customer's SMS answer to one of the number's open requests."""
    from .services import consent_record

    reply = _handle(reply)
    if decision not in (Decision.GRANTED, Decision.DECLINED):
        raise ValidationError({"decision": _("Choose yes or no.")}, code="invalid")
    request = next((r for r in reply_candidates(reply) if str(r.pk) == str(request_id)), None)
    if request is None:
        raise ValidationError(
            {"request": _("Choose one of the open requests sent to this number.")},
            code="invalid",
        )
    proof = consent_record(
        customer=request.customer,
        decision=decision,
        method=Method.SMS_REPLY,
        actor=actor,
        request=request,
    )
    _close(reply, ReplyStatus.ASSIGNED, actor=actor, assigned_request_id=request.pk)
    audit_record(
        action="consent.sms_reply_assigned",
        actor=actor,
        object_type="consent.sms_reply",
        object_id=reply.pk,
        data={"request_id": request.pk, "decision_id": proof.pk, "decision": decision},
    )
    return proof


@transaction.atomic
def unmatched_reply_dismiss(*, reply: UnmatchedReply, actor: Actor) -> None:
    """Decide nothing from ``reply`` and take it off the list."""
    reply = _handle(reply)
    _close(reply, ReplyStatus.DISMISSED, actor=actor)
    audit_record(
        action="consent.sms_reply_dismissed",
        actor=actor,
        object_type="consent.sms_reply",
        object_id=reply.pk,
        data={"reason": reply.reason},
    )


def reply_routes_backfill() -> int:
    """Codes and routes for the active tenant's open SMS requests sent before reply codes
    existed, so a bare JA to them is routed by the same rules (``manage.py
    consent_reply_routes_backfill``). Returns how many requests got one."""
    count = 0
    with transaction.atomic():
        requests = ConsentRequest.objects.filter(
            channel=Channel.SMS,
            status__in=OPEN_STATUSES,
            expires_at__gt=timezone.now(),
            sms_reply_code="",
        )
        for request in requests:
            reply_code_assign(request=request)
            count += 1
    return count
