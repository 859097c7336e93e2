"""Reads a batch may reuse while it works through many rows of one tenant.

A consent batch asks hundreds of customers in one transaction; each request reads the
current terms and the tenant's settings. Inside ``batch_reads()`` such a read is done
once per tenant and key; outside it every call reads afresh (the normal case).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from .context import current_tenant

T = TypeVar("T")
_reads: ContextVar[dict | None] = ContextVar("kundreg_batch_reads", default=None)


@contextmanager
def batch_reads() -> Iterator[None]:
    token = _reads.set({})
    try:
        yield
    finally:
        _reads.reset(token)


def memoized(key: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, remembered under ``key`` (and the active tenant) inside batch_reads()."""
    reads = _reads.get()
    if reads is None:
        return compute()
    tenant = current_tenant()
    full_key = (tenant.pk if tenant else None, *key)
    if full_key not in reads:
        reads[full_key] = compute()
    return reads[full_key]
