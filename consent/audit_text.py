"""How consent's audit entries read (audit/describe.py discovers this module)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as L
from django.utils.translation import ngettext

from audit.describe import action
from audit.models import ActorType

from .models import Decision, Method

G = "consent"


def _by(channel) -> str:
    return {"email": _("by email"), "sms": _("by SMS")}.get(channel, _("by email or SMS"))


def _method(method) -> str:
    return {
        "link": _("through the link"),
        "sms_reply": _("by SMS reply"),
        "pos": _("at the point of sale"),
    }.get(method, _("through staff"))


def _templates(decision: str) -> tuple[str, str]:
    """(the customer acting: the link, an SMS reply; staff or a till recording it)."""
    if decision == Decision.GRANTED:
        return (
            _("{customer} granted consent {method}, terms version {version}."),
            _("{actor} recorded that {customer} granted consent ({how}), terms version {version}."),
        )
    if decision == Decision.DECLINED:
        return (
            _("{customer} declined consent {method}."),
            _("{actor} recorded that {customer} declined consent ({how})."),
        )
    return (
        _("{customer} withdrew consent {method}."),
        _("{actor} recorded that {customer} withdrew consent ({how})."),
    )


def _decision(decision: str):
    def sentence(d):
        own, recorded = _templates(decision)  # translated now, in the reader's language
        method = d.data.get("method")
        by_customer = d.event.actor_type in (ActorType.CUSTOMER, ActorType.SYSTEM)
        values = {
            "customer": d.customer(),
            "version": d.data.get("terms_version") or "—",
        }
        if by_customer and method in ("link", "sms_reply"):
            return d.say(own, method=_method(method), **values)
        return d.say(recorded, how=d.choice(Method, method), **values)

    return sentence


action("consent.granted", L("Consent granted"), G, _decision(Decision.GRANTED))
action("consent.declined", L("Consent declined"), G, _decision(Decision.DECLINED))
action("consent.withdrawn", L("Consent withdrawn"), G, _decision(Decision.WITHDRAWN))
action(
    "consent.requested",
    L("Consent requested"),
    G,
    lambda d: d.say(
        _("{actor} asked the customer {customer} for consent {by}, terms version {version}."),
        customer=d.customer(),
        by=_by(d.data.get("channel")),
        version=d.data.get("terms_version") or "—",
    ),
)
action(
    "consent.request_expired",
    L("Consent request expired"),
    G,
    lambda d: d.say(_("A consent request expired without an answer.")),
)
action(
    "consent.reminder_sent",
    L("Consent reminder sent"),
    G,
    lambda d: d.say(
        _("{actor} sent a reminder about a consent request {by}."),
        by=_by(d.data.get("channel")),
    ),
)
action(
    "consent.renewal_requested",
    L("Consent renewal requested"),
    G,
    lambda d: d.say(
        _("{actor} asked the customer {customer} to renew consent, valid until {date}."),
        customer=d.customer(),
        date=d.date(d.data.get("valid_until")),
    ),
)
action(
    "consent.renewal_unreachable",
    L("Consent renewal not possible"),
    G,
    lambda d: d.say(
        _("The customer {customer} could not be asked to renew consent: no address to send to."),
        customer=d.customer(),
    ),
)
action(
    "consent.lapsed",
    L("Consent lapsed"),
    G,
    lambda d: d.say(
        _("The consent of the customer {customer} lapsed on {date} (terms version {version})."),
        customer=d.customer(),
        date=d.date(d.data.get("valid_until")),
        version=d.data.get("terms_version") or "—",
    ),
)
action(
    "consent.refreshed",
    L("Consent requests refreshed"),
    G,
    lambda d: d.say(
        _("{actor} refreshed the consent requests: {expired} expired, {polled} checked."),
        expired=d.number(d.data.get("expired", 0)),
        polled=d.number(d.data.get("polled", 0)),
    ),
)
action(
    "consent.terms_published",
    L("Consent text published"),
    G,
    lambda d: d.say(
        _("{actor} published version {version} of the consent text in {language}."),
        version=d.data.get("version", "—"),
        language=d.data.get("language", "—"),
    ),
)
action(
    "consent.settings_changed",
    L("Consent settings changed"),
    "settings",
    lambda d: d.say(
        _(
            "{actor} changed the consent settings: links valid {days} days, reminder after "
            "{reminder} days, consent valid {months} months."
        ),
        days=d.number(d.data.get("request_valid_days")),
        reminder=d.number(d.data.get("reminder_after_days")),
        months=d.number(d.data.get("consent_valid_months")),
    ),
)


def _batch_started(d):
    n = d.count(d.data.get("total"))
    return d.say(
        ngettext(
            "{actor} started a consent batch to {count} customer {by}.",
            "{actor} started a consent batch to {count} customers {by}.",
            n,
        ),
        count=d.number(n),
        by=_by(d.data.get("channel")),
    )


def _batch_result(template):
    return lambda d: d.say(
        template,
        batch=d.event.object_id,
        sent=d.number(d.data.get("sent", 0)),
        skipped=d.number(d.data.get("skipped", 0)),
        failed=d.number(d.data.get("failed", 0)),
    )


action("consent.batch_started", L("Consent batch started"), G, _batch_started)
action(
    "consent.batch_finished",
    L("Consent batch finished"),
    G,
    lambda d: _batch_result(
        _("Consent batch {batch} finished: {sent} sent, {skipped} skipped, {failed} failed.")
    )(d),
)
action(
    "consent.batch_stopped",
    L("Consent batch stopped"),
    G,
    lambda d: _batch_result(
        _("Consent batch {batch} stopped: {sent} sent, {skipped} skipped, {failed} failed.")
    )(d),
)


def _unreachable_exported(d):
    n = d.count(d.data.get("count"))
    return d.say(
        ngettext(
            "{actor} exported the {count} customer consent batch {batch} could not reach.",
            "{actor} exported the {count} customers consent batch {batch} could not reach.",
            n,
        ),
        count=d.number(n),
        batch=d.event.object_id,
    )


action(
    "consent.batch_unreachable_exported",
    L("Unreached customers of a batch exported"),
    "exports",
    _unreachable_exported,
)
action(
    "consent.sms_reply_unmatched",
    L("SMS reply not matched"),
    G,
    lambda d: d.say(_("An SMS reply could not be matched to a consent request.")),
)
action(
    "consent.sms_reply_assigned",
    L("SMS reply assigned"),
    G,
    lambda d: d.say(
        _("{actor} assigned an SMS reply to a consent request: {decision}."),
        decision=d.choice(Decision, d.data.get("decision")),
    ),
)
action(
    "consent.sms_reply_dismissed",
    L("SMS reply dismissed"),
    G,
    lambda d: d.say(_("{actor} dismissed an SMS reply.")),
)
