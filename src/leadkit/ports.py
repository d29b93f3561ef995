"""Ports: the protocols storage adapters implement, and the query values they accept.

The docstrings are the contract; ``leadkit.testing.contract`` checks every promise made
here. Adapters raise only :class:`RepositoryError` subclasses (and :class:`InvalidValue` for a
malformed query or cursor).

Two parts live in modules of their own, every name re-exported here (the import path of all
of them): :mod:`~leadkit.queries` (the query values, search folding, sort keys and cursors)
and :mod:`~leadkit.outbox_ports` (idempotency keys and the transactional outbox).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Final, Generic, Protocol, Self, TypeGuard, TypeVar, cast

import attrs

from leadkit.errors import ConcurrencyConflict, InvalidValue
from leadkit.events import LeadEvent
from leadkit.lead import Lead
from leadkit.merging import MergeRecord
from leadkit.outbox_ports import (
    IdempotencyRepository,
    Outbox,
    OutboxBacklog,
    OutboxEvent,
    StoredResponse,
    check_claim,
    claimable,
)
from leadkit.queries import (
    MAX_PAGE_SIZE,
    LeadQuery,
    LeadSort,
    Page,
    Views,
    check_limit,
    decode_cursor,
    encode_cursor,
    fold_search,
    score_sort_value,
    search_key,
    search_texts,
    sort_key,
    utc_text,
)
from leadkit.record_merging import RecordMergeRecord
from leadkit.records import Account, Contact, Opportunity
from leadkit.shards import Shard
from leadkit.values import AccountId, ContactId, LeadId, MergeId, OpportunityId, RecordId

__all__ = [
    "KEY_TYPES",
    "MAX_PAGE_SIZE",
    "MAX_SCAN_SIZE",
    "AccountRepository",
    "BulkLeadRepository",
    "ContactRepository",
    "EventSink",
    "IdFactory",
    "IdempotencyRepository",
    "LeadQuery",
    "LeadRepository",
    "LeadSort",
    "LeadStore",
    "MergeRepository",
    "OpportunityRepository",
    "Outbox",
    "OutboxBacklog",
    "OutboxEvent",
    "Page",
    "RecordMergeRepository",
    "RecordRepository",
    "StoredResponse",
    "UnitOfWork",
    "Views",
    "check_batch_size",
    "check_bulk_saves",
    "check_claim",
    "check_expected_version",
    "check_key",
    "check_limit",
    "check_scan_limit",
    "checked_record",
    "claimable",
    "decode_cursor",
    "encode_cursor",
    "fold_search",
    "is_store",
    "score_sort_value",
    "search_key",
    "search_texts",
    "sort_key",
    "stored_copy",
    "unit_of_work_of",
    "utc_text",
]

KEY_TYPES: Final[dict[str, type[RecordId]]] = {
    "lead": LeadId,
    "account": AccountId,
    "contact": ContactId,
    "opportunity": OpportunityId,
    "merge": MergeId,
    "record_merge": MergeId,
}
"""The ``kind`` strings a store gives :class:`~leadkit.errors.NotFound` and
:class:`~leadkit.errors.AlreadyExists`, each with the id type of its records."""


def check_key(kind: str, key: object) -> None:
    """Refuse a key that is not the id type of ``kind`` (a :data:`KEY_TYPES` name).

    Raises InvalidValue naming ``{kind}_id`` for anything else, such as a plain ``str``
    (``LeadId("x")``, not ``"x"``); KeyError for an unknown ``kind``.
    """
    wanted = KEY_TYPES[kind]
    if type(key) is not wanted and not isinstance(key, wanted):
        raise InvalidValue(
            f"{kind}_id", key, f"must be a {wanted.__name__}, not {type(key).__name__}"
        )


def stored_copy(lead: Lead, version: int) -> Lead:
    """What a store returns and reads back for ``lead`` stored at ``version``: the same lead
    with that version and no pending events (``add`` gives version 1, ``save`` the copy's
    version + 1). Raises nothing."""
    return attrs.evolve(lead, version=version, pending_events=())


class LeadRepository(Protocol):
    """Leads in a store, reached through a :class:`UnitOfWork`.

    Writes are visible to later reads in the same unit of work and to nobody else until it
    commits. A lead's ``version`` is the stored version: 0 for a lead never stored.
    """

    def get(self, lead_id: LeadId) -> Lead:
        """The stored lead (no pending events). Raises NotFound."""
        ...

    def add(self, lead: Lead) -> Lead:
        """Store a new lead; its pending events go to the unit of work.

        Returns the stored copy (version 1, no pending events). Raises AlreadyExists when the
        id is taken, InvalidValue when ``lead.version`` is not 0.
        """
        ...

    def save(self, lead: Lead, *, expected_version: int | None = None) -> Lead:
        """Store ``lead`` if the stored version equals ``lead.version`` — and, when given,
        ``expected_version`` (the version a client last saw: an HTTP ``If-Match``).

        Returns the stored copy (version + 1, no pending events); its pending events go to the
        unit of work. Raises ConcurrencyConflict if the stored version differs (with the
        expected and actual versions), NotFound if there is none, InvalidValue for an
        ``expected_version`` that is not an integer.
        """
        ...

    def delete(self, lead_id: LeadId, *, expected_version: int | None = None) -> None:
        """Remove the lead with its notes, activities, attachment metadata and stakeholder
        links. Raises NotFound, or ConcurrencyConflict when ``expected_version`` is given and
        differs from the stored version."""
        ...

    def query(self, query: LeadQuery, *, limit: int = 50, after: str | None = None) -> Page:
        """One page of leads matching ``query`` in its order; pass ``page.next_cursor`` as
        ``after`` for the next. Keyset pagination: a page never repeats or skips a lead that
        stays unchanged between calls. Every page but the last holds ``limit`` leads; the last
        one has ``next_cursor`` None. Raises InvalidValue for ``limit`` outside 1..1000 or a
        foreign cursor."""
        ...

    def count(self, query: LeadQuery) -> int:
        """How many leads match ``query``."""
        ...

    def stream(self, query: LeadQuery | None = None, *, batch_size: int = 500) -> Iterator[Lead]:
        """Every matching lead in the query's order, read ``batch_size`` at a time so that a
        scan never holds the whole store in memory. Raises InvalidValue for a batch size
        below 1."""
        ...


class BulkLeadRepository(LeadRepository, Protocol):
    """A :class:`LeadRepository` that also reads and writes many leads per call: what the bulk
    paths (rescoring, mass edit and assignment, bulk qualify and disqualify) use when a store
    offers it (both leadkit adapters do; ``leadkit.bulk`` falls back to one call per lead on a
    store without it). Same promises as ``get``/``save``, one round trip per batch."""

    def get_many(self, lead_ids: Iterable[LeadId]) -> dict[LeadId, Lead]:
        """The stored leads among ``lead_ids`` by id (an id with no lead is left out; one
        listed twice is read once). Raises InvalidValue for a key that is not a LeadId."""
        ...

    def save_many(self, leads: Sequence[Lead]) -> tuple[Lead, ...]:
        """``save`` of every lead, in order, all or none: each stored version must equal the
        lead's ``version``. Returns the stored copies (version + 1, no pending events); the
        pending events go to the unit of work in order.

        Raises ConcurrencyConflict or NotFound for the first lead that fails the check, and
        then stores none of them (the unit of work's earlier changes stay); InvalidValue for
        a value that is not a Lead or a lead listed twice.
        """
        ...

    def scan(
        self,
        query: LeadQuery | None = None,
        *,
        limit: int = 500,
        after: str | None = None,
        shard: Shard | None = None,
    ) -> Page:
        """The next ``limit`` matching leads in the query's order from ``after`` on, of which
        only those whose id is in ``shard`` are returned (and decoded): the page of a sharded
        bulk job, resumable in another unit of work. ``next_cursor`` continues after the last
        lead looked at, in the shard or not; it is None when no lead is left.

        Raises InvalidValue for a ``limit`` below 1 or above 100,000 or a foreign cursor.
        """
        ...


MAX_SCAN_SIZE: Final = 100_000
"""The most leads one :meth:`BulkLeadRepository.scan` call looks at."""


def check_scan_limit(limit: int) -> None:
    """Raise InvalidValue naming ``limit`` unless 1 <= limit <= MAX_SCAN_SIZE."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SCAN_SIZE:
        raise InvalidValue("limit", limit, f"must be an integer from 1 to {MAX_SCAN_SIZE}")


def check_bulk_saves(leads: Sequence[Lead]) -> None:
    """For adapters' ``save_many``: refuse anything but leads (InvalidValue naming ``lead``)
    and a lead listed twice (InvalidValue naming ``leads``)."""
    seen: set[LeadId] = set()
    for lead in leads:
        checked_record("lead", lead)
        if lead.id in seen:
            raise InvalidValue("leads", lead.id.value, "lists the lead twice")
        seen.add(lead.id)


R = TypeVar("R")
K = TypeVar("K", contravariant=True)


class RecordRepository(Protocol, Generic[R, K]):
    """Accounts, contacts or opportunities: the same promises as :class:`LeadRepository`'s
    get/add/save/delete, keyed by the record's id, plus a scan."""

    def get(self, record_id: K) -> R:
        """The stored record. Raises NotFound."""
        ...

    def add(self, record: R) -> R:
        """Store a new record; returns it with version 1. Raises AlreadyExists, or
        InvalidValue when its version is not 0."""
        ...

    def save(self, record: R) -> R:
        """Store a changed record if the stored version equals its version; returns it with
        version + 1. Raises ConcurrencyConflict or NotFound."""
        ...

    def delete(self, record_id: K, *, expected_version: int | None = None) -> None:
        """Remove the record. Raises NotFound or ConcurrencyConflict."""
        ...

    def list(self, *, originating_lead: LeadId | None = None) -> Sequence[R]:
        """Every stored record (those created from ``originating_lead`` when given), by id."""
        ...


AccountRepository = RecordRepository[Account, AccountId]
ContactRepository = RecordRepository[Contact, ContactId]
OpportunityRepository = RecordRepository[Opportunity, OpportunityId]
MergeRepository = RecordRepository[MergeRecord, MergeId]
"""Stored merges (``uow.merges`` on stores that keep them: both leadkit adapters do;
``list(originating_lead=master)`` lists a master's merges). Optional for third-party
adapters: ``leadkit.services.merge`` raises ConfigurationError on a store without it."""
RecordMergeRepository = RecordRepository[RecordMergeRecord, MergeId]
"""Stored contact and account merges (``uow.record_merges``; both leadkit adapters keep
them). Optional for third-party adapters: ``leadkit.record_merge_service`` raises
ConfigurationError on a store without it."""


class EventSink(Protocol):
    """Receives the events of a committed unit of work, in the order they were recorded."""

    def __call__(self, events: Sequence[LeadEvent]) -> None: ...


class UnitOfWork(Protocol):
    """A context manager over the repositories: ``commit()`` stores every change or none.

    Leaving the block without ``commit()`` (or by an exception) rolls back. After commit the
    collected events go to the store's event sink, if any; a sink that raises does not undo
    the commit (the error propagates). Raises StorageUnavailable when the store fails and
    ConcurrencyConflict when a change raced another commit. Once its block is left, the unit
    of work is closed: every later use raises StorageUnavailable.
    """

    leads: LeadRepository
    accounts: AccountRepository
    contacts: ContactRepository
    opportunities: OpportunityRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Store every change made in this unit of work, or none of them."""
        ...

    def rollback(self) -> None:
        """Forget every change made since the last commit."""
        ...

    @property
    def events(self) -> Sequence[LeadEvent]:
        """The events collected since the last commit or rollback."""
        ...


class LeadStore(Protocol):
    """An adapter: hands out units of work over one store."""

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work. Raises StorageUnavailable if the store cannot be used."""
        ...

    def close(self) -> None:
        """Release the store's resources; later use raises StorageUnavailable."""
        ...


def is_store(target: object) -> TypeGuard[LeadStore]:
    """Whether ``target`` is a store (it hands out units of work) rather than an open unit of
    work: the one test behind every service that takes either (it opens and commits a unit of
    work on a store, and leaves an open one to its caller). Raises nothing."""
    return callable(getattr(target, "unit_of_work", None))


@contextmanager
def unit_of_work_of(target: LeadStore | UnitOfWork) -> Iterator[UnitOfWork]:
    """The unit of work to work in: a new one of ``target`` when it is a store (closed at the
    end of the block, so rolled back unless the block committed it), else ``target`` itself,
    left open for its caller. Raises what opening the store's unit of work raises."""
    if is_store(target):
        with target.unit_of_work() as uow:
            yield uow
    else:
        yield cast(UnitOfWork, target)


class IdFactory(Protocol):
    """Makes new ids (uuid4 text, a database sequence ...); the core never invents one."""

    def __call__(self) -> str: ...


_KINDS: Final[Mapping[str, tuple[type[RecordId], type]]] = {
    "lead": (LeadId, Lead),
    "account": (AccountId, Account),
    "contact": (ContactId, Contact),
    "opportunity": (OpportunityId, Opportunity),
}


def checked_record(kind: str, value: object) -> None:
    """For adapters, at the boundary of ``add`` and ``save``: refuse anything but a ``kind``
    record (InvalidValue naming ``kind``), so nothing of another type is ever stored."""
    if kind not in _KINDS:
        return
    record_type = _KINDS[kind][1]
    if not isinstance(value, record_type):
        raise InvalidValue(kind, type(value).__name__, f"must be a {record_type.__name__}")


def check_expected_version(
    lead: Lead, expected_version: int | None, stored_version: Callable[[], int]
) -> None:
    """For adapters' ``save(lead, expected_version=...)``: return when ``expected_version`` is
    None or equals ``lead.version`` (the adapter's own check against the stored version
    follows); otherwise raise ConcurrencyConflict with the version the store holds
    (``stored_version()``, which raises NotFound when there is none). Raises InvalidValue
    for an ``expected_version`` that is not an integer."""
    if expected_version is None:
        return
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise InvalidValue("expected_version", expected_version, "must be an integer version")
    if expected_version == lead.version:
        return
    stored = stored_version()
    raise ConcurrencyConflict(
        lead.id, expected_version if stored != expected_version else lead.version, stored
    )


def check_batch_size(batch_size: int) -> None:
    """Raise InvalidValue unless batch_size >= 1."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidValue("batch_size", batch_size, "must be a positive integer")
