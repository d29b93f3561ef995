"""Deterministic clocks for tests: the domain never reads a clock, so tests hand it times.

``FixedClock`` always says the same instant; ``StepClock`` moves forward by ``step`` on every
reading, so consecutive commands get strictly increasing timestamps. Both are callables too
(``clock()`` is ``clock.now()``). Neither imports hypothesis or pytest.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from leadkit.errors import InvalidValue
from leadkit.values import require_aware

__all__ = ["FixedClock", "StepClock"]


class FixedClock:
    """A clock stopped at ``at``. Raises InvalidValue for a naive ``at``."""

    __slots__ = ("_at",)

    def __init__(self, at: datetime) -> None:
        self._at = require_aware("at", at)

    @property
    def at(self) -> datetime:
        """The instant this clock always says."""
        return self._at

    def now(self) -> datetime:
        """Return ``at``."""
        return self._at

    def __call__(self) -> datetime:
        return self.now()

    def __repr__(self) -> str:
        return f"FixedClock({self._at.isoformat()})"


class StepClock:
    """A clock that says ``start`` first and moves ``step`` forward on every reading.

    Thread-safe: concurrent readers never get the same instant (for a positive step).
    Raises InvalidValue for a naive ``start`` or a step that is not a non-negative timedelta.
    """

    __slots__ = ("_lock", "_next", "_step")

    def __init__(self, start: datetime, step: timedelta = timedelta(seconds=1)) -> None:
        self._next = require_aware("start", start)
        if not isinstance(step, timedelta) or step < timedelta(0):
            raise InvalidValue("step", step, "must be a non-negative timedelta")
        self._step = step
        self._lock = threading.Lock()

    @property
    def step(self) -> timedelta:
        """How far the clock moves on every reading."""
        return self._step

    def peek(self) -> datetime:
        """The instant the next reading will say, without advancing."""
        with self._lock:
            return self._next

    def now(self) -> datetime:
        """Return the current instant and advance by ``step``."""
        with self._lock:
            current = self._next
            self._next = current + self._step
            return current

    def __call__(self) -> datetime:
        return self.now()

    def __repr__(self) -> str:
        return f"StepClock(next={self._next.isoformat()}, step={self._step})"
