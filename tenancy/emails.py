"""Emails to the tenant's own users (not to customers)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import override

from .models import Tenant
from .url_prefix import without_company_prefix


def send_member_welcome(*, user, tenant: Tenant, language: str) -> None:
    """A new member chooses a password through a one-time link (the reset flow)."""
    context = {
        "site_url": settings.SITE_URL,
        "tenant_name": tenant.name,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    # Sent after a tenant page's commit: its links must not carry that page's /t/<slug>/.
    with override(language), without_company_prefix():
        subject = render_to_string("registration/welcome_subject.txt", context).strip()
        body = render_to_string("registration/welcome_email.txt", context)
    send_mail(subject, body, None, [user.email])
