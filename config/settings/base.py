"""Settings shared by every environment. Values come from the environment (12-factor)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import database_config
from config.logging import logging_config
from config.sentry import sentry_init

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("KUNDREG_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()


def secret(name: str, default: str | None = None) -> str | None:
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


SECRET_KEY = secret("SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
PORT = env.int("PORT", default=8000)
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "axes",
    "csp",
    "django_countries",  # country names in the UI language, for the country pickers
    # Two-factor sign-in (tenancy/mfa.py): TOTP apps, and recovery codes as static tokens.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Ours, floor first (see docs/design.md: imports point down this list).
    "tenancy",
    "audit",
    "anonymization",
    "customers",
    "sales",
    "notifications",
    "consent",
    "reports",
    "webhooks",
]

MIDDLEWARE = [
    # First: /livez, /readyz, /healthz for probes with any Host, over plain HTTP.
    "config.health_middleware.HealthProbeMiddleware",
    # X-Request-ID on the response and on every log line of the request (config/logging.py).
    "config.request_id.RequestIdMiddleware",
    # /metrics for the scraper (token or network, any Host, plain HTTP); times the rest.
    "config.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "config.api_ratelimit.RateLimitHeadersMiddleware",  # /api/: RateLimit-* on every answer
    "config.api_guard.ApiGuardMiddleware",  # /api/: NUL, oversized bodies -> 4xx problem+json
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the second factor
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    # The company in the URL (/t/<slug>/...): needs the user; TenantMiddleware enters it.
    "tenancy.url_prefix.TenantUrlMiddleware",
    # Tenant pages wait for the second factor where it is owed (tenancy/mfa_gate.py).
    "tenancy.mfa_gate.MfaGateMiddleware",
    # Last: the whole view and its template rendering run inside the tenant's transaction.
    "tenancy.middleware.TenantMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "tenancy.context_processors.tenancy",
            ],
        },
    },
]

# --- Database: two roles (docs/operations.md, "Database") ---------------------
DATABASES = database_config.databases(env)
DATABASE_ROUTERS = ["tenancy.routers.OwnerMigratesRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery -----------------------------------------------------
REDIS_URL = database_config.redis_url(env)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "kundreg",
    }
}
SESSION_ENGINE = "config.sessions"  # database sessions; a malformed cookie names none

# Redis by default; a large installation sets an amqp:// URL (RabbitMQ, docs/adr/0013).
# Only the broker moves: the cache, pacing and locks stay on REDIS_URL.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or database_config.celery_redis_url(
    REDIS_URL
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task not acknowledged within this time is redelivered; no ETA or retry delay may exceed it.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TIMEZONE = "UTC"

# --- Auth -----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
# Lock a username *from* an address: locking by either alone would let one person lock a
# whole office behind one IP, or anyone lock any account from anywhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "tenancy.client_ip.client_ip"

# --- The client's address behind a reverse proxy (tenancy/client_ip.py) -------------------
# Used by consent proofs, the consent page's rate limit, API throttles and lockouts.
# TRUSTED_PROXY_COUNT: reverse proxies in front of the app, each appending the address it saw
# to X-Forwarded-For (0: none, the header is ignored). TRUSTED_PROXY_NETWORKS: the header is
# read only from a peer in these networks (comma-separated CIDRs; alone, they mean one proxy).
TRUSTED_PROXY_NETWORKS = env.list("TRUSTED_PROXY_NETWORKS", default=[])
for _network in TRUSTED_PROXY_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXY_NETWORKS: {_network!r} is no network") from exc
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if TRUSTED_PROXY_NETWORKS else 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

# --- Internationalisation ------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("sv", _("Swedish")),
    ("da", _("Danish")),
    ("nb", _("Norwegian Bokmål")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True
# The product's date formats per language (ISO-like in sv, da, nb): config/formats/.
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static and media ----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email ------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Kundreg <no-reply@kundreg.localhost>")

# --- Content Security Policy: every asset is ours, no CDN ---------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- REST API ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenancy.api_auth.ApiKeyAuthentication",
        "tenancy.api_auth.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenancy.api_auth.HasTenant"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api_guard.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.api.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["config.api.TenantRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"tenant": env.str("API_THROTTLE_RATE", default="600/min")},
    "UNAUTHENTICATED_USER": None,
}
# Failed API-key attempts (unknown, revoked, wrong) per client address (tenancy/api_auth.py).
API_KEY_FAILURE_RATE = env.str("API_KEY_FAILURE_RATE", default="20/min")
if not re.fullmatch(r"[1-9][0-9]*/[smhd][a-z]*", API_KEY_FAILURE_RATE):
    raise ImproperlyConfigured("API_KEY_FAILURE_RATE must look like 20/min.")
SPECTACULAR_SETTINGS = {
    "TITLE": "Kundreg API",
    "DESCRIPTION": (
        "Find and keep customers, ask them for consent and record decisions taken at the "
        "till, report sales documents and follow anonymization. Authenticate with "
        "`Authorization: Api-Key <key>`. Errors are `application/problem+json`; the rules "
        "the schema cannot express (idempotency, ETags, rate limits, events, versioning) "
        "are in the integrator guide, docs/api.md."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # operationIds and tags start after the version (`customers_list`, not `v1_customers_list`).
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Relative: the installation the schema was fetched from, whatever its address.
    "SERVERS": [{"url": "/", "description": "This installation"}],
    # Choice sets that share a field name ("kind", "status") with another app's get their
    # own readable names instead of a hash suffix.
    "ENUM_NAME_OVERRIDES": {
        "SalesDocumentKindEnum": "sales.models.DocumentKind",
        "SalesDocumentStatusEnum": "sales.models.DocumentStatus",
        "ConsentRequestStatusEnum": "consent.models.RequestStatus",
        "ConsentDecisionMethodEnum": "consent.models.Method",
        "ConsentStatusEnum": "consent.models.ConsentStatus",
    },
    # Every operation's 4xx answers, as problem+json (config/api_schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api_schema.problem_responses",
        "config.api_ratelimit.rate_limit_headers",
        "config.api_docs.integrator_docs",
    ],
}
IDEMPOTENCY_KEY_TTL_HOURS = 24
# The country pickers list the Nordic countries first, then the rest by name.
COUNTRIES_FIRST = ["SE", "NO", "DK", "FI", "IS"]
COUNTRIES_FIRST_BREAK = "──────────"

# --- Audit log (audit/; docs/adr/0006-audit-chain-anchoring.md) -------------------------
# The key of the chain's keyed hash and of its head checkpoints; the database never sees it.
# Dev and tests derive one from SECRET_KEY (with its own salt); prod.py demands a real one.
AUDIT_CHAIN_KEY = (
    secret("AUDIT_CHAIN_KEY", "")
    or hmac.new(SECRET_KEY.encode(), b"kundreg.audit.chain-key", hashlib.sha256).hexdigest()
)
# Where each tenant's chain head is appended (beat, every 15 minutes; `audit_checkpoint`).
# In production: storage the database's admins cannot rewrite (append-only, another host).
AUDIT_CHECKPOINT_DIR = Path(
    env.str("AUDIT_CHECKPOINT_DIR", default=str(VAR_DIR / "audit-checkpoints"))
)
# How many hash chains a tenant's log is written as, side by side (audit/services.py):
# concurrent audited writes of one tenant each take a free chain instead of queueing on
# one lock. Lowering it later is safe (the higher chains just stop growing).
AUDIT_CHAIN_STRIPES = env.int("AUDIT_CHAIN_STRIPES", default=16)
if not 1 <= AUDIT_CHAIN_STRIPES <= 1024:
    raise ImproperlyConfigured("AUDIT_CHAIN_STRIPES must be between 1 and 1024.")
# The erasure journal (anonymization/journal.py): every anonymization and deletion, so that
# `replay_erasures` can re-apply them after a backup is restored. Like the checkpoints it
# must live outside the database and not come back with a database restore.
ERASURE_JOURNAL_DIR = Path(env.str("ERASURE_JOURNAL_DIR", default=str(VAR_DIR / "erasure-journal")))

# --- Customer files and business registries ------------------------------------------
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_ALLOWED_TYPES = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
]
REGISTRY_LOOKUP_TIMEOUT = env.float("REGISTRY_LOOKUP_TIMEOUT", default=5.0)

# --- Logs, metrics, error reports (docs/operations.md, "Monitoring") ---------------------
# One format for web, worker and beat, times in UTC, with request and tenant ids
# (config/logging.py): "json" (prod.py's default) or "text".
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = logging_config(fmt=LOG_FORMAT, level=LOG_LEVEL)
# Celery keeps its hands off the root logger: the worker logs through LOGGING (config/celery.py).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# /metrics (config/metrics.py) answers only this bearer token or a peer in these networks.
METRICS_TOKEN = secret("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
for _network in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {_network!r} is no network") from exc
# Error reports, only with a DSN (config/sentry.py): web, worker and beat all load settings.
SENTRY_ENABLED = sentry_init(
    dsn=secret("SENTRY_DSN", "") or "",
    environment=env.str("SENTRY_ENVIRONMENT", default=""),
    release=env.str("SENTRY_RELEASE", default=""),
    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
)

# --- Notifications (notifications/: outbound email and SMS, provider webhooks) ---------
# SMS backend, like EMAIL_BACKEND: notifications.backends.{twilio.TwilioBackend,
# file.FileBackend (dev, var/outbox/sms/), locmem.LocmemBackend (tests)}.
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.backends.file.FileBackend")
SMS_FILE_PATH = Path(env.str("SMS_FILE_PATH", default=str(VAR_DIR / "outbox" / "sms")))
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = secret("TWILIO_AUTH_TOKEN", "")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# Customers asked per task run of a consent batch (consent/README.md, Batches). 500: a
# chunk's fixed costs (commit, lock, reads, publishing) spread wider; 200 created 1.3x
# fewer requests per second (docs/benchmarks.md). Each customer of a chunk holds an
# advisory lock until commit: PostgreSQL needs max_locks_per_transaction 256 (compose).
CONSENT_BATCH_CHUNK_SIZE = env.int("CONSENT_BATCH_CHUNK_SIZE", default=500)
# A batch with waiting customers and no chunk run for this long lost its task: resumed.
CONSENT_BATCH_STALL_SECONDS = env.int("CONSENT_BATCH_STALL_SECONDS", default=300)
# Anonymization runs (anonymization/runs.py): customers per chunk (one transaction each),
# and how long a run with waiting customers may go without a chunk before it is resumed.
# 500: a chunk's fixed costs (commit, journal fsync, audit entry, needle scan) spread over
# more customers; 200 ran 1.5x slower per customer (docs/benchmarks.md, anonymization).
ANONYMIZATION_CHUNK_SIZE = env.int("ANONYMIZATION_CHUNK_SIZE", default=500)
ANONYMIZATION_RUN_STALL_SECONDS = env.int("ANONYMIZATION_RUN_STALL_SECONDS", default=300)
# A run's task works chunk after chunk for this long, then sends the rest as a new task.
ANONYMIZATION_TASK_SECONDS = env.int("ANONYMIZATION_TASK_SECONDS", default=20)
# Exports (reports/jobs.py): up to this many customers the file streams at once, more run as
# a job; a job's file may be downloaded for REPORTS_EXPORT_TTL seconds; a job with no
# progress for REPORTS_EXPORT_STALL_SECONDS lost its worker and is sent again (or failed).
REPORTS_EXPORT_INLINE_MAX_ROWS = env.int("REPORTS_EXPORT_INLINE_MAX_ROWS", default=2000)
REPORTS_EXPORT_TTL = env.int("REPORTS_EXPORT_TTL", default=24 * 3600)
REPORTS_EXPORT_STALL_SECONDS = env.int("REPORTS_EXPORT_STALL_SECONDS", default=300)
# django-anymail: ESP settings from ANYMAIL_* variables (e.g. ANYMAIL_POSTMARK_SERVER_TOKEN),
# each also from ANYMAIL_*_FILE; tracking webhooks need ANYMAIL_WEBHOOK_SECRET ("user:password"
# for HTTP basic auth) and, for some ESPs, a signing key (notifications/esp.py).
ANYMAIL = {
    name: secret(f"ANYMAIL_{name}")
    for name in {
        key.removeprefix("ANYMAIL_").removesuffix("_FILE")
        for key in env.ENVIRON
        if key.startswith("ANYMAIL_")
    }
}
ANYMAIL["WEBHOOK_SECRET"] = ANYMAIL.get("WEBHOOK_SECRET") or None
# The one ESP we send through (prod.py uses its EmailBackend), e.g. "mailgun". Only its
# tracking route exists, and only with its secrets set (notifications/esp.py, checks.py).
NOTIFICATIONS_ANYMAIL_ESP = ANYMAIL.pop("ESP", "").strip().lower()
NOTIFICATIONS_MESSAGE_ID_DOMAIN = env.str(
    "NOTIFICATIONS_MESSAGE_ID_DOMAIN", default=SITE_URL.split("://", 1)[-1].split(":")[0]
)
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6)
NOTIFICATIONS_RETRY_BACKOFF_BASE = env.float("NOTIFICATIONS_RETRY_BACKOFF_BASE", default=30.0)
# Must stay below CELERY_VISIBILITY_TIMEOUT, or a waiting retry is redelivered (tested).
NOTIFICATIONS_RETRY_BACKOFF_MAX = min(900.0, CELERY_VISIBILITY_TIMEOUT / 4)
NOTIFICATIONS_POLL_AFTER_MINUTES = env.int("NOTIFICATIONS_POLL_AFTER_MINUTES", default=15)
# Provider account rates, sends per second across every worker (notifications/pacing.py;
# 0: no account limit, only each tenant's own): Twilio's messages per second for the
# account's senders, the ESP's or SMTP relay's. A send waits in its thread up to
# NOTIFICATIONS_PACING_MAX_WAIT seconds for its slot, else its task comes back later.
NOTIFICATIONS_SMS_RATE_PER_SECOND = env.float("NOTIFICATIONS_SMS_RATE_PER_SECOND", default=0.0)
NOTIFICATIONS_EMAIL_RATE_PER_SECOND = env.float("NOTIFICATIONS_EMAIL_RATE_PER_SECOND", default=0.0)
NOTIFICATIONS_PACING_MAX_WAIT = env.float("NOTIFICATIONS_PACING_MAX_WAIT", default=5.0)
# The sweep (notifications/sweep.py): a message queued this long past its due time lost
# its task and is sent a new one; a claim this old belongs to a worker that died mid-send
# (far longer than any provider call may take: TWILIO_TIMEOUT_SECONDS, the SMTP timeout).
NOTIFICATIONS_SWEEP_AFTER_SECONDS = env.int("NOTIFICATIONS_SWEEP_AFTER_SECONDS", default=600)
NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS = env.int("NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS", default=300)

# --- Outgoing webhooks (webhooks/) ---------------------------------------------------------
# Targets on loopback, private, link-local or otherwise non-public addresses are refused
# (no SSRF) unless the operator allows them, e.g. for a receiver on the same host.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)
# Seconds to wait before each retry of a failed delivery; after the last one it gives up.
WEBHOOKS_RETRY_DELAYS = [
    float(v)
    for v in env.list("WEBHOOKS_RETRY_DELAYS", default=["30", "120", "600", "3600", "21600"])
]
# Failed attempts in a row (any delivery) after which an endpoint is switched off.
WEBHOOKS_DISABLE_AFTER = env.int("WEBHOOKS_DISABLE_AFTER", default=20)
WEBHOOKS_CONNECT_TIMEOUT = env.float("WEBHOOKS_CONNECT_TIMEOUT", default=3.0)
WEBHOOKS_READ_TIMEOUT = env.float("WEBHOOKS_READ_TIMEOUT", default=10.0)
# A delivery claimed this long ago belongs to a worker that died mid-send: the sweep
# sends it again (far longer than the timeouts above).
WEBHOOKS_CLAIM_SECONDS = env.int("WEBHOOKS_CLAIM_SECONDS", default=120)
# Retries due sooner than this get a countdown task; later ones wait for the sweep, since
# a countdown beyond the broker's visibility timeout would be redelivered early.
WEBHOOKS_COUNTDOWN_MAX = min(900.0, CELERY_VISIBILITY_TIMEOUT / 4)
