"""The company's colour and logo for the consent page: public, not secret, cacheable.

The CSP allows no inline style, so the colour comes as a tiny stylesheet per company.
Each company's files are found by its slug and read only from its own storage prefix.
"""

from __future__ import annotations

import hashlib

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from tenancy.branding import COLOUR_RE, logo_content_type, text_colour_on
from tenancy.models import Tenant

CACHE = "public, max-age=3600"


def _tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug, is_active=True).first()
    if tenant is None:
        raise Http404
    return tenant


def brand_urls(tenant: Tenant) -> dict[str, str]:
    """The stylesheet and logo URLs of ``tenant``, versioned so a change shows at once."""
    urls: dict[str, str] = {}
    if tenant.brand_colour:
        urls["css"] = (
            f"{reverse('consent-brand-css', args=[tenant.slug])}?v={tenant.brand_colour[1:]}"
        )
    if tenant.logo:
        version = hashlib.sha256(tenant.logo.name.encode()).hexdigest()[:10]
        urls["logo"] = f"{reverse('consent-brand-logo', args=[tenant.slug])}?v={version}"
    return urls


@require_safe
def brand_css(request, slug: str):
    tenant = _tenant(slug)
    colour = tenant.brand_colour
    if not COLOUR_RE.fullmatch(colour or ""):  # also keeps anything but a colour out of CSS
        raise Http404
    text = text_colour_on(colour)
    css = (
        f":root {{ --brand: {colour}; --brand-text: {text}; }}\n"
        ".public-header { background: var(--brand); color: var(--brand-text); }\n"
        "button.primary { background: var(--brand); border-color: var(--brand);"
        " color: var(--brand-text); }\n"
    )
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = CACHE
    return response


@require_safe
def brand_logo(request, slug: str):
    tenant = _tenant(slug)
    name = tenant.logo.name if tenant.logo else ""
    # Only ever a file under this company's own prefix (tenancy.models.tenant_logo_path).
    if not name.startswith(f"tenants/{tenant.pk}/brand/") or not tenant.logo.storage.exists(name):
        raise Http404
    with tenant.logo.open("rb") as file:
        data = file.read()
    response = HttpResponse(data, content_type=logo_content_type(name))
    response["Cache-Control"] = CACHE
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response
