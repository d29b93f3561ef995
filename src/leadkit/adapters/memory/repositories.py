"""The repositories of a :class:`~leadkit.adapters.memory.MemoryUnitOfWork`: each overlays the
unit of work's change set on the committed tables; the idempotency keys likewise.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Generic

import attrs

from leadkit.adapters.memory.tables import (
    _YEAR_1000,
    K,
    V,
    _by_key,
    _index_answers,
    _keyed,
    _LeadTable,
    _micros,
    _micros_key,
    _SortKey,
    _Table,
    _text_key,
    _Versioned,
)
from leadkit.errors import AlreadyExists, ConcurrencyConflict, InvalidValue, NotFound
from leadkit.events import LeadScored
from leadkit.lead import Lead
from leadkit.ports import (
    LeadQuery,
    LeadSort,
    Page,
    StoredResponse,
    check_batch_size,
    check_bulk_saves,
    check_expected_version,
    check_key,
    check_limit,
    check_scan_limit,
    checked_record,
    decode_cursor,
    encode_cursor,
)
from leadkit.rescoring import RescoredPage, rescored_leads
from leadkit.shards import Shard
from leadkit.values import LeadId, require_aware

if TYPE_CHECKING:
    from leadkit.adapters.memory.store import MemoryStore, MemoryUnitOfWork


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

    def rescore_page(
        self,
        query: LeadQuery,
        *,
        limit: int,
        after: str | None,
        shard: Shard | None,
        rescore: Callable[[Lead], LeadScored | None],
    ) -> RescoredPage:
        """See :meth:`leadkit.rescoring.RescoringRepository.rescore_page`: a ``scan``, then
        the rescored leads saved with ``save_many`` (all or none)."""
        page = self.scan(query, limit=limit, after=after, shard=shard)
        changed = rescored_leads(page.items, rescore)
        if changed:
            self.save_many(changed)
        return RescoredPage(len(page.items), len(changed), page.next_cursor)

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
