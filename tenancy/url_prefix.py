"""The company in the URL: tenant pages live under ``/t/<tenant slug>/`` (as pretix's organizer).

The active company used to live only in the session, so switching company in one tab
changed what a form or an export link open in another tab acted on. Now the company an
action belongs to travels with its URL:

- ``/t/<slug>/rest`` is served as ``/rest`` with the script prefix extended by
  ``t/<slug>/``, so every ``reverse()``, ``{% url %}`` and redirect made while answering
  stays in that company, and no urlpattern knows about the prefix;
- the URL's company must be one of the user's, else 404 (another tenant's page does not
  exist for this user); it is used for that request only: the session's choice, which
  unprefixed URLs fall back on, is not changed;
- an unprefixed tenant page (a bookmark, the page after login) redirects a GET to the
  session's company; any other method is refused with a page that says so, because
  nobody can tell which company a form without a prefix was meant for;
- public pages (sign-in, the consent page, webhooks, the API, the company switch ...) have
  no prefix. A prefixed GET of one redirects to its unprefixed URL; other methods (the
  language, company and log-out forms of a tenant page) are served as if unprefixed, so
  whatever they build (emails, redirects) carries no company prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from asgiref.local import Local
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import Resolver404, get_script_prefix, resolve, set_script_prefix
from django.utils.encoding import escape_uri_path

from .middleware import SESSION_KEY
from .selectors import membership_for_session, memberships_of

PREFIXED_PATH = re.compile(r"/t/(?P<slug>[-a-zA-Z0-9_]+)(?P<rest>/.*)?", re.DOTALL)

# Pages that belong to no company, by view name; everything under /api/ is public too
# (an API key names its tenant). A new view is a tenant page unless it is named here.
PUBLIC_VIEWS = frozenset(
    {
        "login",
        "logout",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "mfa-verify",  # the second step of signing in (tenancy/mfa_gate.py)
        "set_language",
        "healthz",
        "consent-page",
        "consent-brand-css",
        "consent-brand-logo",
        "tenant-switch",
        "notifications:twilio-status",
        "notifications:twilio-inbound",
        "notifications:anymail-tracking",
    }
)
SAFE_METHODS = ("GET", "HEAD")

# The script prefix a company prefix was added to (WSGI SCRIPT_NAME; "/" without one),
# per thread like Django's own script prefix.
_base = Local()


def base_script_prefix() -> str:
    """The script prefix without any company prefix."""
    return getattr(_base, "prefix", None) or get_script_prefix()


@contextmanager
def without_company_prefix() -> Iterator[None]:
    """``reverse()`` without the request's company prefix, for links that leave the request
    (an email built while a tenant page is answered). They point at public pages anyway."""
    current = get_script_prefix()
    set_script_prefix(base_script_prefix())
    try:
        yield
    finally:
        set_script_prefix(current)


def is_public_path(path_info: str) -> bool | None:
    """True for a public page, False for a tenant page, None for no page at all."""
    if path_info.startswith("/api/"):
        return True
    try:
        match = resolve(path_info)
    except Resolver404:
        return None
    return match.view_name in PUBLIC_VIEWS


def company_url(tenant, path: str = "/", query: str = "") -> str:
    """``path`` (a path inside the app, like ``/customers/``) in ``tenant``'s URL space.

    Inside a prefixed request ``reverse()`` already gives the request's own company; this
    is for another company, or for a request without a company prefix.
    """
    url = f"{base_script_prefix()}t/{tenant.slug}{escape_uri_path(path)}"
    return f"{url}?{query}" if query else url


def _unprefixed_url(path_info: str, query: str) -> str:
    url = get_script_prefix().rstrip("/") + escape_uri_path(path_info)
    return f"{url}?{query}" if query else url


class TenantUrlMiddleware:
    """Takes the company from a ``/t/<slug>/`` URL prefix (before TenantMiddleware).

    Sets ``request.url_tenant_slug`` and, for a signed-in user, ``request.url_membership``
    (their membership in that company); TenantMiddleware enters that tenant.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = PREFIXED_PATH.fullmatch(request.path_info)
        if match is None:
            return self._unprefixed(request)
        slug, rest = match["slug"], match["rest"]
        query = request.META.get("QUERY_STRING", "")
        if rest is None:  # "/t/nordljus": the company's home
            if request.method in SAFE_METHODS:
                return HttpResponseRedirect(escape_uri_path(request.path + "/"))
            raise Http404
        if is_public_path(rest):
            if request.method in SAFE_METHODS:
                return HttpResponseRedirect(_unprefixed_url(rest, query))
            request.path = get_script_prefix().rstrip("/") + rest
            request.path_info = request.META["PATH_INFO"] = rest
            return self.get_response(request)
        user = getattr(request, "user", None)
        request.url_tenant_slug = slug
        request.url_membership = None
        if user is not None and user.is_authenticated:
            request.url_membership = memberships_of(user).filter(tenant__slug=slug).first()
            if request.url_membership is None:
                # Not one of the user's companies, or none at all: the same 404 either way.
                raise Http404
        base = get_script_prefix()
        prefix = f"{base}t/{slug}/"
        # request.path keeps the full path: it is what the browser asked for.
        request.path_info = request.META["PATH_INFO"] = rest
        request.META["SCRIPT_NAME"] = prefix.rstrip("/")
        _base.prefix = base
        set_script_prefix(prefix)
        try:
            return self.get_response(request)
        finally:
            set_script_prefix(base)
            del _base.prefix

    def _unprefixed(self, request):
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if not signed_in or is_public_path(request.path_info) is not False:
            return self.get_response(request)
        membership = membership_for_session(user, request.session.get(SESSION_KEY))
        if membership is None:  # no company at all: the views answer as before (404)
            return self.get_response(request)
        if request.method in SAFE_METHODS:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponseRedirect(company_url(membership.tenant, request.path_info, query))
        return render(request, "tenancy/company_missing.html", status=400)
