from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from .api_auth import SCOPE_PERMS
from .roles import role_has_perm
from .serializers import MeSerializer


class MeView(APIView):
    """Who is calling: the tenant, the key or user, and the scopes in effect."""

    @extend_schema(responses=MeSerializer, operation_id="me")
    def get(self, request):
        django_request = request._request
        key = getattr(django_request, "api_key", None)
        if key is not None:
            scopes, user = sorted(key.scopes), None
        else:
            role = django_request.membership.role
            scopes = sorted(s for s, perm in SCOPE_PERMS.items() if role_has_perm(role, perm))
            user = request.user.get_username()
        tenant = django_request.tenant
        data = {
            "tenant": tenant.slug,
            "tenant_name": tenant.name,
            "key": key.prefix if key else None,
            "user": user,
            "scopes": scopes,
        }
        return Response(MeSerializer(data).data)
