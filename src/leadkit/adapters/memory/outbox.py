"""``MemoryOutbox``: the outbox of a :class:`~leadkit.adapters.memory.MemoryStore`, its entries
appended by ``commit`` under the store lock and rewritten there by an erasure.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from leadkit.adapters import now_or
from leadkit.events import LeadEvent
from leadkit.ports import OutboxBacklog, OutboxEvent, check_claim, check_limit, claimable
from leadkit.serialization import LeadkitConverter, make_converter
from leadkit.values import require_aware

if TYPE_CHECKING:
    from leadkit.adapters.memory.store import MemoryStore


@functools.cache
def _converter() -> LeadkitConverter:
    """One converter for the outbox payloads of every memory store of the process."""
    return make_converter()


class _OutboxEntry:
    """One event in the memory outbox (changed only under the store lock). The event is a
    frozen value, so its JSON is written when it is first read, not at commit."""

    __slots__ = ("attempts", "delivered_at", "event", "event_id", "leased_until", "position")

    def __init__(self, event_id: str, position: int, event: LeadEvent) -> None:
        self.event_id = event_id
        self.position = position
        self.event = event
        self.attempts = 0
        self.leased_until: datetime | None = None
        self.delivered_at: datetime | None = None

    def snapshot(self) -> tuple[str, int, LeadEvent, int]:
        """What a view needs, read under the lock."""
        return self.event_id, self.position, self.event, self.attempts


def _view(snapshot: tuple[str, int, LeadEvent, int]) -> OutboxEvent:
    """An :class:`OutboxEvent` (the payload written here, outside the store lock)."""
    event_id, position, event, attempts = snapshot
    payload = _converter().dumps(event)
    return OutboxEvent(event_id, position, event.lead_id, event.type, payload, event.at, attempts)


class MemoryOutbox:
    """The outbox of a :class:`MemoryStore` (see :class:`leadkit.ports.Outbox`): entries are
    appended by ``commit`` under the store lock, in the same step as the changes."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def claim(
        self, limit: int, *, lease: timedelta, at: datetime | None = None
    ) -> tuple[OutboxEvent, ...]:
        """Lease up to ``limit`` events (see :meth:`leadkit.ports.Outbox.claim`). Raises
        InvalidValue for bad arguments, StorageUnavailable once the store is closed."""
        now = now_or(at)
        check_claim(limit, lease, now)
        store = self._store
        with store._lock:
            store._require_open()
            pending = store._outbox_pending
            chosen = claimable(
                ((p, e.event.lead_id.value, e.leased_until) for p, e in pending.items()),
                limit,
                now,
            )
            claimed = []
            for position in chosen:
                entry = pending[position]
                entry.leased_until = now + lease
                entry.attempts += 1
                claimed.append(entry.snapshot())
        return tuple(map(_view, claimed))

    def ack(self, event_ids: Iterable[str], *, at: datetime | None = None) -> int:
        """Mark the events delivered; returns how many were waiting. Raises InvalidValue for a
        naive ``at``, StorageUnavailable once the store is closed."""
        now = now_or(at)
        wanted = set(event_ids)
        store = self._store
        done = 0
        with store._lock:
            store._require_open()
            pending = store._outbox_pending
            for position in [p for p, e in pending.items() if e.event_id in wanted]:
                entry = pending.pop(position)
                entry.delivered_at = now
                entry.leased_until = None
                done += 1
        return done

    def purge(self, *, delivered_before: datetime) -> int:
        """Delete the events delivered before ``delivered_before``; returns how many. Raises
        InvalidValue for a naive datetime, StorageUnavailable once the store is closed."""
        require_aware("delivered_before", delivered_before)
        store = self._store
        with store._lock:
            store._require_open()
            entries = store._outbox_entries
            gone = [
                p
                for p, e in entries.items()
                if e.delivered_at is not None and e.delivered_at < delivered_before
            ]
            for position in gone:
                del entries[position]
        return len(gone)

    def backlog(self, *, at: datetime | None = None) -> OutboxBacklog:
        """Counts of waiting, leased and delivered events. Raises InvalidValue for a naive
        ``at``, StorageUnavailable once the store is closed."""
        now = now_or(at)
        store = self._store
        with store._lock:
            store._require_open()
            pending = list(store._outbox_pending.values())
            delivered = len(store._outbox_entries) - len(pending)
        leased = sum(1 for e in pending if e.leased_until is not None and e.leased_until > now)
        first = pending[0] if pending else None
        return OutboxBacklog(
            len(pending),
            leased,
            delivered,
            None if first is None else first.position,
            None if first is None else first.event.at,
        )

    def pending(self, limit: int = 50) -> tuple[OutboxEvent, ...]:
        """The first ``limit`` undelivered events, unclaimed. Raises InvalidValue for a limit
        outside 1..1000, StorageUnavailable once the store is closed."""
        check_limit(limit)
        store = self._store
        with store._lock:
            store._require_open()
            found = [e.snapshot() for e in itertools.islice(store._outbox_pending.values(), limit)]
        return tuple(map(_view, found))


def _rewrite_outbox(
    store: MemoryStore, rewrites: Sequence[tuple[int, LeadEvent, LeadEvent | None]]
) -> None:
    """Apply an erasure's outbox rewrites (lock held): each replaces (or, None, deletes) the
    entry at a position if it still holds the event the rewrite was computed from."""
    for position, old, new in rewrites:
        entry = store._outbox_entries.get(position)
        if entry is None or entry.event is not old:
            continue
        if new is None:
            del store._outbox_entries[position]
            store._outbox_pending.pop(position, None)
        else:
            entry.event = new
