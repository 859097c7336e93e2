"""Input and output shapes of the sales-document API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from customers.serializers import MAX_ID, CountryField, CustomerIdField

from .models import DocumentKind, DocumentStatus, SalesDocument


def _text(max_length: int) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, trim_whitespace=True
    )


class SalesDocumentPostSerializer(serializers.Serializer):
    customer = CustomerIdField(help_text=_("The customer's id."))
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    number = serializers.CharField(max_length=40)
    date = serializers.DateField()
    status = serializers.ChoiceField(choices=DocumentStatus.choices)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    balance = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text=_("The amount still open.")
    )
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        required=False,
        help_text=_("ISO 4217; the company's currency when left out."),
        error_messages={"invalid": _("Three capital letters (ISO 4217), e.g. SEK.")},
    )
    customer_name = _text(200)
    line1 = _text(200)
    line2 = _text(200)
    postcode = _text(20)
    city = _text(100)
    country = CountryField(required=False, allow_blank=True)


class SalesDocumentListParamsSerializer(serializers.Serializer):
    customer = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text=_("Only this customer's.")
    )


class SalesDocumentSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id")

    class Meta:
        model = SalesDocument
        fields = [
            "id",
            "customer",
            "kind",
            "number",
            "date",
            "status",
            "amount",
            "balance",
            "currency",
            "customer_name",
            "line1",
            "line2",
            "postcode",
            "city",
            "country",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
