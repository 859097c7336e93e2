"""Email tracking webhooks (django-anymail) fail closed.

Only the configured ESP's route exists, and only once its webhook secret (and the signing
key anymail needs for that ESP) is set; a forged, unsigned or malformed call changes
nothing and is never a 500. Parametrized over every ESP anymail has a tracking webhook for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from django.core import checks
from django.test import Client
from django.utils import timezone

from notifications.esp import TRACKING_HOOKS, tracking_hook_missing
from notifications.models import Channel, MessageEvent, OutboundMessage, ProviderRoute, Status
from tenancy.context import tenant_context

# anymail warns on every call of these views; the suite turns warnings into errors.
_WARNS = {
    "sendgrid": "ignore::anymail.exceptions.AnymailNotSupportedWarning",
    "sendinblue": "ignore::anymail.exceptions.AnymailDeprecationWarning",
}
ESPS = [
    pytest.param(esp, marks=pytest.mark.filterwarnings(_WARNS[esp])) if esp in _WARNS else esp
    for esp in sorted(TRACKING_HOOKS)
]
SECRET = "hookuser:hookpass"
KEYS = {
    "MAILERSEND_SIGNING_SECRET": "mailersend-signing-secret",
    "MAILGUN_WEBHOOK_SIGNING_KEY": "mailgun-signing-key",
    "MANDRILL_WEBHOOK_KEY": "mandrill-webhook-key",
    "POSTAL_WEBHOOK_KEY": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
    "UNISENDER_GO_API_KEY": "unisender-go-api-key",
}
MID = "esp-msg-1"
TO = "kund@example.test"


def _path(esp: str) -> str:
    return f"/hooks/anymail/{esp}/tracking/"


@dataclass
class Call:
    """One webhook POST: body, content type, headers (signatures)."""

    body: bytes | str
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)

    def post(self, esp: str, auth: str | None = SECRET):
        headers = dict(self.headers)
        if auth is not None:
            headers["authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        client = Client(raise_request_exception=False)
        return client.post(_path(esp), self.body, content_type=self.content_type, headers=headers)


def _hmac_hex(key: str, data: bytes, digest=hashlib.sha256) -> str:
    return hmac.new(key.encode(), data, digest).hexdigest()


def _mailgun(key: str) -> Call:
    timestamp, token = "1700000000", "a" * 50
    event = {
        "signature": {
            "timestamp": timestamp,
            "token": token,
            "signature": _hmac_hex(key, f"{timestamp}{token}".encode()),
        },
        "event-data": {
            "event": "failed",
            "severity": "permanent",
            "reason": "bounce",
            "recipient": TO,
            "timestamp": 1700000000.5,
            "message": {"headers": {"message-id": MID}},
        },
    }
    return Call(json.dumps(event).encode())


def _mandrill(key: str, events: str | None = None) -> Call:
    if events is None:
        events = json.dumps([{"event": "hard_bounce", "_id": MID, "ts": 1700000000, "msg": {}}])
    url = f"http://{SECRET}@testserver{_path('mandrill')}"
    digest = hmac.new(key.encode(), (url + "mandrill_events" + events).encode(), hashlib.sha1)
    signature = base64.b64encode(digest.digest()).decode()
    return Call(
        urlencode({"mandrill_events": events}),
        "application/x-www-form-urlencoded",
        {"X-Mandrill-Signature": signature},
    )


def _mailersend(key: str, body: bytes | None = None) -> Call:
    if body is None:
        body = json.dumps(
            {
                "type": "activity.hard_bounced",
                "data": {
                    "id": "ev-1",
                    "type": "hard_bounced",
                    "created_at": "2026-11-23T12:00:00.000000Z",
                    "email": {"message": {"id": MID}, "recipient": {"email": TO}},
                },
            }
        ).encode()
    return Call(body, headers={"Signature": _hmac_hex(key, body)})


def _unisender_go(key: str) -> Call:
    placeholder = "__SIGNATURE__"
    event = {
        "auth": placeholder,
        "event_name": "transactional_email_status",
        "status": "hard_bounced",
        "email": TO,
        "job_id": MID,
        "event_time": "2026-11-23 12:00:00",
        "delivery_info": {"delivery_status": "err_user_unknown"},
    }
    text = json.dumps(event)
    signature = hashlib.md5(text.replace(placeholder, key).encode()).hexdigest()  # noqa: S324
    return Call(text.replace(placeholder, signature).encode())


def _amazon_ses(key: str) -> Call:
    ses = {
        "eventType": "Bounce",
        "mail": {"messageId": MID, "timestamp": "2026-11-23T12:00:00.000Z"},
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": TO}]},
    }
    sns = {"Type": "Notification", "MessageId": "sns-1", "Message": json.dumps(ses)}
    return Call(
        json.dumps(sns).encode(),
        "text/plain",
        {"x-amz-sns-message-type": "Notification", "x-amz-sns-message-id": "sns-1"},
    )


def _postal(key: str) -> Call:
    event = {"event": "MessageBounced", "payload": {"original_message": {"message_id": MID}}}
    return Call(json.dumps(event).encode(), headers={"X-Postal-Signature": "Zm9yZ2Vk"})


def _plain(event) -> Callable:
    return lambda key: Call(json.dumps(event).encode())


BRANDED = {"event": "hard_bounce", "message-id": MID, "email": TO, "ts_epoch": 1700000000000}
# A bounce of message MID in each ESP's format; the argument is its signing key (if any).
CALLS = {
    "amazon_ses": _amazon_ses,
    "brevo": _plain(BRANDED),
    "mailersend": _mailersend,
    "mailgun": _mailgun,
    "mailjet": _plain({"event": "bounce", "MessageID": MID, "email": TO, "time": 1700000000}),
    "mailtrap": _plain(
        {"events": [{"event": "bounce", "message_id": MID, "email": TO, "timestamp": 1700000000}]}
    ),
    "mandrill": _mandrill,
    "postal": _postal,
    "postmark": _plain(
        {"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1, "MessageID": MID}
    ),
    "resend": _plain(
        {
            "type": "email.bounced",
            "created_at": "2026-11-23T12:00:00.000Z",
            "data": {"email_id": MID, "to": [TO], "created_at": "2026-11-23T12:00:00.000Z"},
        }
    ),
    "sendgrid": _plain([{"event": "bounce", "type": "bounce", "anymail_id": MID, "email": TO}]),
    "sendinblue": _plain(BRANDED),
    "sparkpost": _plain(
        [
            {
                "msys": {
                    "message_event": {
                        "type": "bounce",
                        "bounce_class": "10",
                        "transmission_id": MID,
                    }
                }
            }
        ]
    ),
    "unisender_go": _unisender_go,
}
SIGNED = {esp for esp, hook in TRACKING_HOOKS.items() if hook.keys}


def _provider_id(esp: str) -> str:
    # What anymail's backend records as the message id (Mailgun's keeps the brackets).
    return f"<{MID}>" if esp == "mailgun" else MID


def _key(esp: str) -> str:
    keys = TRACKING_HOOKS[esp].keys
    return KEYS[keys[0]] if keys else ""


def _call(esp: str, key: str | None = None) -> Call:
    return CALLS[esp](_key(esp) if key is None else key)


@pytest.fixture
def configure(settings):
    def configure(esp: str, secret=SECRET, **anymail):
        settings.NOTIFICATIONS_ANYMAIL_ESP = esp
        settings.ANYMAIL = {"WEBHOOK_SECRET": secret, **KEYS, **anymail}

    return configure


@pytest.fixture
def sent(personas):
    """An email sent through an ESP, routed by its message id: what a forged bounce hits."""

    def sent(esp: str, provider_id: str = "") -> OutboundMessage:
        provider_id = provider_id or _provider_id(esp)
        with tenant_context(personas.tenant_a):
            message = OutboundMessage.objects.create(
                channel=Channel.EMAIL,
                destination=TO,
                language="sv",
                template="plain",
                body="x",
                status=Status.SENT,
                provider=f"anymail:{esp}",
                provider_id=provider_id,
                sent_at=timezone.now(),
            )
        ProviderRoute.objects.create(
            provider=f"anymail:{esp}",
            provider_id=provider_id,
            tenant=personas.tenant_a,
            message_id=message.pk,
        )
        return message

    return sent


def _state(personas, message) -> tuple[str, int]:
    with tenant_context(personas.tenant_a):
        message.refresh_from_db()
        return message.status, MessageEvent.objects.filter(message=message).count()


def _anymail_tracking_esps() -> set[str]:
    from anymail import urls

    names = {p.name for p in urls.urlpatterns}
    return {n.removesuffix("_tracking_webhook") for n in names if n.endswith("_tracking_webhook")}


def test_every_anymail_tracking_webhook_is_known():
    """An anymail upgrade with a new tracking webhook fails here until its needs are listed."""
    assert set(TRACKING_HOOKS) == _anymail_tracking_esps()


# Left to anymail, this only warns (an error in this suite): let it answer as in production.
@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning")
@pytest.mark.parametrize("esp", ESPS)
def test_without_the_webhook_secret_the_route_is_404_and_changes_nothing(
    personas, configure, sent, esp
):
    configure(esp, secret=None)
    message = sent(esp)
    call = _call(esp)
    for auth in (None, SECRET, "anyone:anything"):
        assert call.post(esp, auth=auth).status_code == 404
    assert _state(personas, message) == (Status.SENT, 0)


@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning")
@pytest.mark.parametrize("secret", ["", [], [""], "no-colon", ":"])
def test_an_empty_or_unusable_secret_is_no_secret(personas, configure, sent, secret):
    configure("postmark", secret=secret)
    message = sent("postmark")
    assert _call("postmark").post("postmark", auth=None).status_code == 404
    assert _state(personas, message) == (Status.SENT, 0)


def test_secrets_can_be_rotated(personas, configure, sent):
    configure("postmark", secret=["old:secret", SECRET])
    message = sent("postmark")
    assert _call("postmark").post("postmark", auth="old:wrong").status_code == 403
    assert _call("postmark").post("postmark").status_code == 200
    assert _state(personas, message) == (Status.UNDELIVERED, 1)


@pytest.mark.parametrize(
    "esp, key", [(esp, key) for esp in sorted(TRACKING_HOOKS) for key in TRACKING_HOOKS[esp].keys]
)
def test_without_its_signing_key_the_route_is_404_and_changes_nothing(
    personas, configure, sent, esp, key
):
    configure(esp, **{key: None})
    message = sent(esp)
    assert _call(esp).post(esp).status_code == 404
    assert _state(personas, message) == (Status.SENT, 0)


@pytest.mark.parametrize("esp", ESPS)
def test_only_the_configured_esps_route_exists(personas, configure, sent, esp):
    configured = "mailjet" if esp == "postmark" else "postmark"
    configure(configured)
    message = sent(esp)
    assert _call(esp).post(esp).status_code == 404
    assert _state(personas, message) == (Status.SENT, 0)


@pytest.mark.parametrize("slug", ["nosuchesp", "POSTMARK", "postmark_", "base", "sendinblue"])
def test_other_slugs_are_404(configure, slug):
    configure("postmark")
    assert _call("postmark").post(slug).status_code == 404


@pytest.mark.parametrize("esp", ESPS)
def test_forged_or_unsigned_calls_are_refused_and_change_nothing(personas, configure, sent, esp):
    configure(esp)
    message = sent(esp)
    if tracking_hook_missing(esp).packages:
        # e.g. amazon_ses without boto3: not a 500 (as anymail would answer) but no route.
        assert _call(esp).post(esp).status_code == 404
        assert _state(personas, message) == (Status.SENT, 0)
        return
    call = _call(esp)
    assert call.post(esp, auth=None).status_code in (401, 403)
    assert call.post(esp, auth="hookuser:wrong").status_code == 403
    assert call.post(esp, auth="hookuser").status_code == 403
    if esp in SIGNED:
        assert _call(esp, key="not-the-key").post(esp).status_code == 403
    assert _state(personas, message) == (Status.SENT, 0)

    # The same call, authentic, is what moves the message: the refusals above were real.
    assert call.post(esp).status_code == 200
    assert _state(personas, message) == (Status.UNDELIVERED, 1)


MALFORMED = [
    b"",
    b"not json",
    b"\xff\xfe\x00",
    b"null",
    b"5",
    b'"text"',
    b"[]",
    b"{}",
    b"[1, 2]",
    b'[{"msys": 1}]',
    b'{"events": 5}',
    b'{"events": [1]}',
    b'{"event": {"x": 1}, "message-id": [1]}',
    b'{"RecordType": 5, "MessageID": {"a": 1}}',
    b'{"type": "email.bounced", "data": 1}',
    b'{"type": "activity.hard_bounced", "data": {"email": 1}}',
    b'{"Type": "Notification", "MessageId": "sns-1", "Message": "{"}',
    b'{"events_by_user": [1, 2]}',
    b'[{"event": "hard_bounce", "ts": "x"}]',
    b'[{"event": "bounce", "MessageID": "esp-msg-1", "time": "x"}]',
    json.dumps({"RecordType": "Bounce", "MessageID": "a\x00b"}).encode(),
    json.dumps({"events": [{"event": "bounce", "message_id": MID, "timestamp": "x"}]}).encode(),
    b"[" * 1000 + b"]" * 1000,
]


def _malformed(esp: str, body: bytes) -> Call:
    """``body`` as an authenticated caller would send it (signed where the ESP signs it)."""
    if esp == "mailersend":
        return _mailersend(KEYS["MAILERSEND_SIGNING_SECRET"], body)
    if esp == "mandrill":
        return _mandrill(KEYS["MANDRILL_WEBHOOK_KEY"], body.decode("utf-8", "replace"))
    return Call(body, headers={"x-amz-sns-message-type": "Notification"})


@pytest.mark.parametrize("esp", ESPS)
def test_malformed_bodies_are_refused_never_a_500(personas, configure, sent, esp):
    configure(esp)
    message = sent(esp)
    for body in MALFORMED:
        response = _malformed(esp, body).post(esp)
        # 200 only for a well-formed body that names nothing we know (e.g. "{}").
        assert response.status_code in (200, 400, 403, 404), (body, response.status_code)
    assert _state(personas, message) == (Status.SENT, 0)


def test_events_from_anymail_own_views_are_ignored(personas, sent):
    """Should anyone include ``anymail.urls``, its unguarded views still change nothing."""
    message = sent("postmark")
    event = AnymailTrackingEvent(event_type="bounced", message_id=MID, reject_reason="bounced")
    tracking.send(sender=PostmarkTrackingWebhookView, event=event, esp_name="Postmark")
    assert _state(personas, message) == (Status.SENT, 0)


def test_an_event_only_moves_messages_sent_through_that_esp(personas, configure, sent):
    configure("postmark")
    message = sent("mailjet", provider_id=MID)  # the same id, but another ESP's message
    assert _call("postmark").post("postmark").status_code == 200
    assert _state(personas, message) == (Status.SENT, 0)


def _deploy_errors() -> list[checks.CheckMessage]:
    found = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    return [m for m in found if m.id.startswith("notifications.")]


@pytest.mark.parametrize("esp", ESPS)
def test_check_deploy_errors_while_the_webhook_secret_is_missing(configure, esp):
    configure(esp, secret=None)
    errors = _deploy_errors()
    assert "notifications.E001" in {e.id for e in errors}
    assert all(e.level == checks.ERROR for e in errors)
    assert "ANYMAIL_WEBHOOK_SECRET" in next(e.msg for e in errors if e.id.endswith("E001"))


@pytest.mark.parametrize(
    "esp, key", [(esp, key) for esp in sorted(TRACKING_HOOKS) for key in TRACKING_HOOKS[esp].keys]
)
def test_check_deploy_errors_while_a_signing_key_is_missing(configure, esp, key):
    configure(esp, **{key: ""})
    (error,) = [e for e in _deploy_errors() if e.id == "notifications.E001"]
    assert f"ANYMAIL_{key}" in error.msg and "WEBHOOK_SECRET" not in error.msg


@pytest.mark.parametrize("esp", ESPS)
def test_check_deploy_passes_a_complete_configuration(configure, esp):
    configure(esp)
    expected = {"notifications.E002"} if tracking_hook_missing(esp).packages else set()
    assert {e.id for e in _deploy_errors()} == expected


def test_check_deploy_needs_the_package_of_an_optional_signature(configure):
    configure("resend", RESEND_SIGNING_SECRET="whsec_abc")  # verified with svix
    assert {e.id for e in _deploy_errors()} == {"notifications.E002"}


@pytest.mark.parametrize("esp, ids", [("", set()), ("scaleway", set()), ("nosuch", {"E003"})])
def test_check_deploy_on_other_esps(configure, esp, ids):
    configure(esp, secret=None)
    assert {e.id.removeprefix("notifications.") for e in _deploy_errors()} == ids


def test_prod_check_deploy_refuses_an_esp_without_its_webhook_secret(tmp_path):
    from tests.config.test_deploy_settings import _manage, _prod_env

    env = _prod_env(
        ANYMAIL_ESP="postmark",
        ANYMAIL_POSTMARK_SERVER_TOKEN="server-token",
        AUDIT_CHAIN_KEY=secrets.token_hex(32),
    )
    env = {k: v for k, v in env.items() if not k.startswith("ANYMAIL_WEBHOOK_SECRET")}
    result = _manage("check", "--deploy", env=env)
    assert result.returncode != 0
    assert "notifications.E001" in result.stderr + result.stdout

    (tmp_path / "hook-secret").write_text(secrets.token_hex(8) + ":" + secrets.token_hex(16))
    env["ANYMAIL_WEBHOOK_SECRET_FILE"] = str(tmp_path / "hook-secret")
    result = _manage("check", "--deploy", env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "notifications." not in result.stderr + result.stdout
