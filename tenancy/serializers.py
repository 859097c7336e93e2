from rest_framework import serializers

from .models import ReferenceEntry


class MeSerializer(serializers.Serializer):
    tenant = serializers.CharField()
    tenant_name = serializers.CharField()
    key = serializers.CharField(allow_null=True)
    user = serializers.CharField(allow_null=True)
    scopes = serializers.ListField(child=serializers.CharField())


class ReferenceEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = ReferenceEntry
        fields = ["id", "register", "code", "name", "description", "sort_order", "is_active"]
        read_only_fields = ["id"]
