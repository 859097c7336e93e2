"""Output and query shapes of the eligibility API (issue 9 item 4)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from . import eligibility
from .models import AnonymizationRun
from .registry import CATEGORY_LABELS

CATEGORY_CHOICES = list(CATEGORY_LABELS.items())
BLOCKER_CHOICES = [(code, label) for code, label in eligibility.BLOCKER_LABELS.items()]


class PeriodSource:
    CUSTOMER = "customer"  # the customer's own override
    PROSPECTS = "prospects"
    CUSTOMERS = "customers"


PERIOD_SOURCES = [
    (PeriodSource.CUSTOMER, _("The customer's own period")),
    (PeriodSource.PROSPECTS, _("The period for prospects")),
    (PeriodSource.CUSTOMERS, _("The period for customers")),
]


def period_source(customer) -> str:
    if customer.retention_years:
        return PeriodSource.CUSTOMER
    return PeriodSource.PROSPECTS if customer.is_prospect else PeriodSource.CUSTOMERS


class EligibilitySerializer(serializers.Serializer):
    """One customer, annotated by ``eligibility.eligibility_annotate`` (``today`` in context)."""

    customer = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    status = serializers.CharField()
    eligible = serializers.SerializerMethodField(
        help_text=_("True when nothing keeps the customer from being anonymized today.")
    )
    eligible_on = serializers.DateField(
        help_text=_("The first day the retention period allows anonymization.")
    )
    period_ends_on = serializers.DateField(
        help_text=_(
            "The last day of the retention period: the end of the fiscal year of "
            "the last activity plus the period."
        )
    )
    retention_years = serializers.IntegerField(source="retention_period")
    period_source = serializers.SerializerMethodField()
    is_prospect = serializers.BooleanField(
        help_text=_("It has documents, and all of them are quotes.")
    )
    last_activity_at = serializers.DateTimeField(allow_null=True)
    blockers = serializers.SerializerMethodField(
        help_text=_("Every reason it may not be anonymized today; empty when eligible.")
    )

    def _reasons(self, customer) -> list[str]:
        return eligibility.reasons_of(customer, today=self.context["today"])

    def get_eligible(self, customer) -> bool:
        return not self._reasons(customer)

    def get_period_source(self, customer) -> str:
        return period_source(customer)

    def get_blockers(self, customer) -> list[str]:
        return self._reasons(customer)


class EligibilityListParamsSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[("eligible", _("Eligible today")), ("blocked", _("Blocked"))],
        help_text=_(
            "eligible: may be anonymized today; blocked: kept by an open document, "
            "a balance or a legal hold."
        ),
    )
    prospects = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("true: only prospects; false: only customers; left out: both."),
    )


class AnonymizationRunSerializer(serializers.ModelSerializer):
    """A run's counts and status; no personal data (the note is about the run)."""

    categories = serializers.ListField(child=serializers.ChoiceField(choices=CATEGORY_CHOICES))
    started_by = serializers.SerializerMethodField()

    class Meta:
        model = AnonymizationRun
        fields = [
            "id",
            "status",
            "source",
            "categories",
            "note",
            "total",
            "anonymized",
            "skipped",
            "residue",
            "files_deleted",
            "counts",
            "created_at",
            "started_at",
            "finished_at",
            "started_by",
        ]

    def get_started_by(self, run) -> str:
        """The user's name, or the kind of actor (api_key, system) for others."""
        if run.created_by:
            return run.created_by.get_full_name() or run.created_by.get_username()
        return run.actor_type
