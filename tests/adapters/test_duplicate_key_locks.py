"""The pieces of "one person, one contact": key locks of the units of work (memory, SQLite,
PostgreSQL), the duplicate keys inside a unit of work's transaction (``SqlKeyStore.attach``),
the keys' rule-set fingerprint and ``EngineDuplicateCheck.refresh``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.adapters.sql.duplicate_keys import SqlKeyStore, SqlKeyTransaction
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    CheckMode,
    RecordRef,
    RecordType,
    duplicate_record,
)
from leadkit.duplicates.candidates import keys_fingerprint
from leadkit.errors import ConfigurationError, StorageUnavailable
from leadkit.lead import Lead
from leadkit.ports import LeadStore
from leadkit.records import Contact
from leadkit.values import ContactId, EmailAddress, PersonName
from support.postgres import fresh_database
from support.qualify_race import people_leads, qualify_linking

ENGINES = ["sqlite", "postgresql"]


@pytest.fixture
def open_sql(tmp_path: Path) -> Iterator[Callable[..., SqlStore]]:
    """Open a SqlStore on SQLite (a file of ``tmp_path``) or on a fresh PostgreSQL database."""
    opened: list[SqlStore] = []

    def open_store(engine: str, busy_timeout: float = 5.0) -> SqlStore:
        if engine == "sqlite":
            path = tmp_path / f"leads-{len(opened)}.db"
            store = SqlStore.open(path=path, busy_timeout=busy_timeout)
        else:
            store = SqlStore.open(fresh_database(), busy_timeout=busy_timeout)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


def _holds_back(
    first: Callable[[], object], second: Callable[[], object], release: Callable[[], object]
) -> float:
    """Run ``first`` here, ``second`` in a thread, wait a moment, then ``release``: returns
    how long ``second`` took (it waited for the release if it is above the moment)."""
    first()
    took: list[float] = []
    failures: list[BaseException] = []

    def run() -> None:
        start = time.monotonic()
        try:
            second()
        except BaseException as e:  # reported below
            failures.append(e)
        took.append(time.monotonic() - start)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)
    release()
    thread.join(30)
    assert not failures, failures
    return took[0]


# ---------------------------------------------------------------------------------------------
# Key locks of the units of work


def test_memory_key_locks_wait_for_the_holder_to_end() -> None:
    store = MemoryStore()
    holder, waiter = store.unit_of_work(), store.unit_of_work()
    with holder, waiter:
        took = _holds_back(
            lambda: holder.lock_keys(["k1", "k2"]),
            lambda: waiter.lock_keys(["k2", "k3"]),
            holder.commit,
        )
        assert took >= 0.25
        holder.lock_keys(["k1"])  # k1 was released with the commit; k3 is the waiter's
        with store.unit_of_work() as other:
            other.lock_keys(["k4"])  # unrelated keys never wait


@pytest.mark.parametrize("end", ["commit", "rollback", "exit"])
def test_memory_key_locks_end_with_the_unit_of_work(end: str) -> None:
    store = MemoryStore()
    holder = store.unit_of_work()
    holder.__enter__()
    holder.lock_keys(["k"])
    if end == "commit":
        holder.commit()
    elif end == "rollback":
        holder.rollback()
    else:
        holder.__exit__(None, None, None)
    with store.unit_of_work() as other:
        other.lock_keys(["k"], timeout=0.1)


def test_memory_key_lock_held_too_long_is_storage_unavailable() -> None:
    store = MemoryStore()
    with store.unit_of_work() as holder, store.unit_of_work() as waiter:
        holder.lock_keys(["k"])
        holder.lock_keys(["k"])  # a unit of work may ask again for what it holds
        with pytest.raises(StorageUnavailable, match="locked key"):
            waiter.lock_keys(["j", "k"], timeout=0.05)
        waiter.lock_keys(["j"], timeout=0.05)  # nothing of the refused set was kept


@pytest.mark.parametrize("engine", ENGINES)
def test_sql_key_locks_wait_for_the_holder_to_commit(
    open_sql: Callable[..., SqlStore], engine: str
) -> None:
    store = open_sql(engine, busy_timeout=10.0)
    holder, waiter = store.unit_of_work(), store.unit_of_work()
    with holder, waiter:
        took = _holds_back(
            lambda: holder.lock_keys(["k1", "k2"]),
            lambda: waiter.lock_keys(["k2"]),
            holder.commit,
        )
        assert took >= 0.25
        waiter.commit()
    if engine == "postgresql":  # other keys do not wait on PostgreSQL
        with store.unit_of_work() as one, store.unit_of_work() as two:
            one.lock_keys(["a"])
            start = time.monotonic()
            two.lock_keys(["b"])
            assert time.monotonic() - start < 0.25


def test_sqlite_key_lock_is_the_write_lock(open_sql: Callable[..., SqlStore]) -> None:
    store = open_sql("sqlite", busy_timeout=0.1)
    with store.unit_of_work() as holder, store.unit_of_work() as waiter:
        holder.lock_keys(["k"])
        with pytest.raises(StorageUnavailable, match="locked"):
            waiter.lock_keys(["other"])


# ---------------------------------------------------------------------------------------------
# The keys inside a unit of work


def _ada(key: str = "C-ada") -> Contact:
    return Contact(
        id=ContactId(key),
        name=PersonName(first="Ada", last="Lovelace"),
        email=EmailAddress("ada@engines.example"),
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_keys_attached_to_a_unit_of_work_commit_and_roll_back_with_it(
    open_sql: Callable[..., SqlStore], engine: str
) -> None:
    store = open_sql(engine)
    keys = SqlKeyStore(store.engine)
    check = EngineDuplicateCheck.from_store(store, key_store=keys)
    ref = RecordRef(RecordType.CONTACT, "C-ada")
    with check.store.unit_of_work() as uow:
        uow.contacts.add(_ada())
        uow.rollback()
    assert not keys.keys_of(ref)
    with check.store.unit_of_work() as uow:
        uow.contacts.add(_ada())
        # not yet committed: nothing outside the transaction sees keys
        assert not keys.keys_of(ref)
        uow.commit()
    assert keys.keys_of(ref)


def test_attach_needs_a_unit_of_work_of_the_same_database(
    open_sql: Callable[..., SqlStore], tmp_path: Path
) -> None:
    store = open_sql("sqlite")
    other = open_sql("sqlite")
    assert store.path is not None
    same = SqlKeyStore.open(f"sqlite+pysqlite:///{store.path}")
    try:
        with store.unit_of_work() as uow:
            assert isinstance(same.attach(uow), SqlKeyTransaction)
            assert SqlKeyStore(other.engine).attach(uow) is None
        with MemoryStore().unit_of_work() as memory:
            assert same.attach(memory) is None
    finally:
        same.engine.dispose()


# ---------------------------------------------------------------------------------------------
# Fingerprint and refresh


def test_fingerprint_follows_the_rules_and_the_record_types_not_the_mode() -> None:
    base = keys_fingerprint(DEFAULT_LEAD_RULES)
    assert base == keys_fingerprint(DEFAULT_LEAD_RULES.with_mode(CheckMode.BLOCK))
    assert base != keys_fingerprint(DEFAULT_LEAD_RULES, leads=True)
    fewer = DEFAULT_LEAD_RULES.only(DEFAULT_LEAD_RULES.rules[0].name)
    assert base != keys_fingerprint(fewer)


def _lead_store(store: LeadStore) -> list[Lead]:
    leads = people_leads(2, 2)
    with store.unit_of_work() as uow:
        for lead in leads:
            uow.leads.add(lead)
        uow.commit()
    return leads


@pytest.mark.parametrize("engine", ENGINES)
def test_keys_never_built_or_built_for_other_rules_are_refused_then_refreshed(
    open_sql: Callable[..., SqlStore], engine: str
) -> None:
    store = open_sql(engine)
    keys = SqlKeyStore(store.engine)
    leads = _lead_store(store)
    check = EngineDuplicateCheck.from_store(store, key_store=keys, rebuild=False)
    with pytest.raises(ConfigurationError, match="never built"):
        qualify_linking(check.store, check, leads[0].id, lambda: "x-1")
    assert check.refresh() is True
    assert check.refresh() is False
    assert keys.fingerprint() == check.fingerprint
    other = EngineDuplicateCheck.from_store(
        store, DEFAULT_LEAD_RULES.only(DEFAULT_LEAD_RULES.rules[0].name), key_store=keys
    )
    assert keys.fingerprint() == other.fingerprint
    with pytest.raises(ConfigurationError, match="other rules"):
        qualify_linking(check.store, check, leads[0].id, lambda: "x-2")
    assert check.refresh() is True
    numbers = iter(range(100))
    for lead in leads:
        qualify_linking(check.store, check, lead.id, lambda: f"n-{next(numbers)}")
    with store.unit_of_work() as uow:
        assert len(uow.contacts.list()) == 2


def test_a_check_with_keys_in_memory_refreshes_once() -> None:
    store = MemoryStore()
    check = EngineDuplicateCheck(store)
    assert check.refresh() is True
    assert check.refresh() is False


def test_lock_keys_cover_the_lookup_and_the_records_made_from_the_lead() -> None:
    check = EngineDuplicateCheck(MemoryStore())
    first, second, *_ = (lead for lead in people_leads(1, 3))
    shared = check.lock_keys_of(first) & check.lock_keys_of(second)
    assert shared
    contact = Contact(id=ContactId("C-1"), name=first.name, email=first.email)
    compiled = check.index.compiled
    made = compiled.index_keys(compiled.prepare(duplicate_record(contact)))
    assert made
    assert made <= check.lock_keys_of(first)
