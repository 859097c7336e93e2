"""Fixed personas (after healthchecks' Alice, Bob and Charlie).

Tenant A ("Nordljus AB"): Alice the admin, Bea the bookkeeper, Bob the office
staff member, Erik the employee. Tenant B ("Fjordvik AS"): Charlie, its admin,
who must see nothing of tenant A. Each tenant has an API key with every scope.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from tenancy.context import tenant_context
from tenancy.roles import Role

from .factories import ApiKeyFactory, MembershipFactory, TenantFactory, UserFactory
from .tenant_urls import CompanyClient

PASSWORD = "correct-horse-battery"


@dataclass
class Personas:
    tenant_a: object
    tenant_b: object
    alice: object  # admin, A
    bea: object  # bookkeeper, A
    bob: object  # staff, A
    erik: object  # employee, A
    charlie: object  # admin, B
    key_a: str
    key_b: str

    def client(self, user) -> Client:
        client = CompanyClient()  # asks for tenant pages under its company's /t/<slug>/
        client.force_login(user)
        return client

    def api(self, key: str) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


def make_personas() -> Personas:
    tenant_a = TenantFactory(name="Nordljus AB", slug="nordljus", country="SE")
    tenant_b = TenantFactory(
        name="Fjordvik AS", slug="fjordvik", country="NO", languages=["nb", "en"]
    )
    users = {}
    for name, tenant, role in [
        ("alice", tenant_a, Role.ADMIN),
        ("bea", tenant_a, Role.BOOKKEEPER),
        ("bob", tenant_a, Role.STAFF),
        ("erik", tenant_a, Role.EMPLOYEE),
        ("charlie", tenant_b, Role.ADMIN),
    ]:
        users[name] = UserFactory(username=name, email=f"{name}@example.test")
        MembershipFactory(user=users[name], tenant=tenant, role=role)
    with tenant_context(tenant_a):
        _obj, key_a = ApiKeyFactory.create(name="Till A")
    with tenant_context(tenant_b):
        _obj, key_b = ApiKeyFactory.create(name="Till B")
    return Personas(tenant_a=tenant_a, tenant_b=tenant_b, key_a=key_a, key_b=key_b, **users)


@pytest.fixture
def personas(db) -> Personas:
    return make_personas()


@pytest.fixture
def live_personas(live_db) -> Personas:
    return make_personas()
