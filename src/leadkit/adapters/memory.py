"""The in-memory store: a real adapter, not a test fake.

It keeps the same promises as the SQL adapter and passes the same contract suite
(:mod:`leadkit.testing.contract`): optimistic version checks, all-or-nothing units of work,
read-your-own-writes, uncommitted changes invisible to everybody else, events handed to the
event sink after commit. It is thread-safe: any number of threads may each run their own
units of work against one store (a single unit of work belongs to one thread at a time).

How it works:

- The committed state is a dict per record type (leads, accounts, contacts, opportunities)
  guarded by one lock, plus an index of lead ids per owner so that "My open leads" does not
  scan the whole store. Leads and records are frozen values, so they are stored as they are:
  nobody can change a stored copy behind the store's back.
- A unit of work keeps a private change set per repository (key -> new value, or ``None`` for
  deleted) and, for each key it touched, the committed version its first change was based
  on. Reads overlay the change set on the committed state. ``save`` and ``delete`` check the
  version against what the unit of work sees and raise at once.
- ``commit`` takes the lock, checks every touched key against the committed state again (a
  concurrent commit may have changed it: then ``ConcurrencyConflict`` and nothing is applied),
  applies every change, releases the lock and then calls the event sink with the collected
  events. A failed commit also forgets the unit of work's changes, as a failed database
  transaction would.

Queries filter with :meth:`LeadQuery.matches` (the reference semantics) and order as
:func:`leadkit.ports.sort_key` does (the datetime sorts compare microseconds since the epoch,
which is the same order and much cheaper than formatting UTC text; cursors still carry the
reference text). A page is picked with a bounded heap, so a page of ``limit`` leads costs
one pass over the candidates, not a full sort; "My open leads" passes over the owner's leads
only. ``stream`` sorts the matching leads once, when iteration starts, and yields them batch
by batch (the leads are in memory already; the stream holds references to them, not copies).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from types import TracebackType
from typing import Any, Final, Generic, Protocol, Self, TypeVar

import attrs

from leadkit.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    InvalidValue,
    NotFound,
    StorageUnavailable,
)
from leadkit.events import LeadEvent
from leadkit.lead import Lead
from leadkit.ports import (
    AccountRepository,
    ContactRepository,
    EventSink,
    LeadQuery,
    LeadRepository,
    LeadSort,
    OpportunityRepository,
    Page,
    check_batch_size,
    check_limit,
    decode_cursor,
    encode_cursor,
    sort_key,
)
from leadkit.records import Account, Contact, Opportunity
from leadkit.values import AccountId, ContactId, LeadId, OpportunityId

__all__ = ["MemoryStore", "MemoryUnitOfWork"]


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
    leads: Iterable[Lead], sort: LeadSort, after: _SortKey | None
) -> tuple[list[tuple[_SortKey, Lead]], _SortKey | None, Callable[[_SortKey], _SortKey]]:
    """The leads with their sort keys, ``after`` in the same terms, and the function that
    turns a key back into the :func:`leadkit.ports.sort_key` form that cursors carry.

    The order is always that of ``sort_key``. For the datetime sorts the keys are
    microseconds since the epoch, several times cheaper to compute than ``sort_key``'s UTC
    text and in the same order while every year involved has four digits (the text is
    fixed-width then); otherwise ``sort_key`` itself is used.
    """
    field = _TIME_FIELDS.get(sort)
    leads = list(leads)
    if field is not None:
        cursor = None if after is None else _micros_key(after)
        if after is None or cursor is not None:
            keyed = [((_micros(getattr(lead, field)), lead.id.value), lead) for lead in leads]
            if all(key[0] >= _YEAR_1000 for key, _ in keyed):
                return keyed, cursor, _text_key
    return [(sort_key(lead, sort), lead) for lead in leads], after, _same_key


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
    """Committed leads plus an index of lead ids per owner id (for "My open leads")."""

    def __init__(self) -> None:
        super().__init__()
        self.by_owner: dict[str, set[LeadId]] = {}

    def put(self, key: LeadId, value: Lead) -> None:
        old = self.rows.get(key)
        if old is not None and old.owner.id != value.owner.id:
            self._unindex(key, old.owner.id)
        self.by_owner.setdefault(value.owner.id, set()).add(key)
        super().put(key, value)

    def remove(self, key: LeadId) -> None:
        old = self.rows.get(key)
        if old is not None:
            self._unindex(key, old.owner.id)
        super().remove(key)

    def owned_by(self, owner_id: str, exclude: Iterable[LeadId]) -> list[Lead]:
        """The committed leads of ``owner_id`` except those whose key is in ``exclude``."""
        skip = set(exclude)
        return [self.rows[key] for key in self.by_owner.get(owner_id, ()) if key not in skip]

    def clear(self) -> None:
        super().clear()
        self.by_owner.clear()

    def _unindex(self, key: LeadId, owner_id: str) -> None:
        ids = self.by_owner.get(owner_id)
        if ids is not None:
            ids.discard(key)
            if not ids:
                del self.by_owner[owner_id]


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

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._leads.rows)} leads"
        return f"<MemoryStore {state}>"

    # Internals used by the unit of work ------------------------------------------------------

    def _tables(self) -> tuple[_Table[Any, Any], ...]:
        return (self._leads, self._accounts, self._contacts, self._opportunities)

    def _require_open(self) -> None:
        if self._closed:
            raise StorageUnavailable("the memory store is closed")

    def _commit(self, change_sets: Sequence[_ChangeSet[Any, Any]]) -> None:
        """Apply every change set, or none: raises ConcurrencyConflict if a touched key's
        committed version is no longer the one its change was based on."""
        with self._lock:
            self._require_open()
            for change_set in change_sets:
                change_set.validate()
            for change_set in change_sets:
                change_set.apply()


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
        found, _ = self._changes.lookup(record_id)
        if found is None:
            raise NotFound(self._changes.kind, record_id)
        return found

    def add(self, record: V) -> V:
        self._uow._require_open()
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

    def save(self, lead: Lead) -> Lead:
        return super().save(lead)

    def delete(self, lead_id: LeadId, *, expected_version: int | None = None) -> None:
        super().delete(lead_id, expected_version=expected_version)

    def query(self, query: LeadQuery, *, limit: int = 50, after: str | None = None) -> Page:
        self._uow._require_open()
        check_limit(limit)
        cursor = None if after is None else _read_cursor(after, query)
        keyed, after_key, to_cursor = _keyed(self._matching(query), query.sort, cursor)
        if after_key is not None:
            if query.descending:
                keyed = [pair for pair in keyed if pair[0] < after_key]
            else:
                keyed = [pair for pair in keyed if pair[0] > after_key]
        pick = heapq.nlargest if query.descending else heapq.nsmallest
        chosen = pick(limit + 1, keyed, key=_by_key)
        items = tuple(lead for _, lead in chosen[:limit])
        next_cursor = None
        if len(chosen) > limit:
            last_key = to_cursor(chosen[limit - 1][0])
            next_cursor = encode_cursor(query.sort, query.descending, last_key)
        return Page(items, next_cursor)

    def count(self, query: LeadQuery) -> int:
        self._uow._require_open()
        return len(self._matching(query))

    def stream(self, query: LeadQuery | None = None, *, batch_size: int = 500) -> Iterator[Lead]:
        self._uow._require_open()
        check_batch_size(batch_size)
        return self._stream(LeadQuery() if query is None else query, batch_size)

    def _stream(self, query: LeadQuery, batch_size: int) -> Iterator[Lead]:
        keyed, _, _ = _keyed(self._matching(query), query.sort, None)
        keyed.sort(key=_by_key, reverse=query.descending)
        for start in range(0, len(keyed), batch_size):
            self._uow._require_open()
            for _, lead in keyed[start : start + batch_size]:
                yield lead

    def _matching(self, query: LeadQuery) -> list[Lead]:
        changes = self._changes
        table = changes.table
        assert isinstance(table, _LeadTable)
        with changes.lock:
            if query.owner_id is not None:
                committed = table.owned_by(query.owner_id, changes.changes)
            else:
                committed = table.snapshot(changes.changes)
        own = changes.own_values()
        return [lead for lead in itertools.chain(committed, own) if query.matches(lead)]

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

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._closed = False
        self._events: list[LeadEvent] = []
        lock = store._lock
        leads = _ChangeSet("lead", store._leads, lock)
        accounts = _ChangeSet("account", store._accounts, lock)
        contacts = _ChangeSet("contact", store._contacts, lock)
        opportunities = _ChangeSet("opportunity", store._opportunities, lock)
        self._change_sets: tuple[_ChangeSet[Any, Any], ...] = (
            leads,
            accounts,
            contacts,
            opportunities,
        )
        self.leads = _LeadRepository(self, leads)
        self.accounts = _RecordRepository(self, accounts)
        self.contacts = _RecordRepository(self, contacts)
        self.opportunities = _RecordRepository(self, opportunities)

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
            self._store._commit(self._change_sets)
        finally:
            self._forget()
        sink = self._store._event_sink
        if sink is not None and events:
            sink(events)

    def rollback(self) -> None:
        """Forget every change made since the last commit."""
        self._require_open()
        self._forget()

    def _forget(self) -> None:
        for change_set in self._change_sets:
            change_set.forget()
        self._events.clear()

    def _require_open(self) -> None:
        if self._closed:
            raise StorageUnavailable("the unit of work is closed: start a new one")
        self._store._require_open()
