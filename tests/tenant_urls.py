"""Tenant pages live under /t/<tenant slug>/ (tenancy/url_prefix.py); helpers for tests.

``CompanyClient`` is a signed-in browser that follows the app's own links: those always
carry the company, so it asks for "/customers/" as "/t/<slug>/customers/", the slug
being its session's company (the one an unprefixed GET is redirected to). Paths that
already carry a prefix, and public pages, are requested as given. Tests of unprefixed
requests themselves use a plain ``django.test.Client``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.test import Client

from tenancy.middleware import SESSION_KEY
from tenancy.selectors import membership_for_session
from tenancy.url_prefix import PREFIXED_PATH, is_public_path


def in_company(tenant, path: str) -> str:
    """``path`` as the app links to it inside ``tenant``: "/customers/" → "/t/<slug>/customers/"."""
    return f"/t/{tenant.slug}{path}"


class CompanyClient(Client):
    def generic(self, method, path, *args, **kwargs):
        return super().generic(method, self._in_company(str(path)), *args, **kwargs)

    def _in_company(self, path: str) -> str:
        parts = urlsplit(path)
        if parts.scheme or parts.netloc or PREFIXED_PATH.fullmatch(parts.path):
            return path
        if is_public_path(parts.path) is not False:
            return path
        user_id = self.session.get("_auth_user_id")
        if user_id is None:
            return path
        user = get_user_model().objects.get(pk=user_id)
        membership = membership_for_session(user, self.session.get(SESSION_KEY))
        return in_company(membership.tenant, path) if membership is not None else path
