"""Input and output shapes of the consent API (docs/api.md)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from customers.serializers import ConsentSerializer
from tenancy.models import LANGUAGE_CHOICES

from .models import (
    ConsentDecision,
    ConsentRequest,
    ConsentTerms,
    Decision,
    ManualHow,
    RequestStatus,
)


class ConsentRequestCreateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=["email", "sms", "any"],
        help_text="`any`: the customer's email if there is one, else the mobile number.",
    )
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES, required=False, allow_null=True)


class ConsentRequestSerializer(serializers.ModelSerializer):
    # A closed set: the schema names its values, so a generated client can parse them.
    status = serializers.ChoiceField(
        choices=RequestStatus.choices, source="effective_status", read_only=True
    )
    destination_masked = serializers.CharField()
    customer = serializers.IntegerField(source="customer_id")
    terms_version = serializers.IntegerField(source="terms.version")

    class Meta:
        model = ConsentRequest
        fields = [
            "id",
            "status",
            "channel",
            "destination_masked",
            "expires_at",
            "language",
            "terms_version",
            "customer",
            "created_at",
        ]


class PosContextSerializer(serializers.Serializer):
    store = serializers.CharField(max_length=100, required=False, allow_blank=True)
    terminal = serializers.CharField(max_length=100, required=False, allow_blank=True)
    staff = serializers.CharField(max_length=100, required=False, allow_blank=True)


class ConsentDecisionCreateSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    terms_version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, required=False, allow_null=True
    )
    method = serializers.ChoiceField(choices=["pos", "manual"], default="pos")
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES, required=False, allow_null=True)
    context = PosContextSerializer(required=False, allow_null=True)
    how = serializers.ChoiceField(choices=ManualHow.choices, required=False, allow_blank=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    def validate(self, attrs):
        if attrs["decision"] == Decision.GRANTED and not attrs.get("terms_version"):
            raise serializers.ValidationError(
                {"terms_version": _("Say which version of the text was shown.")}
            )
        return attrs


class ConsentDecisionSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id")
    request = serializers.IntegerField(source="request_id", allow_null=True)

    class Meta:
        model = ConsentDecision
        fields = [
            "id",
            "receipt_id",
            "customer",
            "decision",
            "method",
            "terms_version",
            "terms_language",
            "terms_sha256",
            "decided_at",
            "context",
            "how",
            "request",
        ]


# The current state is customers' ``Consent`` component (docs/api.md's one shape).
ConsentStateSerializer = ConsentSerializer


class ConsentRecordedSerializer(serializers.Serializer):
    """The state after a recorded decision, and the decision's proof."""

    # Plain text here: the enum is documented once, on the ``Consent`` component.
    status = serializers.CharField(help_text="As in `Consent.status`.")
    terms_version = serializers.IntegerField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    method = serializers.CharField(allow_null=True)
    decision = ConsentDecisionSerializer()


class ConsentTermsSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(source="text_sha256")

    class Meta:
        model = ConsentTerms
        fields = ["language", "version", "text", "sha256", "published_at"]


class TermsParamsSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES, required=False)


class ConsentTermsPublishSerializer(serializers.Serializer):
    """A new version of the consent text in one language (the same text again publishes
    nothing: the current version answers, 200)."""

    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES)
    text = serializers.CharField(max_length=20000, help_text=_("The text customers are shown."))


class PublishedTermsSerializer(serializers.ModelSerializer):
    """The current version in one language (its text: ``consent-terms/current/``)."""

    sha256 = serializers.CharField(source="text_sha256")

    class Meta:
        model = ConsentTerms
        fields = ["language", "version", "sha256", "published_at"]


class ConsentChannelsSerializer(serializers.Serializer):
    email = serializers.BooleanField(help_text=_("Always true."))
    sms = serializers.BooleanField(
        help_text=_("Whether the company subscribes to SMS (an administrator switches it on).")
    )


class ConsentSettingsSerializer(serializers.Serializer):
    """What a client needs before asking for consent."""

    channels = ConsentChannelsSerializer(help_text=_("The channels a request may go by."))
    # Plain text: the language enum is documented once, on the fields that take one.
    languages = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("The company's languages; the first is its default."),
    )
    default_language = serializers.CharField()
    terms = PublishedTermsSerializer(
        many=True,
        help_text=_(
            "The current consent text per language; a request in a language not listed "
            "is refused (no-consent-terms)."
        ),
    )
    request_valid_days = serializers.IntegerField(
        help_text=_("How many days a consent link stays valid.")
    )
