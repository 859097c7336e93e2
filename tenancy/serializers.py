from rest_framework import serializers


class MeSerializer(serializers.Serializer):
    tenant = serializers.CharField()
    tenant_name = serializers.CharField()
    key = serializers.CharField(allow_null=True)
    user = serializers.CharField(allow_null=True)
    scopes = serializers.ListField(child=serializers.CharField())
