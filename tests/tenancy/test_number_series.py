"""Number series: concurrent draws never hand out the same number."""

from __future__ import annotations

import threading

from django.db import connection

from audit.actors import Actor
from tenancy.context import tenant_context
from tenancy.services import number_draw, number_series_set_next


def test_draws_count_up_per_tenant_and_series(personas):
    with tenant_context(personas.tenant_a):
        assert [number_draw(series="customer") for _ in range(3)] == [1, 2, 3]
        assert number_draw(series="contact", start=1000) == 1000
    with tenant_context(personas.tenant_b):
        assert number_draw(series="customer") == 1


def test_next_number_can_be_set(personas):
    with tenant_context(personas.tenant_a):
        number_series_set_next(series="customer", next_value=5000, actor=Actor.system())
        assert number_draw(series="customer") == 5000


def test_concurrent_draws_differ(live_personas):
    tenant = live_personas.tenant_a
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def draw_many():
        try:
            barrier.wait()
            for _ in range(25):
                with tenant_context(tenant):
                    results.append(number_draw(series="customer"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=draw_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == list(range(1, 101))
