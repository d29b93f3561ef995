"""The store seen through an ``EngineDuplicateCheck`` (``check.store``) keeps every promise of
the ports: the shipped contract suite over memory stores wrapped by a check that indexes
leads, accounts and contacts.

Before each store is closed, its check's index must equal an index rebuilt from what the
store holds: whatever the suite committed, rolled back, raced or failed, the index holds
exactly the committed records, with their committed values.
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

if "leadkit.testing.contract" not in sys.modules:  # show assertion diffs in the shipped suite
    pytest.register_assert_rewrite("leadkit.testing.contract")

from leadkit.adapters.memory import MemoryStore
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicate_checks.engine_check import IndexingStore
from leadkit.duplicates import RecordRef, RecordType
from leadkit.errors import StorageUnavailable
from leadkit.ports import EventSink, LeadStore
from leadkit.testing.contract import LeadStoreContract, StoreFactory


def assert_index_is_true(check: EngineDuplicateCheck) -> None:
    """The check's index equals one rebuilt from the store (nothing to check once the store
    is closed)."""
    try:
        fresh = EngineDuplicateCheck.from_store(check.store.inner, check.rule_set, leads=True)
        with check.store.inner.unit_of_work() as uow:
            refs = [RecordRef(RecordType.ACCOUNT, a.id.value) for a in uow.accounts.list()]
            refs += [RecordRef(RecordType.CONTACT, c.id.value) for c in uow.contacts.list()]
            refs += [RecordRef(RecordType.LEAD, lead.id.value) for lead in uow.leads.stream()]
    except StorageUnavailable:
        return
    assert len(check.index) == len(fresh.index)
    assert check.index.stats() == fresh.index.stats()
    for ref in refs:
        assert check.index.keys_of(ref) == fresh.index.keys_of(ref), ref


class VerifyingStore(IndexingStore):
    """``check.store``, checking the index against the store before it is closed."""

    def close(self) -> None:
        assert_index_is_true(self.check)
        super().close()


class TestIndexingStore(LeadStoreContract):
    supports_bulk = False  # the watched leads take the one-lead path (leadkit.bulk falls back)

    @pytest.fixture
    def make_store(self) -> StoreFactory:
        def make(event_sink: EventSink | None = None) -> LeadStore:
            store = MemoryStore(event_sink=event_sink)
            check = EngineDuplicateCheck(store, leads=True, lock=threading.Lock())
            return VerifyingStore(store, check)

        return make


class TestIndexingSqlStore(LeadStoreContract):
    """The same over SQLite files, with the index keys in a ``SqlKeyStore`` on the store's own
    file: read and written inside the store's transaction (``SqlKeyStore.attach``), so they
    commit and roll back with the records."""

    supports_concurrent_writers = False
    supports_bulk = False

    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Iterator[StoreFactory]:
        sql = pytest.importorskip("leadkit.adapters.sql")
        from leadkit.adapters.sql.duplicate_keys import SqlKeyStore

        numbers = itertools.count()
        engines: list[SqlKeyStore] = []

        def make(event_sink: EventSink | None = None) -> LeadStore:
            path = tmp_path / f"store-{next(numbers)}.db"
            store: LeadStore = sql.SqlStore.open(path=path, event_sink=event_sink)
            keys = SqlKeyStore.open(f"sqlite+pysqlite:///{path}")
            engines.append(keys)
            check = EngineDuplicateCheck(store, key_store=keys, leads=True, lock=threading.Lock())
            return VerifyingStore(store, check)

        yield make
        for keys in engines:
            keys.engine.dispose()
