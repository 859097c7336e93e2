"""tenancy.memo: a batch reads a tenant's settings once; everything else reads afresh."""

from __future__ import annotations

from tenancy.context import tenant_context
from tenancy.memo import batch_reads, memoized


def test_outside_a_batch_every_call_computes(db):
    calls = []
    for _ in range(2):
        memoized(("k",), lambda: calls.append(1))
    assert len(calls) == 2


def test_inside_a_batch_a_key_is_computed_once_per_tenant(personas):
    calls = []

    def read():
        calls.append(1)
        return len(calls)

    with batch_reads():
        with tenant_context(personas.tenant_a):
            assert memoized(("k",), read) == memoized(("k",), read) == 1
        with tenant_context(personas.tenant_b):
            assert memoized(("k",), read) == 2  # another tenant never sees A's value
    with tenant_context(personas.tenant_a):
        assert memoized(("k",), read) == 3  # the batch is over


def test_a_batch_reads_the_consent_settings_once(personas, django_assert_num_queries):
    from consent.selectors import request_valid_days

    with tenant_context(personas.tenant_a), batch_reads(), django_assert_num_queries(1):
        assert request_valid_days() == request_valid_days() == 30
