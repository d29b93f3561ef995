"""One person, one contact: concurrent qualifications of leads describing the same people
create one contact and one account per person, whether they race in threads of one process
or in several processes, on the memory store, SQLite and PostgreSQL.

200 leads describe 20 people (10 leads each, one name, e-mail address and company per person)
in shuffled order. Every lead is qualified by ``support.qualify_race.qualify_linking``, which
links the possible duplicates it is shown, as a user would. The check locks each lead's
blocking keys before its lookup (``EngineDuplicateCheck.lock_keys_of``), so a qualification
that races the first one of the same person waits for it, sees its contact and account, and
links them. The tests wait a moment after each lookup (``Dawdling``), so that without the
locks the race is lost every run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.adapters.sql.duplicate_keys import SqlKeyStore
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.lead import Lead
from leadkit.ports import LeadStore
from leadkit.status import LeadState
from support.postgres import fresh_database
from support.qualify_race import Dawdling, people_leads, person_of, qualify_in_threads
from support.races import go_together

PEOPLE = 20
PER_PERSON = 10
TESTS = Path(__file__).resolve().parents[1]


def seed(store: LeadStore, leads: list[Lead]) -> None:
    with store.unit_of_work() as uow:
        for lead in leads:
            uow.leads.add(lead)
        uow.commit()


def assert_one_contact_per_person(store: LeadStore, leads: list[Lead]) -> None:
    """Every lead is qualified; each person has exactly one contact and one account, which
    all of their leads link; nothing else was created."""
    with store.unit_of_work() as uow:
        contacts = {c.id for c in uow.contacts.list()}
        accounts = {a.id for a in uow.accounts.list()}
        stored = [uow.leads.get(lead.id) for lead in leads]
    not_qualified = [lead.id.value for lead in stored if lead.state is not LeadState.QUALIFIED]
    assert not not_qualified, f"leads not qualified: {sorted(not_qualified)}"
    contact_of: dict[str, set[str]] = {}
    account_of: dict[str, set[str]] = {}
    for lead in stored:
        assert lead.qualified_contact is not None
        assert lead.qualified_account is not None
        contact_of.setdefault(person_of(lead.id), set()).add(lead.qualified_contact.value)
        account_of.setdefault(person_of(lead.id), set()).add(lead.qualified_account.value)
    several = {p: sorted(c) for p, c in contact_of.items() if len(c) > 1}
    assert not several, f"people with several contacts: {several}"
    several = {p: sorted(a) for p, a in account_of.items() if len(a) > 1}
    assert not several, f"people with several accounts: {several}"
    assert len(contacts) == PEOPLE, sorted(c.value for c in contacts)
    assert len(accounts) == PEOPLE, sorted(a.value for a in accounts)
    assert {c for cs in contact_of.values() for c in cs} == {c.value for c in contacts}


# ---------------------------------------------------------------------------------------------
# Stores


Opened = tuple[LeadStore, EngineDuplicateCheck]


def _sql_check(store: SqlStore, *, keys_in_database: bool) -> EngineDuplicateCheck:
    key_store = SqlKeyStore(store.engine) if keys_in_database else None
    return EngineDuplicateCheck.from_store(store, key_store=key_store, lock=threading.Lock())


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[Callable[[str], Opened]]:
    """Open a store of a kind with a check over it: the store is closed after the test."""
    stores: list[LeadStore] = []

    def open_kind(kind: str) -> Opened:
        store: LeadStore
        if kind == "memory":
            store = MemoryStore()
            check = EngineDuplicateCheck.from_store(store, lock=threading.Lock())
        else:
            engine, _, keys = kind.partition("-")
            sql = (
                SqlStore.open(path=tmp_path / "leads.db")
                if engine == "sqlite"
                else SqlStore.open(fresh_database())
            )
            store = sql
            check = _sql_check(sql, keys_in_database=keys == "keys")
        stores.append(store)
        return store, check

    yield open_kind
    for store in stores:
        store.close()


# ---------------------------------------------------------------------------------------------
# Threads


@pytest.mark.parametrize(
    "kind",
    ["memory", "sqlite-keys", "sqlite-memory", "postgresql-keys", "postgresql-memory"],
)
def test_threads_qualifying_one_person_create_one_contact(
    opened: Callable[[str], Opened], kind: str
) -> None:
    store, check = opened(kind)
    leads = people_leads(PEOPLE, PER_PERSON)
    seed(store, leads)
    check.rebuild()
    errors = qualify_in_threads(
        check.store, Dawdling(check), [lead.id for lead in leads], threads=4
    )
    assert not errors, errors
    assert_one_contact_per_person(store, leads)


def test_two_threads_qualifying_two_leads_of_one_person_link_one_contact(
    opened: Callable[[str], Opened],
) -> None:
    """The race of the issue, a hundred times: two threads each qualify one lead of the same
    person at the same moment."""
    store, check = opened("memory")
    leads = people_leads(PEOPLE, 2)
    seed(store, leads)
    by_person: dict[str, list[Lead]] = {}
    for lead in leads:
        by_person.setdefault(person_of(lead.id), []).append(lead)
    for pair in by_person.values():
        errors = qualify_in_threads(
            check.store, Dawdling(check), [lead.id for lead in pair], threads=2
        )
        assert not errors, errors
    assert_one_contact_per_person(store, leads)


# ---------------------------------------------------------------------------------------------
# Processes


def _database(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+pysqlite:///{tmp_path / 'leads.db'}"
    return fresh_database()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_processes_qualifying_the_same_people_create_one_contact_each(
    kind: str, tmp_path: Path
) -> None:
    url = _database(kind, tmp_path)
    leads = people_leads(PEOPLE, PER_PERSON)
    store = SqlStore.open(url)
    try:
        seed(store, leads)  # no keys yet: the workers build them, once
    finally:
        store.close()
    workers = 4
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), *sys.path])}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "support.qualify_race", url, str(n), str(workers)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(workers)
    ]
    ids = " ".join(lead.id.value for lead in leads)
    try:
        for process in processes:
            assert process.stdin is not None
            assert process.stdout is not None
            process.stdin.write(ids + "\n")
            process.stdin.flush()
        summaries = go_together(processes)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert sum(s["rebuilt"] for s in summaries) == 1, summaries
    assert sum(s["created"] for s in summaries) == 2 * PEOPLE
    store = SqlStore.open(url, create=False)
    try:
        assert_one_contact_per_person(store, leads)
    finally:
        store.close()
