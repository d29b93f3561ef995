"""The adapter contract suite: every promise of :mod:`leadkit.ports`, as tests.

A storage adapter proves itself by subclassing :class:`LeadStoreContract` and overriding one
fixture, ``make_store``, that returns a factory of fresh, empty stores::

    import pytest
    from leadkit.adapters.memory import MemoryStore
    from leadkit.testing.contract import LeadStoreContract, StoreFactory

    class TestMemoryStore(LeadStoreContract):
        @pytest.fixture
        def make_store(self) -> StoreFactory:
            return MemoryStore

The factory is called with no arguments, except by the event tests, which pass
``event_sink=...`` (so ``lambda event_sink=None: MyStore(url, event_sink=event_sink)``).
Every call must return a new store that holds nothing.

Capability flags (class attributes) switch off the tests of optional behaviour:

``supports_concurrent_readers`` (default True)
    While one unit of work holds uncommitted changes, another can be opened in the same
    thread and read (it must not see those changes).
``supports_concurrent_writers`` (default True)
    Two units of work in the same thread may both hold uncommitted changes without blocking
    each other; a conflict between them is reported as ConcurrencyConflict at save or commit.
    Set it False for a store whose writer holds a lock until it commits (a SQLite write
    transaction, row locks).
``supports_threads`` (default True)
    Several threads may run their own units of work against one store at the same time.
``supports_reopen`` (default False)
    The store keeps its data when closed and opened again; override :meth:`reopen_store`.
``supports_idempotency``, ``supports_outbox`` (default True)
    Idempotency keys (``uow.idempotency``) and the transactional outbox (``store.outbox``):
    the tests of :mod:`leadkit.testing.reliability`, which this suite inherits.
``supports_merges`` (default True)
    Its units of work have a ``merges`` repository (:data:`leadkit.ports.MergeRepository`),
    so ``leadkit.services.merge`` and ``unmerge`` work on it.
``supports_record_merges`` (default True)
    Its units of work have a ``record_merges`` repository
    (:data:`leadkit.ports.RecordMergeRepository`), so contact and account merges
    (``leadkit.record_merge_service``) work on it.
``supports_bulk`` (default True)
    Its lead repository is a :class:`leadkit.ports.BulkLeadRepository` (``get_many``,
    ``save_many``, ``scan``: :mod:`.bulk`); without it the bulk paths take one call per lead.

The suite also runs a hypothesis :class:`~hypothesis.stateful.RuleBasedStateMachine`
(:func:`make_store_machine`) that drives random adds, saves (fresh and stale), deletes,
reads, queries, commits and rollbacks against the store and a dict model. Its size is set by
``state_machine_examples`` and ``state_machine_steps``; ``state_machine_derandomize = True``
makes it run the same programs every time, ``state_machine_fast = True`` runs a third of the
examples without shrinking a failure (for a slow store while developing).

When a test that runs two units of work in one thread fails on a lock or timeout error, its
message names the capability flag to set. Failures list lead ids before comparing contents.

The suite is a package with one module per capability (:mod:`.merges`,
:mod:`.record_merges`, :mod:`.crud`, :mod:`.queries`, :mod:`.owner_sets`, :mod:`.units`,
:mod:`.events`, :mod:`.records`, :mod:`.concurrency`, :mod:`.machine`, :mod:`.bulk`, and
:mod:`leadkit.testing.reliability`);
:class:`LeadStoreContract` inherits them all. Import the names below from
``leadkit.testing.contract``.

This package imports pytest and hypothesis; ``import leadkit`` never imports it.
"""

from __future__ import annotations

from leadkit.testing.contract._base import StoreFactory
from leadkit.testing.contract.bulk import BulkContract
from leadkit.testing.contract.concurrency import ConcurrencyContract
from leadkit.testing.contract.crud import CrudContract
from leadkit.testing.contract.events import EventContract
from leadkit.testing.contract.machine import (
    LeadStoreMachine,
    MachineLead,
    StateMachineContract,
    make_store_machine,
)
from leadkit.testing.contract.merges import MergeContract
from leadkit.testing.contract.owner_sets import OwnerSetContract
from leadkit.testing.contract.queries import QueryContract
from leadkit.testing.contract.record_merges import RecordMergeContract
from leadkit.testing.contract.records import RecordContract
from leadkit.testing.contract.units import UnitOfWorkContract
from leadkit.testing.reliability import IdempotencyContract, OutboxContract

__all__ = [
    "LeadStoreContract",
    "LeadStoreMachine",
    "MachineLead",
    "StoreFactory",
    "make_store_machine",
]


class LeadStoreContract(
    MergeContract,
    RecordMergeContract,
    CrudContract,
    QueryContract,
    OwnerSetContract,
    UnitOfWorkContract,
    EventContract,
    RecordContract,
    ConcurrencyContract,
    StateMachineContract,
    IdempotencyContract,
    OutboxContract,
    BulkContract,
):
    """Mixin of tests every :class:`~leadkit.ports.LeadStore` adapter must pass.

    Override the ``make_store`` fixture; set the capability flags your store needs. Every
    test opens its own store(s) through the factory and closes them afterwards.
    """
