"""Production SMS through Twilio's REST API (the ``twilio`` library).

Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and one of
TWILIO_MESSAGING_SERVICE_SID (preferred) or TWILIO_FROM_NUMBER.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import requests
import requests.utils
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .base import BaseSmsBackend, CannotTell, SendError, SmsStatus

TWILIO_API = "https://api.twilio.com"
# Twilio's REST error codes that no retry can cure.
PERMANENT_CODES = frozenset(
    {
        21211,  # invalid 'To' number
        21212,  # invalid 'From' number
        21408,  # region not enabled
        21610,  # recipient replied STOP (opted out)
        21612,  # cannot route to this number
        21614,  # not a mobile number
        21617,  # body too long
        21635,  # not a valid number for this destination
    }
)
# Callback/poll statuses → ours. Twilio's queued/accepted/scheduled add nothing.
STATUS_MAP = {
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


def _client() -> Client:
    sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
    if not (sid and token):
        raise ImproperlyConfigured("TwilioBackend needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
    return _client_for(sid, token, settings.TWILIO_TIMEOUT_SECONDS)


_local = threading.local()


def _client_for(sid: str, token: str, timeout: float) -> Client:
    # One client per worker thread (a threads-pool worker runs many sends at once, and a
    # requests.Session and the twilio client's last_request/last_response are not meant to
    # be shared between threads). Its HTTP session keeps the connection (and TLS session)
    # to Twilio open between messages instead of a handshake per SMS. The timeout keeps a
    # hanging provider from holding a worker for ever (a timeout is a transient error: the
    # message is retried).
    key = (sid, token, timeout)
    clients = getattr(_local, "clients", None)
    if clients is None:
        clients = _local.clients = {}
    client = clients.get(key)
    if client is None:
        client = clients[key] = Client(sid, token, http_client=_http_client(timeout))
    return client


def _http_client(timeout: float) -> TwilioHttpClient:
    # requests reads the proxy and CA-bundle variables of the environment on every request
    # (a scan of os.environ, about a third of the library's CPU per SMS); they are read once
    # here instead, for Twilio's address (NO_PROXY honoured).
    http = TwilioHttpClient(
        timeout=timeout, proxy=requests.utils.get_environ_proxies(TWILIO_API) or None
    )
    http.session.trust_env = False
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        http.session.verify = bundle
    return http


def _ambiguous(exc: Exception) -> SendError:
    # The request went out and no answer came back: Twilio may have created the message.
    return SendError(f"Twilio did not answer: {exc}", permanent=False, ambiguous=True)


def classify(exc: TwilioRestException) -> SendError:
    status = exc.status or 0
    transient = status == 429 or status >= 500 or status in (401, 403)
    permanent = (exc.code in PERMANENT_CODES) or (400 <= status < 500 and not transient)
    return SendError(
        f"Twilio {status}: {exc.msg}", permanent=permanent, code=str(exc.code or status)
    )


class TwilioBackend(BaseSmsBackend):
    provider = "twilio"

    def pacing_account(self) -> str:
        # Twilio's rate is the account's senders' (a messaging service pools its numbers).
        sender = settings.TWILIO_MESSAGING_SERVICE_SID or settings.TWILIO_FROM_NUMBER
        return f"twilio:{settings.TWILIO_ACCOUNT_SID}:{sender}"

    def send(
        self, *, to: str, body: str, sender: str = "", status_callback: str = "", key: str = ""
    ) -> str:
        params = {"to": to, "body": body}
        if sender:
            params["from_"] = sender
        elif settings.TWILIO_MESSAGING_SERVICE_SID:
            params["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        elif settings.TWILIO_FROM_NUMBER:
            params["from_"] = settings.TWILIO_FROM_NUMBER
        else:
            raise ImproperlyConfigured(
                "TwilioBackend needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER."
            )
        if status_callback:
            params["status_callback"] = status_callback
        try:
            message = _client().messages.create(**params)
        except TwilioRestException as exc:
            raise classify(exc) from exc
        except (requests.ReadTimeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise _ambiguous(exc) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise SendError(f"Twilio unreachable: {exc}", permanent=False) from exc
        return message.sid

    def find(self, *, key: str, to: str, body: str, since) -> str | None:
        """Twilio's newest messages to ``to``: one with our body, created since the claim.

        Twilio takes no idempotency key for a new message, so the body (which carries the
        request's own link or reply code) identifies it. Not finding it is no proof that
        Twilio never took it (a message may still be on its way into the log): CannotTell.
        """
        try:
            recent = _client().messages.list(to=to, limit=20)
        except (TwilioRestException, requests.RequestException, TwilioException) as exc:
            raise CannotTell(f"Twilio could not be asked: {exc}") from exc
        window = since - timedelta(minutes=1)
        for message in recent:
            created = message.date_created
            if message.body == body and (created is None or created >= window):
                return message.sid
        raise CannotTell("Twilio lists no such message (yet)")

    def fetch_status(self, provider_id: str) -> SmsStatus | None:
        try:
            message = _client().messages(provider_id).fetch()
        except (TwilioRestException, requests.RequestException, TwilioException):
            return None
        status = STATUS_MAP.get(message.status)
        if status is None:
            return None
        return SmsStatus(status=status, error_code=str(message.error_code or ""))
