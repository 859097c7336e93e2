"""One log format for web, worker and beat: JSON lines (production) or text (dev, tests).

Every record carries the request id (config/request_id.py) and the active tenant's id
(tenancy.context, set by the tenant middleware and the tenant task base), and its time in
UTC whatever TIME_ZONE says, so lines from all processes sort and join. settings.LOGGING
picks the format with LOG_FORMAT; config/celery.py makes worker and beat use the same.
"""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

request_id_var: ContextVar[str] = ContextVar("kundreg_request_id", default="")

# Django's request logging attaches the request object; it is neither JSON nor ours to print.
_NOT_FIELDS = {"request", "server_time", "color_message"}


def _tenant_id() -> int | None:
    # Not imported at module level: settings load this before the apps (and models) are.
    context = sys.modules.get("tenancy.context")
    tenant = context.current_tenant() if context is not None else None
    return tenant.pk if tenant is not None else None


def _task() -> tuple[str, str]:
    state = sys.modules.get("celery._state")
    task = state.get_current_task() if state is not None else None
    if task is None or task.request is None or task.request.id is None:
        return "", ""
    return task.request.id, task.name


class ContextFilter(logging.Filter):
    """Adds request_id, tenant_id and, inside a Celery task, task_id and task_name."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request's line about a 4xx/5xx response comes after the middleware (and the
        # tenant's scope) ended: the request it names still knows both.
        request = getattr(record, "request", None)
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or getattr(request, "request_id", "")
        if not hasattr(record, "tenant_id"):
            tenant = getattr(request, "tenant", None)
            record.tenant_id = _tenant_id() or (tenant.pk if tenant is not None else None)
        if not hasattr(record, "task_id"):
            record.task_id, record.task_name = _task()
        return True


class DisallowedHostFilter(logging.Filter):
    """A request for a host we do not serve (scanners, stale DNS) is one line, no traceback.

    Django logs it at ERROR with the whole traceback through django.security.DisallowedHost;
    it is noise, not an error of ours: kept as one WARNING naming the host.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        host = ""
        if request is not None:
            host = request.META.get("HTTP_HOST", "")
            request._kundreg_disallowed_host = True  # for DisallowedHostResponseFilter
        record.msg = "Refused a request for a host not in ALLOWED_HOSTS: %r"
        record.args = (host[:200],)
        record.exc_info = record.exc_text = record.stack_info = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class DisallowedHostResponseFilter(logging.Filter):
    """Drops django.request's second line ("Bad Request: /") for the same refused host."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        return not (
            request is not None
            and getattr(record, "status_code", None) == 400
            and getattr(request, "_kundreg_disallowed_host", False)
        )


class JsonFormatter(_JsonFormatter):
    """timestamp (UTC, ISO 8601, "Z"), level, logger, message, the context, then extras."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("reserved_attrs", [*_reserved(), *_NOT_FIELDS])
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        stamp = datetime.fromtimestamp(record.created, tz=UTC)
        log_data["timestamp"] = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        for key in ("request_id", "tenant_id", "task_id", "task_name"):
            value = getattr(record, key, None)
            if value not in (None, ""):
                log_data[key] = value
        super().add_fields(log_data, record, message_dict)  # the extras of logger.x(extra=…)


def _reserved() -> list[str]:
    from pythonjsonlogger.core import RESERVED_ATTRS

    return [*RESERVED_ATTRS, "request_id", "tenant_id", "task_id", "task_name"]


class TextFormatter(logging.Formatter):
    """Development's readable lines, in UTC like the JSON ones."""

    converter = time.gmtime
    default_msec_format = "%s.%03dZ"

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s tenant=%(tenant_id)s] "
            "%(message)s"
        )


def logging_config(*, fmt: str, level: str) -> dict:
    """settings.LOGGING for LOG_FORMAT ``json`` or ``text``."""
    if fmt not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be json or text, not {fmt!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "config.logging.ContextFilter"},
            "disallowed_host": {"()": "config.logging.DisallowedHostFilter"},
            "disallowed_host_response": {"()": "config.logging.DisallowedHostResponseFilter"},
        },
        "formatters": {
            "json": {"()": "config.logging.JsonFormatter"},
            "text": {"()": "config.logging.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "axes": {"level": "WARNING"},
            # twilio logs every API request and response at INFO: one log line block per SMS.
            "twilio.http_client": {"level": "WARNING"},
            "django.security.DisallowedHost": {"filters": ["disallowed_host"]},
            "django.request": {"filters": ["disallowed_host_response"]},
        },
    }
