from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import EventType


class EventParamsSerializer(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0,
        max_value=2**63 - 1,
        required=False,
        default=0,
        help_text=_("The cursor: the last event id you have seen (0 or left out: from the start)."),
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=500, required=False, default=100, help_text=_("At most 500.")
    )


class EventObjectSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()


class EventSerializer(serializers.Serializer):
    """An event as the feed lists it and a webhook carries it: ids and codes only."""

    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=EventType.choices)
    created_at = serializers.DateTimeField()
    tenant = serializers.CharField()
    object = EventObjectSerializer()
    data = serializers.DictField()


class EventPageSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    next_after = serializers.IntegerField(help_text=_("Pass as `after` to read on."))
    has_more = serializers.BooleanField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
