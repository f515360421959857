"""What every benchmark shares: a figure row, timing, and a rolled-back run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction


@dataclass
class Figure:
    """One measured figure beside its floor, measured in the same run.

    ``higher_is_better`` figures (rates) have the ratio floor/measured; times
    have measured/floor. Either way a ratio of 1.0 is the floor itself."""

    name: str
    unit: str
    measured: float
    floor: float | None = None
    target: float | None = None  # the largest acceptable ratio
    higher_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.floor is None or not self.measured or not self.floor:
            return None
        if self.higher_is_better:
            return self.floor / self.measured
        return self.measured / self.floor

    @property
    def met(self) -> str:
        if self.target is None or self.ratio is None:
            return ""
        return "met" if self.ratio <= self.target else f"missed by {self.ratio - self.target:.2f}"


class _Rollback(Exception):
    pass


def rolled_back(run: Callable[[], object]) -> tuple[float, object]:
    """Seconds ``run`` took inside a transaction, and what it returned; the
    transaction is then rolled back, so the run can be repeated."""
    outcome: object = None
    elapsed = 0.0
    try:
        with transaction.atomic():
            started = time.perf_counter()
            outcome = run()
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return elapsed, outcome


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def say(text: str) -> None:
    print(text, flush=True)
