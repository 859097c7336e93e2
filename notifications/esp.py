"""The email service provider (django-anymail) this deployment sends through, and its webhook.

One ESP is configured (``NOTIFICATIONS_ANYMAIL_ESP``, from ``ANYMAIL_ESP``); only its
tracking route exists, and only once everything that authenticates a call is set:
``ANYMAIL["WEBHOOK_SECRET"]`` (HTTP basic auth, for every ESP) and the ESP's own signing
key where anymail verifies a signature. Left to itself, anymail accepts unauthenticated
posts when the secret is unset (it only warns) and answers 500 when a signing key or a
package is missing; here such a route is a 404 and ``check --deploy`` names what is missing
(notifications/checks.py).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.base import AnymailBasicAuthMixin
from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackingHook:
    """What one ESP's tracking webhook in anymail needs before it may answer."""

    view: str  # anymail's view: "<module in anymail.webhooks>:<class>"
    keys: tuple[str, ...] = ()  # ANYMAIL settings its signature check cannot do without
    packages: tuple[str, ...] = ()  # modules the view imports lazily and always needs
    # (ANYMAIL setting, module): a signature anymail checks only when the setting is set.
    optional_keys: tuple[tuple[str, str], ...] = field(default=())


# Every ESP anymail (15.x) has a tracking webhook for. Signatures as anymail checks them:
# amazon_ses has none (anymail does not verify SNS signatures; the secret is what it relies
# on), mailtrap, resend and sendgrid only when their key is set.
TRACKING_HOOKS: dict[str, TrackingHook] = {
    "amazon_ses": TrackingHook("amazon_ses:AmazonSESTrackingWebhookView", packages=("boto3",)),
    "brevo": TrackingHook("brevo:BrevoTrackingWebhookView"),
    "mailersend": TrackingHook(
        "mailersend:MailerSendTrackingWebhookView", keys=("MAILERSEND_SIGNING_SECRET",)
    ),
    "mailgun": TrackingHook(
        "mailgun:MailgunTrackingWebhookView", keys=("MAILGUN_WEBHOOK_SIGNING_KEY",)
    ),
    "mailjet": TrackingHook("mailjet:MailjetTrackingWebhookView"),
    "mailtrap": TrackingHook(
        "mailtrap:MailtrapTrackingWebhookView", optional_keys=(("MAILTRAP_TRACKING_SECRET", ""),)
    ),
    "mandrill": TrackingHook(
        "mandrill:MandrillCombinedWebhookView", keys=("MANDRILL_WEBHOOK_KEY",)
    ),
    "postal": TrackingHook(
        "postal:PostalTrackingWebhookView", keys=("POSTAL_WEBHOOK_KEY",), packages=("cryptography",)
    ),
    "postmark": TrackingHook("postmark:PostmarkTrackingWebhookView"),
    "resend": TrackingHook(
        "resend:ResendTrackingWebhookView", optional_keys=(("RESEND_SIGNING_SECRET", "svix"),)
    ),
    "sendgrid": TrackingHook(
        "sendgrid:SendGridTrackingWebhookView",
        optional_keys=(("SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY", "cryptography"),),
    ),
    "sendinblue": TrackingHook("sendinblue:SendinBlueTrackingWebhookView"),
    "sparkpost": TrackingHook("sparkpost:SparkPostTrackingWebhookView"),
    "unisender_go": TrackingHook(
        "unisender_go:UnisenderGoTrackingWebhookView", keys=("UNISENDER_GO_API_KEY",)
    ),
}


@dataclass(frozen=True)
class Missing:
    settings: tuple[str, ...] = ()  # e.g. ("ANYMAIL_WEBHOOK_SECRET", "ANYMAIL_MAILGUN_...")
    packages: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.settings or self.packages)


def configured_esp() -> str:
    """The ESP this deployment sends through ("" when it sends by SMTP or locally)."""
    return settings.NOTIFICATIONS_ANYMAIL_ESP


def _anymail_setting(name: str):
    # The places anymail itself looks (a subset: no bare setting names), so a key found
    # here is always one the view finds too.
    value = getattr(settings, "ANYMAIL", {}).get(name)
    return value if value is not None else getattr(settings, f"ANYMAIL_{name}", None)


def webhook_secrets() -> list[str]:
    """The "user:password" strings a webhook call must present as HTTP basic auth."""
    value = _anymail_setting("WEBHOOK_SECRET")
    values = [value] if isinstance(value, str) else list(value or [])
    return [v for v in values if isinstance(v, str) and ":" in v and v.strip(":")]


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def tracking_hook_missing(esp: str) -> Missing:
    """What the ESP's tracking webhook still needs (falsy when it is ready to answer)."""
    hook = TRACKING_HOOKS[esp]
    names = [] if webhook_secrets() else ["WEBHOOK_SECRET"]
    names += [key for key in hook.keys if not _anymail_setting(key)]
    packages = [p for p in hook.packages if not _installed(p)]
    for key, package in hook.optional_keys:
        if package and _anymail_setting(key) and not _installed(package):
            packages.append(package)
    return Missing(tuple(f"ANYMAIL_{name}" for name in names), tuple(dict.fromkeys(packages)))


_views: dict[str, Callable[[HttpRequest], HttpResponse]] = {}


def tracking_view(esp: str) -> Callable[[HttpRequest], HttpResponse] | None:
    """The view for ``esp``'s tracking route, or None: not the configured ESP, or not ready."""
    if esp != configured_esp() or esp not in TRACKING_HOOKS:
        return None
    missing = tracking_hook_missing(esp)
    if missing:
        logger.warning(
            "Refused a %s tracking webhook: %s missing (manage.py check --deploy)",
            esp,
            ", ".join(missing.settings + missing.packages),
        )
        return None
    if esp not in _views:
        _views[esp] = _guarded(esp).as_view()
    return _views[esp]


def _guarded(esp: str) -> type:
    module, name = TRACKING_HOOKS[esp].view.split(":")
    base = getattr(importlib.import_module(f"anymail.webhooks.{module}"), name)
    return type(f"Kundreg{name}", (FailClosedMixin, base), {"kundreg_esp": esp})


class FailClosedMixin:
    """Before anymail's view: fails closed, bad input is a 400 and a forgery a 403.

    The tracking signal's sender is the class built on this mixin; the receiver acts only
    on events from such a class, never on anymail's own views (should someone include
    ``anymail.urls``).
    """

    kundreg_esp = ""

    def validate_request(self, request: HttpRequest) -> None:
        # Runs first (anymail calls every validate_request, most derived first): nothing
        # reads the body before the shared secret matches, and no secret matches nothing.
        if not self.basic_auth:
            raise AnymailWebhookValidationFailure("no WEBHOOK_SECRET: refused")
        AnymailBasicAuthMixin.validate_request(self, request)

    def run_validators(self, request: HttpRequest) -> None:
        try:
            super().run_validators(request)
        except AnymailWebhookValidationFailure:
            raise
        except Exception as exc:  # a signature check tripping over a malformed body
            raise BadRequest(f"Malformed {self.kundreg_esp} webhook body") from exc

    def parse_events(self, request: HttpRequest) -> list:
        # Parsing reads the body (the signal is sent after it returns; amazon_ses may also
        # confirm an SNS subscription here), so an error is the caller's malformed input.
        try:
            return list(super().parse_events(request))
        except Exception as exc:
            raise BadRequest(f"Malformed {self.kundreg_esp} webhook body") from exc

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return super().post(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as exc:
            logger.warning("Refused a %s tracking webhook: %s", self.kundreg_esp, exc)
            return HttpResponseForbidden()
