"""Storage adapters implementing the ports of :mod:`leadkit.ports`.

- :mod:`leadkit.adapters.memory`: the in-memory store, a real adapter (thread-safe, the same
  version checks and all-or-nothing units of work as SQL) and the reference implementation.
- :mod:`leadkit.adapters.sql`: SQLAlchemy 2 Core; a SQLite file is the embedded default
  (``pip install "leadkit[sql]"``).

Adapters never import each other. Every adapter passes the shipped contract suite,
:mod:`leadkit.testing.contract`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from leadkit.values import require_aware

__all__ = ["now_or"]


def now_or(at: datetime | None, field: str = "at") -> datetime:
    """``at`` (checked timezone-aware), or the system's UTC time when None: the clock the
    outboxes use when the caller passes none. Raises InvalidValue naming ``field`` for a naive
    datetime."""
    if at is None:
        return datetime.now(UTC)
    require_aware(field, at)
    return at
