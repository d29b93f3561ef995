"""The in-memory store: a real adapter, not a test fake.

It keeps the same promises as the SQL adapter and passes the same contract suite
(:mod:`leadkit.testing.contract`): optimistic version checks, all-or-nothing units of work,
read-your-own-writes, uncommitted changes invisible to everybody else, events handed to the
event sink after commit. It is thread-safe: any number of threads may each run their own
units of work against one store (a single unit of work belongs to one thread at a time).

How it works:

- The committed state is a dict per record type (leads, accounts, contacts, opportunities)
  guarded by one lock, plus a secondary index of the leads: per owner id and state, a list of
  ``(created_at in microseconds, id, lead)`` sorted by ``(created_at, id)``. The index is
  changed only by ``commit``, under the lock and in the same step as the dict, so it always
  describes exactly the committed leads (a rollback or a failed commit never touched it).
  Leads and records are frozen values, so they are stored as they are: nobody can change a
  stored copy behind the store's back.
- A unit of work keeps a private change set per repository (key -> new value, or ``None`` for
  deleted) and, for each key it touched, the committed version its first change was based
  on. Reads overlay the change set on the committed state. ``save`` and ``delete`` check the
  version against what the unit of work sees and raise at once.
- ``commit`` takes the lock, checks every touched key against the committed state again (a
  concurrent commit may have changed it: then ``ConcurrencyConflict`` and nothing is applied),
  applies every change, releases the lock and then calls the event sink with the collected
  events. A failed commit also forgets the unit of work's changes, as a failed database
  transaction would.

Key locks: ``MemoryUnitOfWork.lock_keys`` locks named keys (the duplicate check's blocking
keys) until the unit of work commits, rolls back or ends; the keys of one call are taken
together, under a condition variable of the store, so units of work of different threads that
lock overlapping keys take turns.

Queries filter with :meth:`LeadQuery.matches` (the reference semantics) and order as
:func:`leadkit.ports.sort_key` does (the datetime sorts compare microseconds since the epoch,
which is the same order and much cheaper than formatting UTC text; cursors still carry the
reference text). A query with an owner considers only that owner's leads (of the query's
states). A page of such a query in ``created_at`` order ("My open leads") walks the index
lists from the cursor and stops after ``limit + 1`` matching leads, merged with the unit of
work's own matching changes: its cost does not grow with the store or the owner's leads.
Any other page is picked with a bounded heap, one pass over the candidates, not a full sort.
``stream`` sorts the matching leads once, when iteration starts, and yields them batch
by batch (the leads are in memory already; the stream holds references to them, not copies).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import threading
import time
import uuid
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from types import TracebackType
from typing import Any, Final, Generic, Protocol, Self, TypeVar

import attrs

from leadkit.adapters import now_or
from leadkit.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    InvalidValue,
    NotFound,
    StorageUnavailable,
)
from leadkit.events import LeadEvent
from leadkit.lead import Lead
from leadkit.merging import MergeRecord
from leadkit.ports import (
    AccountRepository,
    ContactRepository,
    EventSink,
    IdempotencyRepository,
    LeadQuery,
    LeadRepository,
    LeadSort,
    MergeRepository,
    OpportunityRepository,
    OutboxBacklog,
    OutboxEvent,
    Page,
    RecordMergeRepository,
    StoredResponse,
    check_batch_size,
    check_bulk_saves,
    check_claim,
    check_expected_version,
    check_key,
    check_limit,
    check_scan_limit,
    checked_record,
    claimable,
    decode_cursor,
    encode_cursor,
    sort_key,
)
from leadkit.record_merging import RecordMergeRecord
from leadkit.records import Account, Contact, Opportunity
from leadkit.serialization import LeadkitConverter, make_converter
from leadkit.shards import Shard
from leadkit.status import LeadState
from leadkit.values import AccountId, ContactId, LeadId, MergeId, OpportunityId, require_aware

KEY_LOCK_TIMEOUT_SECONDS: Final = 30.0
"""How long :meth:`MemoryUnitOfWork.lock_keys` waits by default for keys another unit of work
holds."""

__all__ = ["KEY_LOCK_TIMEOUT_SECONDS", "MemoryOutbox", "MemoryStore", "MemoryUnitOfWork"]


class _Versioned(Protocol):
    """What the store needs of a stored value: its key and its version."""

    @property
    def id(self) -> Hashable: ...

    @property
    def version(self) -> int: ...


K = TypeVar("K", bound=Hashable)
V = TypeVar("V", bound=_Versioned)

_SortKey = tuple[Any, str]
_by_key: Final = itemgetter(0)

_Entry = tuple[int, str, Lead]
"""An index entry: ``created_at`` in microseconds since the epoch, the id text, the lead."""
_position: Final = itemgetter(0, 1)
"""An entry's place in its list: (microseconds, id), unique within a list."""

_INDEX_FILTERS: Final = frozenset({"owner_id", "states"})
_OTHER_FILTERS: Final = tuple(
    f.name
    for f in attrs.fields(LeadQuery)
    if f.name not in _INDEX_FILTERS and f.name not in ("sort", "descending")
)
"""The filters the index does not answer (every filter field added later counts as one)."""


def _index_answers(query: LeadQuery) -> bool:
    """True when the owner and states of ``query`` are its only filters: every lead of the
    owner's index lists for those states matches then, without asking ``matches``."""
    return all(getattr(query, name) is None for name in _OTHER_FILTERS)


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
_YEAR_1000: Final = (datetime(1000, 1, 1, tzinfo=UTC) - _EPOCH) // _MICROSECOND
_TIME_FIELDS: Final = {LeadSort.CREATED_AT: "created_at", LeadSort.MODIFIED_AT: "modified_at"}


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def _time_text(micros: int) -> str:
    """The UTC text :func:`leadkit.ports.sort_key` gives the instant ``micros``."""
    return (_EPOCH + micros * _MICROSECOND).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _micros_key(key: _SortKey) -> _SortKey | None:
    """A cursor's (UTC text, id) as (microseconds, id), or None when the text is not one
    that a four-digit year gives."""
    text, last_id = key
    try:
        micros = _micros(datetime.fromisoformat(text).replace(tzinfo=UTC))
    except (ValueError, TypeError, OverflowError):
        return None
    if micros < _YEAR_1000 or _time_text(micros) != text:
        return None
    return micros, last_id


def _text_key(key: _SortKey) -> _SortKey:
    return _time_text(key[0]), key[1]


def _same_key(key: _SortKey) -> _SortKey:
    return key


def _keyed(
    leads: Iterable[Lead], sort: LeadSort, after: _SortKey | None, descending: bool
) -> tuple[list[tuple[_SortKey, Lead]], _SortKey | None, Callable[[_SortKey], _SortKey]]:
    """The leads with their sort keys, ``after`` in the same terms, and the function that
    turns a key back into the :func:`leadkit.ports.sort_key` form that cursors carry.

    The order is always that of ``sort_key``. For the datetime sorts the keys are
    microseconds since the epoch, several times cheaper to compute than ``sort_key``'s UTC
    text and in the same order while every year involved has four digits (the text is
    fixed-width then); otherwise ``sort_key`` itself is used (``descending`` places the
    leads without a score under the score sort).
    """
    field = _TIME_FIELDS.get(sort)
    leads = list(leads)
    if field is not None:
        cursor = None if after is None else _micros_key(after)
        if after is None or cursor is not None:
            keyed = [((_micros(getattr(lead, field)), lead.id.value), lead) for lead in leads]
            if all(key[0] >= _YEAR_1000 for key, _ in keyed):
                return keyed, cursor, _text_key
    return (
        [(sort_key(lead, sort, descending=descending), lead) for lead in leads],
        after,
        _same_key,
    )


# ---------------------------------------------------------------------------------------------
# Committed state


class _Table(Generic[K, V]):
    """The committed rows of one record type. Every method expects the store lock held."""

    def __init__(self) -> None:
        self.rows: dict[K, V] = {}

    def put(self, key: K, value: V) -> None:
        self.rows[key] = value

    def remove(self, key: K) -> None:
        self.rows.pop(key, None)

    def version(self, key: K) -> int | None:
        row = self.rows.get(key)
        return None if row is None else row.version

    def snapshot(self, exclude: Iterable[K]) -> list[V]:
        """Every committed row except those whose key is in ``exclude``."""
        skip = set(exclude)
        if not skip:
            return list(self.rows.values())
        return [row for key, row in self.rows.items() if key not in skip]

    def clear(self) -> None:
        self.rows.clear()


class _LeadTable(_Table[LeadId, Lead]):
    """Committed leads plus the secondary index: per owner id and state, the entries of the
    leads sorted by (created_at, id). Every method expects the store lock held.

    ``early`` counts the committed leads created before the year 1000: the index orders by
    microseconds, which is :func:`leadkit.ports.sort_key`'s order only for four-digit years,
    so the index walk is not used while there is one.
    """

    def __init__(self) -> None:
        super().__init__()
        self.by_owner: dict[str, dict[LeadState, list[_Entry]]] = {}
        self.early = 0

    def put(self, key: LeadId, value: Lead) -> None:
        entry = (_micros(value.created_at), key.value, value)  # may raise: nothing changed yet
        old = self.rows.get(key)
        if old is None:
            self._index(entry, value)
        elif old.owner.id == value.owner.id and old.state is value.state:
            entries = self.by_owner[value.owner.id][value.state]
            old_place = (_micros(old.created_at), key.value)
            at = bisect_left(entries, old_place, key=_position)
            if old_place == (entry[0], entry[1]):
                entries[at] = entry  # the same place: swap the lead in
            else:
                del entries[at]
                self._unearly(old_place[0])
                self._index(entry, value)
        else:
            self._unindex(old)
            self._index(entry, value)
        super().put(key, value)

    def remove(self, key: LeadId) -> None:
        old = self.rows.get(key)
        if old is not None:
            self._unindex(old)
        super().remove(key)

    def owned_by(
        self, owner_id: str, states: frozenset[LeadState] | None, exclude: set[str]
    ) -> list[Lead]:
        """The committed leads of ``owner_id`` in ``states`` (None: any), except those whose
        id text is in ``exclude``."""
        return [
            lead
            for entries in self._lists(owner_id, states)
            for _, key, lead in entries
            if key not in exclude
        ]

    def walk(
        self,
        owner_id: str,
        states: frozenset[LeadState] | None,
        *,
        descending: bool,
        after: tuple[int, str] | None,
        exclude: set[str],
        check: Callable[[Lead], bool] | None,
        need: int,
    ) -> list[tuple[_SortKey, Lead]]:
        """Up to ``need`` committed leads of ``owner_id`` in ``states`` (None: any) that pass
        ``check`` (None: all do), in (created_at, id) order (reversed with ``descending``),
        strictly after the position ``after``, skipping the ids in ``exclude``; each with its
        (microseconds, id) key. Reads the index lists from the position on and stops early."""
        runs: list[Iterator[_Entry]] = []
        for entries in self._lists(owner_id, states):
            if descending:
                end = len(entries) if after is None else bisect_left(entries, after, key=_position)
                runs.append(map(entries.__getitem__, range(end - 1, -1, -1)))
            else:
                start = 0 if after is None else bisect_right(entries, after, key=_position)
                runs.append(map(entries.__getitem__, range(start, len(entries))))
        if not runs:
            return []
        ordered = (
            runs[0] if len(runs) == 1 else heapq.merge(*runs, key=_position, reverse=descending)
        )
        found: list[tuple[_SortKey, Lead]] = []
        for created, key, lead in ordered:
            if key in exclude or (check is not None and not check(lead)):
                continue
            found.append(((created, key), lead))
            if len(found) >= need:
                break
        return found

    def clear(self) -> None:
        super().clear()
        self.by_owner.clear()
        self.early = 0

    def _lists(self, owner_id: str, states: frozenset[LeadState] | None) -> list[list[_Entry]]:
        per_state = self.by_owner.get(owner_id)
        if not per_state:
            return []
        if states is None:
            return list(per_state.values())
        return [entries for state, entries in per_state.items() if state in states]

    def _index(self, entry: _Entry, lead: Lead) -> None:
        per_state = self.by_owner.setdefault(lead.owner.id, {})
        insort(per_state.setdefault(lead.state, []), entry, key=_position)
        if entry[0] < _YEAR_1000:
            self.early += 1

    def _unindex(self, lead: Lead) -> None:
        place = (_micros(lead.created_at), lead.id.value)
        per_state = self.by_owner[lead.owner.id]
        entries = per_state[lead.state]
        del entries[bisect_left(entries, place, key=_position)]
        if not entries:
            del per_state[lead.state]
            if not per_state:
                del self.by_owner[lead.owner.id]
        self._unearly(place[0])

    def _unearly(self, micros: int) -> None:
        if micros < _YEAR_1000:
            self.early -= 1


class MemoryStore:
    """A thread-safe store held in memory: the reference implementation of the ports.

    ``event_sink`` (optional) receives the events of every committed unit of work, in the
    order they were recorded, after the commit and outside the store's lock.

        >>> store = MemoryStore()
        >>> with store.unit_of_work() as uow:
        ...     uow.leads.count(LeadQuery())
        0
        >>> store.close()
    """

    def __init__(self, event_sink: EventSink | None = None) -> None:
        self._event_sink = event_sink
        self._lock = threading.Lock()
        self._closed = False
        self._leads = _LeadTable()
        self._accounts: _Table[AccountId, Account] = _Table()
        self._contacts: _Table[ContactId, Contact] = _Table()
        self._opportunities: _Table[OpportunityId, Opportunity] = _Table()
        self._merges: _Table[MergeId, MergeRecord] = _Table()
        self._record_merges: _Table[MergeId, RecordMergeRecord] = _Table()
        self._keys: dict[str, StoredResponse] = {}
        self._outbox_entries: dict[int, _OutboxEntry] = {}
        self._outbox_pending: dict[int, _OutboxEntry] = {}
        self._next_position = 1
        self._outbox = MemoryOutbox(self)
        self._key_locks = threading.Condition()
        self._key_owners: dict[str, MemoryUnitOfWork] = {}

    @property
    def outbox(self) -> MemoryOutbox:
        """The outbox: every committed event, for publishers to claim and ack (see
        :class:`leadkit.ports.Outbox`)."""
        return self._outbox

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A new unit of work. Raises StorageUnavailable once the store is closed."""
        self._require_open()
        return MemoryUnitOfWork(self)

    def close(self) -> None:
        """Drop every stored record; later use raises StorageUnavailable. Closing twice is
        harmless."""
        with self._lock:
            self._closed = True
            for table in self._tables():
                table.clear()
            self._keys.clear()
            self._outbox_entries.clear()
            self._outbox_pending.clear()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._leads.rows)} leads"
        return f"<MemoryStore {state}>"

    # Internals used by the unit of work ------------------------------------------------------

    def _tables(self) -> tuple[_Table[Any, Any], ...]:
        return (
            self._leads,
            self._accounts,
            self._contacts,
            self._opportunities,
            self._merges,
            self._record_merges,
        )

    def _require_open(self) -> None:
        if self._closed:
            raise StorageUnavailable("the memory store is closed")

    def _lock_keys(self, owner: MemoryUnitOfWork, keys: Collection[str], timeout: float) -> None:
        """Give ``owner`` every one of ``keys`` at once, waiting while another unit of work
        holds any of them. Raises StorageUnavailable after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        owners = self._key_owners
        with self._key_locks:
            while True:
                if all(owners.get(key, owner) is owner for key in keys):
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StorageUnavailable(
                        f"the memory store: another unit of work kept {len(keys)} locked "
                        f"key(s) for {timeout:g} s"
                    )
                self._key_locks.wait(remaining)
            for key in keys:
                owners[key] = owner

    def _unlock_keys(self, owner: MemoryUnitOfWork, keys: Collection[str]) -> None:
        owners = self._key_owners
        with self._key_locks:
            for key in keys:
                if owners.get(key) is owner:
                    del owners[key]
            self._key_locks.notify_all()

    def _commit(
        self,
        change_sets: Sequence[_ChangeSet[Any, Any]],
        keys: _KeyChanges,
        events: Sequence[LeadEvent],
    ) -> None:
        """Apply every change set, the idempotency keys and the outbox entries of ``events``,
        or none: raises ConcurrencyConflict if a touched key's committed version is no longer
        the one its change was based on, AlreadyExists if an idempotency key was stored by
        another commit meanwhile."""
        commit_id = uuid.uuid4().hex  # one draw per commit; the index makes each id unique
        event_ids = [f"{commit_id}-{n}" for n in range(len(events))]
        with self._lock:
            self._require_open()
            for change_set in change_sets:
                change_set.validate()
            keys.validate(self._keys)
            for change_set in change_sets:
                change_set.apply()
            keys.apply(self._keys)
            for event, event_id in zip(events, event_ids, strict=True):
                entry = _OutboxEntry(event_id, self._next_position, event)
                self._next_position += 1
                self._outbox_entries[entry.position] = entry
                self._outbox_pending[entry.position] = entry


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


class _KeyChanges:
    """A unit of work's idempotency keys: new responses (None: pruned) and, per key, the
    committed response it was based on (compared by identity at commit)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.changes: dict[str, StoredResponse | None] = {}
        self.bases: dict[str, StoredResponse | None] = {}

    def lookup(self, key: str) -> StoredResponse | None:
        if key in self.changes:
            return self.changes[key]
        with self.store._lock:
            return self.store._keys.get(key)

    def write(self, key: str, value: StoredResponse | None, base: StoredResponse | None) -> None:
        if key not in self.bases:
            self.bases[key] = base
        self.changes[key] = value

    def validate(self, committed: dict[str, StoredResponse]) -> None:
        """Raise AlreadyExists for a key another commit stored meanwhile (lock held)."""
        for key, value in self.changes.items():
            if value is not None and committed.get(key) is not self.bases[key]:
                raise AlreadyExists("idempotency key", key)

    def apply(self, committed: dict[str, StoredResponse]) -> None:
        for key, value in self.changes.items():
            if value is not None:
                committed[key] = value
            elif committed.get(key) is self.bases[key]:  # pruned, and not replaced since
                committed.pop(key, None)

    def forget(self) -> None:
        self.changes.clear()
        self.bases.clear()


class _IdempotencyRepository:
    """The :class:`~leadkit.ports.IdempotencyRepository` of a memory unit of work."""

    def __init__(self, uow: MemoryUnitOfWork, changes: _KeyChanges) -> None:
        self._uow = uow
        self._changes = changes

    def get(self, key: str) -> StoredResponse | None:
        self._uow._require_open()
        return self._changes.lookup(key)

    def put(self, response: StoredResponse) -> None:
        self._uow._require_open()
        changes = self._changes
        found = changes.lookup(response.key)
        base = changes.bases.get(response.key, found)
        if found is not None and found.live_at(response.created_at):
            raise AlreadyExists("idempotency key", response.key)
        changes.write(response.key, response, base)

    def prune(self, *, now: datetime) -> int:
        self._uow._require_open()
        require_aware("now", now)
        changes = self._changes
        with changes.store._lock:
            committed = dict(changes.store._keys)
        committed.update(changes.changes)  # type: ignore[arg-type]
        expired = [k for k, v in committed.items() if v is not None and not v.live_at(now)]
        for key in expired:
            base = changes.bases[key] if key in changes.bases else committed[key]
            changes.write(key, None, base)
        return len(expired)


# ---------------------------------------------------------------------------------------------
# Unit of work


class _ChangeSet(Generic[K, V]):
    """One repository's uncommitted changes: new values (``None`` = deleted) and, per key,
    the committed version the first change was based on (``None`` = not stored then)."""

    def __init__(self, kind: str, table: _Table[K, V], lock: threading.Lock) -> None:
        self.kind = kind
        self.table = table
        self.lock = lock
        self.changes: dict[K, V | None] = {}
        self.bases: dict[K, int | None] = {}

    def lookup(self, key: K) -> tuple[V | None, int | None]:
        """What this unit of work sees at ``key`` and the committed version it is based on,
        read in one step so that a check and the base it records cannot disagree."""
        if key in self.changes:
            return self.changes[key], self.bases[key]
        with self.lock:
            row = self.table.rows.get(key)
        return row, None if row is None else row.version

    def write(self, key: K, value: V | None, base: int | None) -> None:
        self.bases.setdefault(key, base)
        self.changes[key] = value

    def own_values(self) -> list[V]:
        return [value for value in self.changes.values() if value is not None]

    def validate(self) -> None:
        """Raise ConcurrencyConflict for the first touched key changed by another commit
        (expects the store lock held)."""
        for key, base in self.bases.items():
            actual = self.table.version(key)
            if actual != base:
                raise ConcurrencyConflict(key, 0 if base is None else base, actual)

    def apply(self) -> None:
        """Write the changes into the committed table (expects the store lock held)."""
        for key, value in self.changes.items():
            if value is None:
                self.table.remove(key)
            else:
                self.table.put(key, value)

    def forget(self) -> None:
        self.changes.clear()
        self.bases.clear()


class _Repository(Generic[K, V]):
    """get/add/save/delete over a change set; shared by leads and the record types."""

    def __init__(self, uow: MemoryUnitOfWork, changes: _ChangeSet[K, V]) -> None:
        self._uow = uow
        self._changes = changes

    def get(self, record_id: K) -> V:
        self._uow._require_open()
        check_key(self._changes.kind, record_id)
        found, _ = self._changes.lookup(record_id)
        if found is None:
            raise NotFound(self._changes.kind, record_id)
        return found

    def add(self, record: V) -> V:
        self._uow._require_open()
        checked_record(self._changes.kind, record)
        if record.version != 0:
            raise InvalidValue(
                "version",
                record.version,
                f"a new {self._changes.kind} must have version 0 (save stores a changed one)",
            )
        key: K = record.id  # type: ignore[assignment]
        found, base = self._changes.lookup(key)
        if found is not None:
            raise AlreadyExists(self._changes.kind, key)
        stored = self._stored_copy(record, 1)
        self._changes.write(key, stored, base)
        self._collect(record)
        return stored

    def save(self, record: V) -> V:
        self._uow._require_open()
        checked_record(self._changes.kind, record)
        key: K = record.id  # type: ignore[assignment]
        found, base = self._changes.lookup(key)
        if found is None:
            raise NotFound(self._changes.kind, key)
        if found.version != record.version:
            raise ConcurrencyConflict(key, record.version, found.version)
        stored = self._stored_copy(record, record.version + 1)
        self._changes.write(key, stored, base)
        self._collect(record)
        return stored

    def delete(self, record_id: K, *, expected_version: int | None = None) -> None:
        self._uow._require_open()
        check_key(self._changes.kind, record_id)
        found, base = self._changes.lookup(record_id)
        if found is None:
            raise NotFound(self._changes.kind, record_id)
        if expected_version is not None and found.version != expected_version:
            raise ConcurrencyConflict(record_id, expected_version, found.version)
        self._changes.write(record_id, None, base)

    def _visible(self) -> list[V]:
        """Every record this unit of work sees: committed ones overlaid with its changes."""
        with self._changes.lock:
            committed = self._changes.table.snapshot(self._changes.changes)
        return committed + self._changes.own_values()

    def _stored_copy(self, record: V, version: int) -> V:
        return attrs.evolve(record, version=version)  # type: ignore[misc]

    def _collect(self, record: V) -> None:
        """Hand the record's pending events (if it has any) to the unit of work."""


class _LeadRepository(_Repository[LeadId, Lead]):
    """The :class:`~leadkit.ports.LeadRepository` of a memory unit of work."""

    # The port's parameter names, so that keyword calls work as documented.
    def get(self, lead_id: LeadId) -> Lead:
        return super().get(lead_id)

    def add(self, lead: Lead) -> Lead:
        return super().add(lead)

    def save(self, lead: Lead, *, expected_version: int | None = None) -> Lead:
        checked_record("lead", lead)
        check_expected_version(
            lead, expected_version, lambda: super(_LeadRepository, self).get(lead.id).version
        )
        return super().save(lead)

    def delete(self, lead_id: LeadId, *, expected_version: int | None = None) -> None:
        super().delete(lead_id, expected_version=expected_version)

    def query(self, query: LeadQuery, *, limit: int = 50, after: str | None = None) -> Page:
        self._uow._require_open()
        check_limit(limit)
        cursor = None if after is None else _read_cursor(after, query)
        page = self._indexed_page(query, limit, cursor)
        if page is not None:
            return page
        keyed, after_key, to_cursor = _keyed(
            self._matching(query), query.sort, cursor, query.descending
        )
        return _page(query, limit, keyed, after_key, to_cursor)

    def count(self, query: LeadQuery) -> int:
        self._uow._require_open()
        return len(self._matching(query))

    def stream(self, query: LeadQuery | None = None, *, batch_size: int = 500) -> Iterator[Lead]:
        self._uow._require_open()
        check_batch_size(batch_size)
        return self._stream(LeadQuery() if query is None else query, batch_size)

    def _stream(self, query: LeadQuery, batch_size: int) -> Iterator[Lead]:
        keyed, _, _ = _keyed(self._matching(query), query.sort, None, query.descending)
        keyed.sort(key=_by_key, reverse=query.descending)
        for start in range(0, len(keyed), batch_size):
            self._uow._require_open()
            for _, lead in keyed[start : start + batch_size]:
                yield lead

    def _indexed_page(self, query: LeadQuery, limit: int, cursor: _SortKey | None) -> Page | None:
        """The page of an owner's leads in ``created_at`` order, read by walking the index
        from the cursor; None when the index cannot give it (another sort, no owner, a year
        below 1000 among the leads or in the cursor): the caller scans then."""
        if query.owner_id is None or query.sort is not LeadSort.CREATED_AT:
            return None
        after = None if cursor is None else _micros_key(cursor)
        if cursor is not None and after is None:
            return None
        changes = self._changes
        own = [
            ((_micros(lead.created_at), lead.id.value), lead)
            for lead in changes.own_values()
            if query.matches(lead)
        ]
        if any(key[0] < _YEAR_1000 for key, _ in own):
            return None
        table = changes.table
        assert isinstance(table, _LeadTable)
        check = None if _index_answers(query) else query.matches
        with changes.lock:
            if table.early:
                return None
            exclude = {key.value for key in changes.changes}
            committed = table.walk(
                query.owner_id,
                query.states,
                descending=query.descending,
                after=after,
                exclude=exclude,
                check=check,
                need=limit + 1,
            )
        return _page(query, limit, committed + own, after, _text_key)

    def _matching(self, query: LeadQuery) -> list[Lead]:
        changes = self._changes
        table = changes.table
        assert isinstance(table, _LeadTable)
        with changes.lock:
            if query.owner_id is not None:
                exclude = {key.value for key in changes.changes}
                committed = table.owned_by(query.owner_id, query.states, exclude)
            elif query.owner_ids is not None:  # an authoriser's scope: read the owners' lists
                exclude = {key.value for key in changes.changes}
                committed = [
                    lead
                    for owner in sorted(query.owner_ids)
                    for lead in table.owned_by(owner, query.states, exclude)
                ]
            else:
                committed = table.snapshot(changes.changes)
        own = changes.own_values()
        return [lead for lead in itertools.chain(committed, own) if query.matches(lead)]

    def get_many(self, lead_ids: Iterable[LeadId]) -> dict[LeadId, Lead]:
        self._uow._require_open()
        found: dict[LeadId, Lead] = {}
        for lead_id in lead_ids:
            check_key("lead", lead_id)
            lead, _ = self._changes.lookup(lead_id)
            if lead is not None:
                found[lead_id] = lead
        return found

    def save_many(self, leads: Sequence[Lead]) -> tuple[Lead, ...]:
        self._uow._require_open()
        batch = tuple(leads)
        check_bulk_saves(batch)
        changes = self._changes
        bases: list[int | None] = []
        for lead in batch:  # every check before any write: all or none
            found, base = changes.lookup(lead.id)
            if found is None:
                raise NotFound("lead", lead.id)
            if found.version != lead.version:
                raise ConcurrencyConflict(lead.id, lead.version, found.version)
            bases.append(base)
        stored = []
        for lead, base in zip(batch, bases, strict=True):
            copy = self._stored_copy(lead, lead.version + 1)
            changes.write(lead.id, copy, base)
            self._collect(lead)
            stored.append(copy)
        return tuple(stored)

    def scan(
        self,
        query: LeadQuery | None = None,
        *,
        limit: int = 500,
        after: str | None = None,
        shard: Shard | None = None,
    ) -> Page:
        self._uow._require_open()
        check_scan_limit(limit)
        query = LeadQuery() if query is None else query
        cursor = None if after is None else _read_cursor(after, query)
        keyed, after_key, to_cursor = _keyed(
            self._matching(query), query.sort, cursor, query.descending
        )
        page = _page(query, limit, keyed, after_key, to_cursor)
        if shard is None:
            return page
        return Page(tuple(x for x in page.items if shard.contains(x.id.value)), page.next_cursor)

    def _stored_copy(self, record: Lead, version: int) -> Lead:
        return attrs.evolve(record, version=version, pending_events=())

    def _collect(self, record: Lead) -> None:
        self._uow._events.extend(record.pending_events)


class _RecordRepository(_Repository[K, V]):
    """A :class:`~leadkit.ports.RecordRepository` for accounts, contacts or opportunities."""

    def list(self, *, originating_lead: LeadId | None = None) -> Sequence[V]:
        self._uow._require_open()
        found = [
            record
            for record in self._visible()
            if originating_lead is None
            or getattr(record, "originating_lead", None) == originating_lead
        ]
        return sorted(found, key=_record_order)


def _page(
    query: LeadQuery,
    limit: int,
    keyed: list[tuple[_SortKey, Lead]],
    after: _SortKey | None,
    to_cursor: Callable[[_SortKey], _SortKey],
) -> Page:
    """The first ``limit`` of the keyed leads after ``after`` in the query's order (a bounded
    heap, not a sort) and the cursor of the next page."""
    if after is not None:
        if query.descending:
            keyed = [pair for pair in keyed if pair[0] < after]
        else:
            keyed = [pair for pair in keyed if pair[0] > after]
    pick = heapq.nlargest if query.descending else heapq.nsmallest
    chosen = pick(limit + 1, keyed, key=_by_key)
    items = tuple(lead for _, lead in chosen[:limit])
    next_cursor = None
    if len(chosen) > limit:
        last_key = to_cursor(chosen[limit - 1][0])
        next_cursor = encode_cursor(query.sort, query.descending, last_key)
    return Page(items, next_cursor)


def _record_order(record: _Versioned) -> str:
    key = record.id
    return str(getattr(key, "value", key))


def _read_cursor(after: str, query: LeadQuery) -> _SortKey:
    value, last_id = decode_cursor(after, query.sort, query.descending)
    if not isinstance(value, str) or not isinstance(last_id, str):
        raise InvalidValue("after", after, "not a cursor returned by this query")
    return value, last_id


class MemoryUnitOfWork:
    """A unit of work over a :class:`MemoryStore` (see :class:`leadkit.ports.UnitOfWork`).

    Use it in a ``with`` block from one thread at a time; leaving the block without
    ``commit()`` rolls back, and using it after the block raises StorageUnavailable.
    """

    leads: LeadRepository
    accounts: AccountRepository
    contacts: ContactRepository
    opportunities: OpportunityRepository
    merges: MergeRepository
    record_merges: RecordMergeRepository
    idempotency: IdempotencyRepository

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._closed = False
        self._events: list[LeadEvent] = []
        lock = store._lock
        leads = _ChangeSet("lead", store._leads, lock)
        accounts = _ChangeSet("account", store._accounts, lock)
        contacts = _ChangeSet("contact", store._contacts, lock)
        opportunities = _ChangeSet("opportunity", store._opportunities, lock)
        merges = _ChangeSet("merge", store._merges, lock)
        record_merges = _ChangeSet("record_merge", store._record_merges, lock)
        self._change_sets: tuple[_ChangeSet[Any, Any], ...] = (
            leads,
            accounts,
            contacts,
            opportunities,
            merges,
            record_merges,
        )
        self._keys = _KeyChanges(store)
        self.idempotency = _IdempotencyRepository(self, self._keys)
        self.leads = _LeadRepository(self, leads)
        self.accounts = _RecordRepository(self, accounts)
        self.contacts = _RecordRepository(self, contacts)
        self.opportunities = _RecordRepository(self, opportunities)
        self.merges = _RecordRepository(self, merges)
        self.record_merges = _RecordRepository(self, record_merges)
        self._held_keys: set[str] = set()

    def __enter__(self) -> Self:
        self._require_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._forget()
        self._closed = True

    @property
    def events(self) -> Sequence[LeadEvent]:
        """The events collected since the last commit or rollback, in recorded order."""
        return tuple(self._events)

    def commit(self) -> None:
        """Store every change, or none (ConcurrencyConflict when a touched record was changed
        by another commit; the changes are forgotten then). Then hand the events to the
        store's sink; a sink that raises does not undo the commit."""
        self._require_open()
        events = tuple(self._events)
        try:
            self._store._commit(self._change_sets, self._keys, events)
        finally:
            self._forget()
        sink = self._store._event_sink
        if sink is not None and events:
            sink(events)

    def rollback(self) -> None:
        """Forget every change made since the last commit."""
        self._require_open()
        self._forget()

    def lock_keys(
        self, keys: Collection[str], *, timeout: float = KEY_LOCK_TIMEOUT_SECONDS
    ) -> None:
        """Lock named keys (the duplicate check's blocking keys, say) until this unit of work
        commits, rolls back or ends: another unit of work of the store that locks one of them
        waits until then. The keys asked for together are taken together, so two units of
        work that each lock one set never deadlock; a unit of work that locks a second set
        while another holds part of it may wait ``timeout`` seconds.

        Raises StorageUnavailable when the keys stay locked for ``timeout`` seconds, or the
        unit of work is closed.
        """
        self._require_open()
        wanted = set(keys) - self._held_keys
        if wanted:
            self._store._lock_keys(self, wanted, timeout)
            self._held_keys |= wanted

    def _forget(self) -> None:
        for change_set in self._change_sets:
            change_set.forget()
        self._keys.forget()
        self._events.clear()
        if self._held_keys:
            held, self._held_keys = self._held_keys, set()
            self._store._unlock_keys(self, held)

    def _require_open(self) -> None:
        if self._closed:
            raise StorageUnavailable("the unit of work is closed: start a new one")
        self._store._require_open()
