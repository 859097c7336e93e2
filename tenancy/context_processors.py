from .roles import ROLE_PERMISSIONS, SETTINGS_AREA_PERMS
from .selectors import memberships_of


def tenancy(request):
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    if membership is None or user is None or not user.is_authenticated:
        return {"current_tenant": None, "tenant_memberships": [], "perms_in_tenant": frozenset()}
    perms = ROLE_PERMISSIONS.get(membership.role, frozenset())
    return {
        "current_tenant": membership.tenant,
        "current_membership": membership,
        "tenant_memberships": memberships_of(user),
        "perms_in_tenant": perms,
        "can_open_settings": bool(perms & SETTINGS_AREA_PERMS),
    }
