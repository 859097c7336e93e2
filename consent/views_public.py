"""The customer's consent page, /c/<token>: no login, no JavaScript needed.

The token is found through kundreg_consent_token_lookup (selectors.request_locate),
the one narrow cross-tenant lookup; everything after it runs inside the request's
tenant. A wrong token is a 404 that looks like any other, and the page shows no
personal data but the customer's name.
"""

from __future__ import annotations

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

from . import selectors, services
from .models import OPEN_STATUSES, ConsentStatus, Decision, Method

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
        with translation.override(consent_request.language):
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
                    services.consent_record(
                        customer=customer,
                        decision=ACTIONS[action],
                        method=Method.LINK,
                        actor=Actor.customer(customer.pk),
                        request=consent_request,
                        ip=client_ip(request),
                        user_agent=request.META.get("HTTP_USER_AGENT", ""),
                    )
                    return _private(redirect(f"{request.path}?done={action}"))
                return _private(redirect(request.path))
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
                    "customer_name": customer.name,
                    "terms": consent_request.terms,
                    "state": state,
                    "state_label": ConsentStatus(state_status).label,
                    "choices": choices,
                    "done": done if done in ACTIONS else None,
                    "page_title": _("Consent"),
                },
                status=status,
            )
            response["Content-Language"] = consent_request.language
            return _private(response)
