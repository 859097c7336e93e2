"""How retention, anonymization and mass deletion read in the audit log
(audit/describe.py discovers this module)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as L
from django.utils.translation import ngettext

from audit.describe import action

from .models import RetentionPolicy

G = "anonymization"


def _counted(template, key: str):
    """``template(n)``: the ngettext call (so the texts are found for translation)."""

    def sentence(d):
        n = d.count(d.data.get(key))
        return d.say(template(n), count=d.number(n))

    return sentence


action(
    "retention.policy_changed",
    L("Retention changed"),
    "settings",
    lambda d: d.say(
        _("{actor} changed the retention periods: {fields}."), fields=d.fields(RetentionPolicy)
    ),
)
action(
    "legal_hold.set",
    L("Legal hold set"),
    G,
    lambda d: d.say(_("{actor} put the customer {customer} on legal hold."), customer=d.customer()),
)
action(
    "legal_hold.lifted",
    L("Legal hold lifted"),
    G,
    lambda d: d.say(
        _("{actor} lifted the legal hold on the customer {customer}."), customer=d.customer()
    ),
)
action(
    "anonymization.chunk",
    L("Customers anonymized"),
    G,
    _counted(
        lambda n: ngettext(
            "{actor} anonymized {count} customer.",
            "{actor} anonymized {count} customers.",
            n,
        ),
        "anonymized",
    ),
)
action(
    "anonymization.replayed",
    L("Anonymization applied again"),
    G,
    _counted(
        lambda n: ngettext(
            "{actor} applied the anonymization of {count} customer again after a restore.",
            "{actor} applied the anonymization of {count} customers again after a restore.",
            n,
        ),
        "anonymized",
    ),
)
action(
    "anonymization.replay",
    L("Erasures replayed after a restore"),
    G,
    _counted(
        lambda n: ngettext(
            "{actor} replayed the erasure of {count} customer after a restore.",
            "{actor} replayed the erasure of {count} customers after a restore.",
            n,
        ),
        "anonymized",
    ),
)
action(
    "anonymization.run_started",
    L("Anonymization started"),
    G,
    _counted(
        lambda n: ngettext(
            "{actor} started anonymizing {count} customer.",
            "{actor} started anonymizing {count} customers.",
            n,
        ),
        "total",
    ),
)
action(
    "anonymization.scanned",
    L("Anonymized data checked"),
    G,
    _counted(
        lambda n: ngettext(
            "{actor} checked the anonymized data: {count} remnant found.",
            "{actor} checked the anonymized data: {count} remnants found.",
            n,
        ),
        "residue",
    ),
)


def _result(template: str, done_key: str):
    return lambda d: d.say(
        template,
        run=d.event.object_id,
        done=d.number(d.data.get(done_key, 0)),
        skipped=d.number(d.data.get("skipped", 0)),
    )


action(
    "anonymization.run_finished",
    L("Anonymization finished"),
    G,
    lambda d: _result(
        _("Anonymization run {run} finished: {done} anonymized, {skipped} skipped."), "anonymized"
    )(d),
)
action(
    "anonymization.run_stopped",
    L("Anonymization stopped"),
    G,
    lambda d: _result(
        _("Anonymization run {run} stopped: {done} anonymized, {skipped} skipped."), "anonymized"
    )(d),
)
action(
    "customer.mass_deletion_started",
    L("Mass deletion started"),
    G,
    lambda d: d.say(
        ngettext(
            "{actor} started deleting {count} customer ({excluded} kept back).",
            "{actor} started deleting {count} customers ({excluded} kept back).",
            d.count(d.data.get("total")),
        ),
        count=d.number(d.data.get("total", 0)),
        excluded=d.number(d.data.get("excluded", 0)),
    ),
)
action(
    "customer.mass_deleted",
    L("Customers deleted"),
    G,
    _counted(
        lambda n: ngettext(
            "{actor} deleted {count} customer.",
            "{actor} deleted {count} customers.",
            n,
        ),
        "count",
    ),
)
action(
    "customer.mass_deletion_finished",
    L("Mass deletion finished"),
    G,
    lambda d: _result(
        _("Deletion run {run} finished: {done} deleted, {skipped} skipped."), "deleted"
    )(d),
)
action(
    "customer.mass_deletion_stopped",
    L("Mass deletion stopped"),
    G,
    lambda d: _result(
        _("Deletion run {run} stopped: {done} deleted, {skipped} skipped."), "deleted"
    )(d),
)
