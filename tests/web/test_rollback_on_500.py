"""A view that writes and then answers 500 (without raising) leaves nothing committed.

Raising rolls the request's transaction back by itself; a view that *returns* a 500
does not raise, so the tenant middleware must mark the transaction for rollback. The
data is committed (``live_db``), so what another transaction sees afterwards decides.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from tenancy.context import tenant_context
from tenancy.models import ReferenceEntry
from tests.web.urls_write_then_500 import MARK

pytestmark = pytest.mark.urls("tests.web.urls_write_then_500")


def _committed(tenant) -> dict[str, bool]:
    assert connection.get_autocommit() and not connection.in_atomic_block
    with tenant_context(tenant):
        entry = ReferenceEntry.objects.filter(code=MARK).exists()
    return {"entry": entry, "user": get_user_model().objects.filter(username=MARK).exists()}


def _request(personas, via: str, status: int):
    if via == "browser":
        return personas.client(personas.alice).post(f"/__tests__/write-then/{status}/")
    return personas.api(personas.key_a).post(
        f"/__tests__/api/write-then/{status}/", "{}", content_type="application/json"
    )


@pytest.mark.parametrize("via", ["browser", "api"])
def test_a_500_answer_commits_nothing(live_personas, via):
    response = _request(live_personas, via, 500)
    assert response.status_code == 500
    assert response["X-Wrote"] == "entry,user"  # the view did write before answering
    assert _committed(live_personas.tenant_a) == {"entry": False, "user": False}


@pytest.mark.parametrize("via", ["browser", "api"])
def test_the_same_writes_commit_when_the_answer_is_200(live_personas, via):
    """The control: the writes above are real, and only the 500 undoes them."""
    response = _request(live_personas, via, 200)
    assert response.status_code == 200
    assert response["X-Wrote"] == "entry,user"
    assert _committed(live_personas.tenant_a) == {"entry": True, "user": True}
