"""The tenant's report settings: read them (defaults until saved) and change them.

A module of its own rather than ``selectors.py`` / ``services.py``: one small concern
(the label sheet), kept apart from the exports' reads and audit records.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.actors import Actor
from audit.services import audit_record
from tenancy.context import require_tenant

from .models import LabelLayout, ReportSettings

SETTINGS_CHANGED = "reports.settings_changed"


def report_settings() -> ReportSettings:
    """The active tenant's settings; unsaved, with the defaults, when none are saved."""
    tenant = require_tenant()
    row = ReportSettings.objects.filter(tenant=tenant).first()
    return row if row is not None else ReportSettings(tenant=tenant)


@transaction.atomic
def report_settings_update(*, label_layout: str, actor: Actor) -> ReportSettings:
    """Choose the label sheet the tenant prints on; recorded in the audit log."""
    if label_layout not in LabelLayout.values:
        raise ValidationError({"label_layout": _("Choose one of the label sheets.")})
    # get_or_create: two first saves at once meet the unique constraint, and the loser
    # reads the winner's row instead of failing.
    row, _created = ReportSettings.objects.select_for_update().get_or_create(
        tenant=require_tenant()
    )
    before = row.label_layout
    row.label_layout = label_layout
    row.save()
    if before != label_layout:
        audit_record(
            action=SETTINGS_CHANGED,
            actor=actor,
            object_type="report_settings",
            object_id=row.pk,
            data={"label_layout": label_layout},
        )
    return row
