"""``MemoryStore`` and ``MemoryUnitOfWork``: the in-memory store and its unit of work (see
:mod:`leadkit.adapters.memory` for how they work).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from types import TracebackType
from typing import Any, Final, Self

import attrs

from leadkit.adapters.memory.outbox import MemoryOutbox, _converter, _OutboxEntry, _rewrite_outbox
from leadkit.adapters.memory.repositories import (
    _ChangeSet,
    _IdempotencyRepository,
    _KeyChanges,
    _LeadRepository,
    _RecordRepository,
)
from leadkit.adapters.memory.tables import _LeadTable, _Table
from leadkit.errors import StorageUnavailable
from leadkit.events import LeadEvent
from leadkit.merging import MergeRecord
from leadkit.ports import (
    AccountRepository,
    ContactRepository,
    EventSink,
    IdempotencyRepository,
    LeadRepository,
    MergeRepository,
    OpportunityRepository,
    RecordMergeRepository,
    StoredResponse,
)
from leadkit.record_merging import RecordMergeRecord
from leadkit.records import Account, Contact, Opportunity
from leadkit.values import AccountId, ContactId, LeadId, MergeId, OpportunityId

KEY_LOCK_TIMEOUT_SECONDS: Final = 30.0
"""How long :meth:`MemoryUnitOfWork.lock_keys` waits by default for keys another unit of work
holds."""


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
        rewrites: Sequence[tuple[int, LeadEvent, LeadEvent | None]] = (),
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
            _rewrite_outbox(self, rewrites)
            for event, event_id in zip(events, event_ids, strict=True):
                entry = _OutboxEntry(event_id, self._next_position, event)
                self._next_position += 1
                self._outbox_entries[entry.position] = entry
                self._outbox_pending[entry.position] = entry


class _MemoryPrivacy:
    """``uow.privacy`` of a memory unit of work (see :class:`leadkit.privacy.PrivacyRepository`):
    outbox rewrites are staged and applied by the commit, under the store lock; idempotency
    results are rewritten through the unit of work's key changes."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self.rewrites: list[tuple[int, LeadEvent, LeadEvent | None]] = []

    def events_of(self, lead_id: LeadId) -> Sequence[LeadEvent]:
        self._uow._require_open()
        store = self._uow._store
        with store._lock:
            return [e.event for e in store._outbox_entries.values() if e.event.lead_id == lead_id]

    def rewrite_events(
        self,
        rewrite: Callable[[LeadEvent], LeadEvent | None],
        wanted: Callable[[str, str], bool],
    ) -> tuple[int, int]:
        self._uow._require_open()
        store = self._uow._store
        with store._lock:
            entries = [(p, e.event) for p, e in store._outbox_entries.items()]
        changed = deleted = 0
        dumps = _converter().dumps
        for position, event in entries:
            if not wanted(event.lead_id.value, dumps(event)):
                continue
            new = rewrite(event)
            if new is event:
                continue
            self.rewrites.append((position, event, new))
            if new is None:
                deleted += 1
            else:
                changed += 1
        return changed, deleted

    def rewrite_results(self, rewrite: Callable[[str], str], wanted: Callable[[str], bool]) -> int:
        uow = self._uow
        uow._require_open()
        changes = uow._keys
        with uow._store._lock:
            committed = dict(uow._store._keys)
        done = 0
        for key, response in committed.items():
            current = changes.changes.get(key, response) if key in changes.changes else response
            if current is None or not wanted(current.result):
                continue
            text = rewrite(current.result)
            if text != current.result:
                changes.write(key, attrs.evolve(current, result=text), response)
                done += 1
        return done

    def forget_keys(self, refs: Iterable[tuple[str, str]], scope: object) -> int:
        self._uow._require_open()
        return 0  # no key table: an IndexingStore's index follows the repositories' writes

    def secure(self) -> str:
        return "memory store: nothing written to disk"

    def forget(self) -> None:
        self.rewrites = []


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
        self.privacy = _MemoryPrivacy(self)

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
            self._store._commit(self._change_sets, self._keys, events, self.privacy.rewrites)
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
        self.privacy.forget()
        self._events.clear()
        if self._held_keys:
            held, self._held_keys = self._held_keys, set()
            self._store._unlock_keys(self, held)

    def _require_open(self) -> None:
        if self._closed:
            raise StorageUnavailable("the unit of work is closed: start a new one")
        self._store._require_open()
