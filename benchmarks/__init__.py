"""Benchmarks: each measures one of our code paths against a baseline in the same run.

A benchmark is a function in a ``benchmarks/bench_*.py`` module, decorated with
:func:`benchmark`. It receives a :class:`Context` (a migrated throwaway
database, two tenants) and returns one or more :class:`Comparison` objects,
usually built by :func:`compare` from two :class:`Side` objects. ``make bench``
(``python -m benchmarks.run``) discovers the modules, runs them and writes
``docs/benchmarks.md``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Seconds per operation, one sample per call."""

    label: str
    samples: list[float]

    def _quantile(self, q: int) -> float:
        return statistics.quantiles(self.samples, n=100, method="inclusive")[q - 1]

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        return self._quantile(95) * 1000

    @property
    def per_second(self) -> float:
        return len(self.samples) / sum(self.samples)


@dataclass(frozen=True)
class Comparison:
    title: str
    subject: Timing
    baseline: Timing
    note: str = ""

    @property
    def ratio(self) -> float:
        """How many times the baseline's median the subject's median takes."""
        return self.subject.p50_ms / self.baseline.p50_ms


@dataclass(frozen=True)
class Figures:
    """Measured quantities that are not per-call latencies (throughput, memory), each row
    (what, value), with the headline ratio of our path to a baseline of the same run."""

    title: str
    rows: list[tuple[str, str]]
    ratio: float
    ratio_means: str
    note: str = ""


@dataclass(frozen=True)
class Context:
    tenant: Any  # tenancy.models.Tenant; Django is not set up when this module is imported
    other_tenant: Any
    iterations: int


@dataclass(frozen=True)
class Benchmark:
    name: str
    func: Callable[[Context], Comparison | Figures | Iterable[Comparison | Figures]]

    def run(self, ctx: Context) -> list[Comparison | Figures]:
        result = self.func(ctx)
        return [result] if isinstance(result, Comparison | Figures) else list(result)


REGISTRY: list[Benchmark] = []


def benchmark(func: Callable[[Context], Comparison | Figures | Iterable]) -> Callable:
    """Register ``func`` (named ``module.function``) to be run by ``benchmarks.run``."""
    module = func.__module__.rpartition(".")[2].removeprefix("bench_")
    REGISTRY.append(Benchmark(f"{module}.{func.__name__}", func))
    return func


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a label, the call to time, and what to run each batch in."""

    label: str
    call: Callable[[], object]
    within: Callable[[], AbstractContextManager] | None = None


def compare(
    title: str,
    *,
    subject: Side,
    baseline: Side,
    iterations: int,
    batch: int = 100,
    warmup: int = 50,
    note: str = "",
) -> Comparison:
    """Time ``subject`` and ``baseline`` call by call, in alternating batches.

    Alternating batches spread drift (caches, autovacuum, a busy neighbour)
    over both sides. Each batch runs inside the side's ``within()`` when given,
    e.g. an open tenant context, whose own cost is then outside the measurement.
    """
    sides = {"subject": subject, "baseline": baseline}
    samples: dict[str, list[float]] = {"subject": [], "baseline": []}

    def run_batch(name: str, count: int, keep: bool) -> None:
        side = sides[name]
        with side.within() if side.within else nullcontext():
            for _ in range(count):
                start = time.perf_counter()
                side.call()
                elapsed = time.perf_counter() - start
                if keep:
                    samples[name].append(elapsed)

    for name in sides:
        run_batch(name, warmup, keep=False)
    done = 0
    while done < iterations:
        count = min(batch, iterations - done)
        for name in sides:
            run_batch(name, count, keep=True)
        done += count
    return Comparison(
        title,
        Timing(subject.label, samples["subject"]),
        Timing(baseline.label, samples["baseline"]),
        note,
    )
