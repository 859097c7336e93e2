"""Template tags of the registry, e.g. the consent badge a higher app provides through hooks."""

from django import template
from django.utils.html import format_html, format_html_join
from django_countries import countries

from customers import hooks
from customers.phones import phone_display

register = template.Library()


@register.simple_tag
def consent_badge(customer) -> str:
    """The customer's consent status as a badge ("Samtycke godkänt"), when consent/ is installed."""
    provider, label_of = hooks.consent_status_provider, hooks.consent_status_label
    if provider is None or label_of is None:
        return ""
    status = provider(customer)["status"]
    return format_html('<span class="consent-badge consent-{}">{}</span>', status, label_of(status))


@register.simple_tag(takes_context=True)
def card_panels(context, customer) -> str:
    """The panels higher apps show on the card (customers.hooks.card_panels), e.g. consent."""
    request = context.get("request")
    return format_html_join("", "{}", ((panel(customer, request),) for panel in hooks.card_panels))


@register.filter
def phone(value) -> str:
    """A stored (E.164) number as the tenant's people write it: "070-123 45 67"."""
    return phone_display(value or "")


@register.filter
def country_name(code) -> str:
    """An ISO country code as its name in the UI language ("NO" is "Norge" in Swedish); a
    code the list does not know is shown as stored."""
    return countries.name(code) or (code or "")
