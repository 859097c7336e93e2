"""The customer's consent page, /c/<token>: no login, no JavaScript needed.

The token is found through kundreg_consent_token_lookup (selectors.request_locate),
the one narrow cross-tenant lookup; everything after it runs inside the request's
tenant. A wrong token is a 404 that looks like any other, and the page shows no
personal data but the customer's name.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit.actors import Actor
from tenancy.client_ip import client_ip
from tenancy.context import tenant_context
from tenancy.models import LANGUAGE_CHOICES

from . import selectors, services
from .models import OPEN_STATUSES, ConsentStatus, Decision, Method
from .views_brand import brand_urls

ACTIONS = {
    "accept": Decision.GRANTED,
    "decline": Decision.DECLINED,
    "withdraw": Decision.WITHDRAWN,
}


def _rate_limited(request) -> bool:
    """At most CONSENT_PAGE_RATE requests per client address and minute (cache-based)."""
    limit = getattr(settings, "CONSENT_PAGE_RATE", 30)
    key = f"consent-page:{client_ip(request) or 'unknown'}"
    cache.add(key, 0, timeout=60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=60)
        count = 1
    return count > limit


def _private(response: HttpResponse) -> HttpResponse:
    # The URL is a secret: never cached, never sent to another site as a referrer, never
    # indexed. Not "no-referrer": Chromium then posts the page's own form with
    # "Origin: null", which Django's CSRF check refuses (tests/browser/test_consent_flow.py).
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _url(path: str, **query: str) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def _choices(state_status: str, expired: bool, open_request: bool = False) -> list[str]:
    """Which buttons the page offers: withdrawing is always as easy as giving."""
    if state_status == ConsentStatus.GRANTED:
        # An unanswered request to a customer who consented (a renewal before the
        # consent lapses, consent.lifecycle) can still be accepted.
        return ["accept", "withdraw"] if open_request and not expired else ["withdraw"]
    if expired:
        return []
    if state_status == ConsentStatus.DECLINED:
        return ["accept"]
    return ["accept", "decline"]


def _languages(consent_request) -> list[dict[str, str]]:
    """The picker's languages: the request's own and every one with published terms."""
    return [
        {"code": code, "name": name}
        for code, name in LANGUAGE_CHOICES
        if code == consent_request.language or selectors.terms_current(language=code)
    ]


def _page_language(request, consent_request, languages: list[dict[str, str]]) -> str:
    """The language the customer picked (?lang=, kept through the POST in a hidden field),
    or the request's. Anything else falls back silently: this page answers customers."""
    data = request.POST if request.method == "POST" else request.GET
    chosen = data.get("lang", "")
    return chosen if chosen in {lang["code"] for lang in languages} else consent_request.language


def _terms_in(consent_request, language: str):
    """The terms shown: the request's own, or the newest published in the picked language."""
    if language == consent_request.language:
        return consent_request.terms
    return selectors.terms_current(language=language)


@require_http_methods(["GET", "POST"])
def consent_page(request, token: str):
    if _rate_limited(request):
        response = render(request, "consent/rate_limited.html", status=429)
        response["Retry-After"] = "60"
        return _private(response)
    located = selectors.request_locate(token)
    if located is None:
        raise Http404
    request_id, tenant = located
    with tenant_context(tenant):
        consent_request = selectors.request_for_page(request_id)
        if consent_request is None:
            raise Http404
        customer = consent_request.customer
        languages = _languages(consent_request)
        language = _page_language(request, consent_request, languages)
        terms = _terms_in(consent_request, language)
        # Only when picked: the answer then proves the text in the picked language.
        picked = {"lang": language} if language != consent_request.language else {}
        with translation.override(language):
            state = selectors.consent_state_of(customer)
            state_status = state.status if state else ConsentStatus.NONE
            expired = consent_request.expires_at <= timezone.now()
            if consent_request.is_expired:
                services.consent_request_expire(
                    request=consent_request, actor=Actor.system("consent-page")
                )
            choices = _choices(state_status, expired, consent_request.status in OPEN_STATUSES)
            if request.method == "POST":
                action = request.POST.get("action", "")
                if action in choices:
                    shown = {"language": language, "terms_version": terms.version} if picked else {}
                    services.consent_record(
                        customer=customer,
                        decision=ACTIONS[action],
                        method=Method.LINK,
                        actor=Actor.customer(customer.pk),
                        request=consent_request,
                        ip=client_ip(request),
                        user_agent=request.META.get("HTTP_USER_AGENT", ""),
                        **shown,
                    )
                    return _private(redirect(_url(request.path, done=action, **picked)))
                return _private(redirect(_url(request.path, **picked)))
            if expired and not choices:
                template, status = "consent/expired.html", 410
            else:
                template, status = "consent/page.html", 200
            done = request.GET.get("done")
            response = render(
                request,
                template,
                {
                    "tenant": tenant,
                    "brand": brand_urls(tenant),
                    "languages": languages,
                    "language": language,
                    "customer_name": customer.name,
                    "terms": terms,
                    "state": state,
                    "state_label": ConsentStatus(state_status).label,
                    "choices": choices,
                    "done": done if done in ACTIONS else None,
                    "page_title": _("Consent"),
                },
                status=status,
            )
            response["Content-Language"] = language
            return _private(response)
