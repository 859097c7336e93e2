"""Production: everything from the environment, secure by default.

Passes `manage.py check --deploy` with no warnings.
"""

from email.utils import parseaddr
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.logging import logging_config

from .base import *  # noqa: F403
from .base import env, secret

DEBUG = False
# JSON log lines for the log collector (config/logging.py); LOG_FORMAT=text to read by eye.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = logging_config(fmt=LOG_FORMAT, level=LOG_LEVEL)  # noqa: F405
SECRET_KEY = secret("SECRET_KEY")
if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set to 50+ characters.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# The audit chain's own key (docs/adr/0006), never derived from or equal to SECRET_KEY.
AUDIT_CHAIN_KEY = secret("AUDIT_CHAIN_KEY")
if (
    not AUDIT_CHAIN_KEY
    or len(AUDIT_CHAIN_KEY) < 32
    or len(set(AUDIT_CHAIN_KEY)) < 10
    or AUDIT_CHAIN_KEY == SECRET_KEY
):
    raise ImproperlyConfigured(
        "AUDIT_CHAIN_KEY (or AUDIT_CHAIN_KEY_FILE) must be set to 32+ random characters, "
        "other than SECRET_KEY."
    )

# Links in email and SMS, Twilio's callbacks and the API's problem types are built from it:
# the default (http://127.0.0.1:8000) would send every customer a dead link.
_site = urlsplit(env.str("SITE_URL", default=""))
if _site.scheme not in ("http", "https") or not _site.hostname:
    raise ImproperlyConfigured(
        "SITE_URL must be set to the address users reach Kundreg at, "
        "e.g. https://kundreg.example.com."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health probes come over plain HTTP from inside the network (config/health_middleware.py
# answers them first anyway).
SECURE_REDIRECT_EXEMPT = [r"^(livez|readyz|healthz)$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://localhost:25")
vars().update(EMAIL_CONFIG)
# No default sender: real relays reject mail from base.py's no-reply@kundreg.localhost.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="")
_from_domain = parseaddr(DEFAULT_FROM_EMAIL)[1].rpartition("@")[2].lower().rstrip(".")
if "." not in _from_domain or _from_domain.rsplit(".", 1)[1] in {
    "example",
    "internal",
    "invalid",
    "local",
    "localdomain",
    "localhost",
    "test",
}:
    raise ImproperlyConfigured(
        "DEFAULT_FROM_EMAIL must be set to a sender address on your own mail domain, "
        "e.g. 'Kundreg <no-reply@your-company.se>'."
    )
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if NOTIFICATIONS_ANYMAIL_ESP:  # noqa: F405
    # e.g. ANYMAIL_ESP=mailgun with ANYMAIL_MAILGUN_API_KEY=...; the ANYMAIL dict itself
    # (with the webhook secret, also from *_FILE) is built in base.py. check --deploy
    # errors while the ESP's webhook secret or signing key is missing (notifications.E001).
    EMAIL_BACKEND = f"anymail.backends.{NOTIFICATIONS_ANYMAIL_ESP}.EmailBackend"  # noqa: F405

# Production sends real SMS unless told otherwise, and refuses to start half-configured.
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.backends.twilio.TwilioBackend")
if SMS_BACKEND.endswith("TwilioBackend") and not (
    TWILIO_ACCOUNT_SID  # noqa: F405
    and TWILIO_AUTH_TOKEN  # noqa: F405
    and (TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER)  # noqa: F405
):
    raise ImproperlyConfigured(
        "SMS via Twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN (or _FILE) and "
        "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER; or set SMS_BACKEND."
    )
