"""API keys: stored hashed, shown once, scoped, revocable, tenant-bound."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from audit.actors import Actor
from tenancy.context import tenant_context
from tenancy.models import ApiKey
from tenancy.services import api_key_create, api_key_revoke


def test_key_is_stored_only_as_a_hash(personas):
    with tenant_context(personas.tenant_a):
        obj, key = api_key_create(name="Kassa 1", scopes=["customers:read"], actor=Actor.system())
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM tenancy_apikey WHERE prefix = %s", [obj.prefix])
            row = cursor.fetchone()
    secret = key.partition(".")[2]
    assert all(secret not in str(value) for value in row)
    assert obj.hashed_key.startswith("sha512$$")


def test_me_with_a_key_names_its_tenant(personas):
    response = personas.api(personas.key_a).get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["tenant"] == "nordljus"
    assert body["tenant_name"] == "Nordljus AB"
    assert body["key"] == personas.key_a.partition(".")[0]
    assert body["user"] is None
    assert "customers:read" in body["scopes"]


def test_me_with_a_session_names_the_user(personas):
    body = personas.client(personas.bob).get("/api/v1/me/").json()
    assert body == {
        "tenant": "nordljus",
        "tenant_name": "Nordljus AB",
        "key": None,
        "user": "bob",
        "scopes": [
            "consent:write",
            "customers:pick",
            "customers:read",
            "customers:write",
            "sales:write",
        ],
    }


@pytest.mark.parametrize(
    "header",
    [None, "Api-Key nonsense", "Api-Key abc.def", "Bearer x", "Api-Key ", "Api-Key \x00."],
)
def test_missing_or_wrong_key_is_401_problem(personas, header, client):
    headers = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.get("/api/v1/me/", **headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail"}
    assert body["status"] == 401


def test_wrong_secret_with_a_real_prefix_is_401(personas, client):
    prefix = personas.key_a.partition(".")[0]
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Api-Key {prefix}.wrongsecret")
    assert response.status_code == 401


def test_revoked_key_is_401(personas, client):
    with tenant_context(personas.tenant_a):
        key = ApiKey.objects.get(prefix=personas.key_a.partition(".")[0])
        api_key_revoke(key=key, actor=Actor.system())
    assert personas.api(personas.key_a).get("/api/v1/me/").status_code == 401


def test_scopes_are_enforced(personas):
    with tenant_context(personas.tenant_a):
        _obj, key = api_key_create(name="POS", scopes=["customers:read"], actor=Actor.system())
    api = personas.api(key)
    assert api.get("/api/v1/me/").status_code == 200
    response = api.get("/api/v1/audit-events/")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_last_used_is_recorded(personas):
    personas.api(personas.key_a).get("/api/v1/me/")
    with tenant_context(personas.tenant_a):
        key = ApiKey.objects.get(prefix=personas.key_a.partition(".")[0])
    assert key.last_used_at is not None


def test_key_of_tenant_b_is_invisible_in_tenant_a(personas):
    with tenant_context(personas.tenant_a):
        prefixes = set(ApiKey.objects.values_list("prefix", flat=True))
    assert personas.key_b.partition(".")[0] not in prefixes


def test_unknown_scope_is_refused(personas):
    from django.core.exceptions import ValidationError

    with tenant_context(personas.tenant_a), pytest.raises(ValidationError) as exc:
        api_key_create(name="x", scopes=["everything"], actor=Actor.system())
    assert "scopes" in exc.value.message_dict


def test_create_api_key_command_prints_a_working_key(personas, capsys):
    call_command(
        "create_api_key", "--tenant", "nordljus", "--name", "ERP", "--scopes", "audit:read"
    )
    key = capsys.readouterr().out.strip().splitlines()[-1]
    body = personas.api(key).get("/api/v1/me/").json()
    assert body["tenant"] == "nordljus"
    assert body["scopes"] == ["audit:read"]


def test_create_tenant_command_prints_the_slug(db, capsys):
    call_command(
        "create_tenant",
        "--name",
        "Østergård ApS",
        "--country",
        "DK",
        "--admin-email",
        "boss@ostergard.dk",
        "--admin-password",
        "a-Long-pass-2026",
    )
    slug = capsys.readouterr().out.strip().splitlines()[-1]
    from tenancy.models import Membership, Tenant

    tenant = Tenant.objects.get(slug=slug)
    assert tenant.country == "DK" and tenant.languages[0] == "da"
    assert Membership.objects.get(tenant=tenant).role == "admin"
