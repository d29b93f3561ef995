"""Progress of a long import: :class:`ImportProgress`, what the ``progress`` callback of
:func:`~leadkit.io.plan_import` and :func:`~leadkit.io.run_import` receives after each batch
(``leadkit import`` shows it as rows/s and the time left)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import attrs

__all__ = ["ImportProgress", "ProgressCallback"]

Phase = Literal["plan", "write"]


@attrs.frozen
class ImportProgress:
    """Where an import stands: the ``phase`` (``"plan"``: reading, checking; ``"write"``:
    committing), the rows done, the rows in all (None when not known yet) and the seconds
    since the phase began."""

    phase: Phase
    done: int
    total: int | None
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """The rows done per second so far (0 before the first second's worth)."""
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """The seconds left at the rate so far; None when the total or the rate is unknown."""
        rate = self.rows_per_second
        if self.total is None or rate <= 0:
            return None
        return max(self.total - self.done, 0) / rate

    def describe(self) -> str:
        """``plan: 20,000 of 100,000 rows, 4,210 rows/s, 19 s left``."""
        total = f" of {self.total:,}" if self.total is not None else ""
        eta = self.eta_seconds
        left = f", {eta:,.0f} s left" if eta is not None else ""
        return f"{self.phase}: {self.done:,}{total} rows, {self.rows_per_second:,.0f} rows/s{left}"


ProgressCallback = Callable[[ImportProgress], None]
"""Receives an :class:`ImportProgress` after each batch; what it raises propagates (a plan
is then not made; the batches a write committed before stay committed)."""


class _Meter:
    """Makes the progress reports of one phase (the clock is read here, at the edge)."""

    def __init__(self, phase: Phase, callback: ProgressCallback | None, total: int | None) -> None:
        self._phase: Phase = phase
        self._callback = callback
        self._total = total
        self._start = time.perf_counter()

    def report(self, done: int) -> None:
        if self._callback is not None:
            seconds = time.perf_counter() - self._start
            self._callback(ImportProgress(self._phase, done, self._total, seconds))
