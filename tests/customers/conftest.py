"""Fixtures the customer API tests share: each tenant's API client, and tenant A's scope."""

import pytest

from tenancy.context import tenant_context


@pytest.fixture
def api_a(personas):
    return personas.api(personas.key_a)


@pytest.fixture
def api_b(personas):
    return personas.api(personas.key_b)


@pytest.fixture
def in_a(personas):
    return lambda: tenant_context(personas.tenant_a)
