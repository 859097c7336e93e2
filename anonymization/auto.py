"""Automatic anonymization of eligible prospects (issue 10 item 6).

Off by default: a tenant's admin turns it on on Settings → Retention
(``RetentionPolicy.auto_anonymize_prospects``). Once a day the beat task
``anonymization.auto_prospects`` calls ``anonymization_auto_prospects_start`` for each active
tenant: the prospects eligible today (``eligibility.eligible_customers(prospects=True)``)
become one run through the same service as the Anonymization page
(``runs.anonymization_run_start``), so it is checked, worked in chunks, resumed and audited
like a manual run; its source is "Schedule", its actor the system component
``auto_prospects``. No run is started when no prospect is eligible, nor while the tenant's
previous scheduled run is still queued or running.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from audit.actors import Actor
from tenancy.context import require_tenant

from . import eligibility
from .models import AnonymizationRun, RetentionPolicy, RunSource, RunStatus
from .runs import anonymization_run_start

logger = logging.getLogger(__name__)

AUTO_ACTOR = "auto_prospects"
# Stored with the run in the company's language (the log shows it as the run's note).
AUTO_NOTE = _("Automatic anonymization of eligible prospects")


def anonymization_auto_prospects_start() -> AnonymizationRun | None:
    """The active tenant's scheduled run of its eligible prospects, or None when it is off,
    a scheduled run is still under way, or no prospect is eligible today."""
    tenant = require_tenant()
    with transaction.atomic():
        # The policy row locked: two ticks at once start one run, not two.
        policy = RetentionPolicy.objects.select_for_update().filter(tenant=tenant).first()
        if policy is None or not policy.auto_anonymize_prospects:
            return None
        if AnonymizationRun.objects.filter(
            source=RunSource.SCHEDULE, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
        ).exists():
            return None
        ids = list(
            eligibility.eligible_customers(prospects=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            return None
        with translation.override(tenant.default_language):
            note = str(AUTO_NOTE)
        try:
            with transaction.atomic():
                return anonymization_run_start(
                    customer_ids=ids,
                    actor=Actor.system(AUTO_ACTOR),
                    source=RunSource.SCHEDULE,
                    categories=None,  # every kind of data
                    note=note,
                )
        except ValidationError:
            # None eligible after all (a hold set, a sale recorded since the query).
            return None
