from .roles import ROLE_PERMISSIONS
from .selectors import memberships_of


def tenancy(request):
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    if membership is None or user is None or not user.is_authenticated:
        return {"current_tenant": None, "tenant_memberships": [], "perms_in_tenant": frozenset()}
    return {
        "current_tenant": membership.tenant,
        "current_membership": membership,
        "tenant_memberships": memberships_of(user),
        "perms_in_tenant": ROLE_PERMISSIONS.get(membership.role, frozenset()),
    }
