"""No usable consent token is stored anywhere after sending: only its hash (canary test).

The token is the canary: after the request's email has gone out, a scan of every row of
every table of the database (as the server's superuser, past row security) finds it
nowhere, while the email the customer got carries a link that opens the consent page.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core import mail
from django.test import Client
from psycopg import sql

from audit.actors import Actor
from consent.services import consent_request_create, consent_terms_publish
from consent.tokens import request_token
from notifications.models import OutboundMessage
from notifications.sending import message_send
from tenancy.context import tenant_context, tenant_scope
from tests.db import superuser
from tests.factories import make_customer

from .conftest import SV_TEXT

LINK = re.compile(r"/c/([A-Za-z0-9_-]+)")
SYSTEM = Actor.system("test")


def _rows_containing(needle: str) -> list[str]:
    hits = []
    with superuser(settings.DATABASES["owner"]["NAME"]) as su:
        tables = [
            row[0]
            for row in su.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        for table in tables:
            query = sql.SQL("SELECT count(*) FROM {} t WHERE strpos(row_to_json(t)::text, %s) > 0")
            (count,) = su.execute(query.format(sql.Identifier(table)), [needle]).fetchone()
            if count:
                hits.append(table)
    return hits


def test_after_sending_the_database_holds_no_usable_token(live_personas):
    tenant = live_personas.tenant_a
    with tenant_context(tenant):
        consent_terms_publish(language="sv", text=SV_TEXT, actor=SYSTEM)
        customer = make_customer(name="Åsa Lind", email="asa@example.test", language="sv")
        request, token = consent_request_create(customer=customer, channel="email", actor=SYSTEM)
        message = OutboundMessage.objects.get(reference=f"consent_request:{request.pk}")
    assert _rows_containing(token) == []  # not even while it waits to be sent
    with tenant_scope(tenant):
        message_send(message_id=message.pk)
    (email,) = mail.outbox
    assert LINK.search(email.body).group(1) == token
    assert _rows_containing(token) == []
    # The link the customer got opens the consent page.
    page = Client().get(f"/c/{token}", REMOTE_ADDR="10.9.9.9")
    assert page.status_code == 200 and 'value="accept"' in page.content.decode()


def test_a_token_made_with_another_key_opens_nothing(live_personas, settings):
    with tenant_context(live_personas.tenant_a):
        consent_terms_publish(language="sv", text=SV_TEXT, actor=SYSTEM)
        customer = make_customer(name="Bo Berg", email="bo@example.test", language="sv")
        request, token = consent_request_create(customer=customer, channel="email", actor=SYSTEM)
    forged = request_token(request.pk, 1, secret="not the key " * 5)
    assert forged != token
    assert Client().get(f"/c/{forged}", REMOTE_ADDR="10.9.9.8").status_code == 404


def test_old_links_keep_working_after_the_key_is_rotated(live_personas, settings):
    with tenant_context(live_personas.tenant_a):
        consent_terms_publish(language="sv", text=SV_TEXT, actor=SYSTEM)
        customer = make_customer(name="Cai Holm", email="cai@example.test", language="sv")
        request, token = consent_request_create(customer=customer, channel="email", actor=SYSTEM)
        message = OutboundMessage.objects.get(reference=f"consent_request:{request.pk}")
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a rotated key that is long enough for the checks " * 2
    with tenant_scope(live_personas.tenant_a):
        message_send(message_id=message.pk)  # sent after the rotation: the old token
    (email,) = mail.outbox
    assert LINK.search(email.body).group(1) == token
