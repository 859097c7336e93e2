"""The second factor before any company page (tenancy/mfa.py).

After the password, a signed-in user whose session has not yet been verified with a
second factor is held here:

- who has a confirmed authenticator app is sent to the code step (every company page,
  whatever the company's policy: they chose it, and a password alone must not do);
- who has none, but whose role in the active company requires one, is sent to set it
  up (only the set-up pages themselves are let through);
- a browser-session API call in either state is refused (403 problem+json); API keys
  are not sessions and are never held here.

Public pages (sign-in, the code step, log-out, the consent page ...) are never held.
Runs in ``process_view``, after TenantMiddleware chose the membership and before it
opens the request's transaction.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from . import mfa
from .url_prefix import PUBLIC_VIEWS, without_company_prefix

# The pages that set a second factor up: open to who must enrol before anything else.
SETUP_VIEWS = frozenset({"mfa-setup", "mfa-start", "mfa-confirm"})
VERIFY_VIEW = "mfa-verify"
API_PREFIX = "/api/v"


def _owed(request) -> str | None:
    """ "verify", "enrol" or None: what the session still owes before company pages."""
    user = request.user
    if not user.is_authenticated or mfa.is_verified(request):
        return None
    if mfa.has_second_factor(user):
        return "verify"
    membership = getattr(request, "membership", None)
    if membership is not None and mfa.role_requires_mfa(membership.tenant, membership.role):
        return "enrol"
    return None


class MfaGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(API_PREFIX):
            header = request.META.get("HTTP_AUTHORIZATION", "")
            if header.startswith("Api-Key ") or _owed(request) is None:
                return None
            from config.api_guard import problem_json  # the API's error shape (top layer)

            return problem_json(
                403,
                "two-factor-required",
                _("Sign in with your second factor in the browser first."),
            )
        match = request.resolver_match
        name = match.view_name if match is not None else ""
        if name in PUBLIC_VIEWS or name == VERIFY_VIEW:
            return None
        owed = _owed(request)
        if owed == "verify":
            with without_company_prefix():
                url = reverse(VERIFY_VIEW)
            return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
        if owed == "enrol" and name not in SETUP_VIEWS:
            return redirect("mfa-setup")
        return None
