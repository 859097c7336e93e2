from rest_framework import serializers

from .models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "chain",
            "seq",
            "created_at",
            "actor_type",
            "actor_id",
            "action",
            "object_type",
            "object_id",
            "data",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields
