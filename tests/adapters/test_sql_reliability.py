"""Reliability of the SQL store on a real SQLite file.

- Eight threads of read-modify-save cycles lose no update.
- A unit of work that raises half-way leaves the file exactly as it was (compared by dump).
- (A process killed with SIGKILL in a 10,000-lead unit of work, on SQLite and PostgreSQL: see
  ``test_sql_engines.py``.)
- Several stores opening a new file at once create its schema once.
- Corrupt, damaged, foreign and text files give StorageUnavailable naming the path.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadkit.adapters.sql import SqlStore, SqlUnitOfWork
from leadkit.adapters.sql.schema import MIGRATIONS
from leadkit.errors import ConcurrencyConflict, StorageUnavailable
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery
from leadkit.records import Account, Opportunity
from leadkit.status import StatusReason
from leadkit.timeline import Attachment
from leadkit.values import AccountId, ContactId, LeadId, OpportunityId, PersonName, UserRef
from support.threads import read_modify_save_cycles

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
ANN = UserRef("ann")
BO = UserRef("bo")


def new_lead(n: int, *, owner: UserRef = ANN) -> Lead:
    return Lead.create(
        LeadId(f"lead-{n:05}"),
        LeadPatch(topic=f"Topic {n}", name=PersonName(last=f"Last {n}"), company="Contoso"),
        at=T0 + timedelta(seconds=n),
        by=owner,
        owner=owner,
    )


def dump(path: Path) -> list[str]:
    """The whole database as SQL text, read through a separate connection."""
    with closing(sqlite3.connect(path)) as db:
        return list(db.iterdump())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "leads.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SqlStore]:
    # These tests are about lost updates, not lock timeouts: on a loaded CI machine a writer
    # of eight threads can wait past the default 5 s for SQLite's write lock.
    opened = SqlStore.open(path=db_path, busy_timeout=120)
    yield opened
    opened.close()


# ---------------------------------------------------------------------------------------------
# Threads


@pytest.mark.slow
def test_eight_threads_of_read_modify_save_cycles_lose_no_update(store: SqlStore) -> None:
    keys = [LeadId(f"lead-{n:05}") for n in range(20)]
    with store.unit_of_work() as uow:
        for n in range(20):
            uow.leads.add(new_lead(n))
        uow.commit()
    cycles = read_modify_save_cycles(store, keys, threads=8, cycles=200, at=T0, by=BO)
    assert not cycles.failures, cycles.failures
    print(f"{sum(cycles.landed.values())} saves landed, {cycles.conflicts} conflicts")  # pytest -s
    assert sum(cycles.landed.values()) + cycles.conflicts == 8 * 200
    with store.unit_of_work() as uow:
        versions = {key: uow.leads.get(key).version for key in keys}
    assert versions == {key: count + 1 for key, count in cycles.landed.items()}


def test_stores_opening_a_new_file_at_once_create_the_schema_once(db_path: Path) -> None:
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_and_add(n: int) -> None:
        try:
            start.wait()
            with SqlStore.open(path=db_path) as store, store.unit_of_work() as uow:
                uow.leads.add(new_lead(n))
                uow.commit()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=open_and_add, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with closing(sqlite3.connect(db_path)) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [
            (m.version,) for m in MIGRATIONS
        ]
        assert db.execute("SELECT count(*) FROM leads").fetchone() == (4,)


# ---------------------------------------------------------------------------------------------
# All or nothing inside one process


class _Boom(Exception):
    pass


def _busy_lead(n: int) -> Lead:
    offer = Attachment("offer.pdf", "application/pdf", 10, "cd" * 32)
    lead = new_lead(n).add_note("Call", at=T0, by=ANN, attachment=offer)
    return lead.add_stakeholder(ContactId("con-1"), at=T0, by=ANN)


def _steps(uow: SqlUnitOfWork) -> list[Callable[[], object]]:
    """Eight changes touching every table: adds, saves, deletes, records."""
    return [
        lambda: uow.leads.add(_busy_lead(100)),
        lambda: uow.leads.save(
            uow.leads.get(LeadId("lead-00001")).update(LeadPatch(topic="Changed"), at=T0, by=BO)
        ),
        lambda: uow.leads.delete(LeadId("lead-00002")),
        lambda: uow.leads.save(
            uow.leads.get(LeadId("lead-00003")).disqualify(StatusReason.LOST, at=T0, by=BO)
        ),
        lambda: uow.accounts.add(Account(id=AccountId("acc-2"), name="Fabrikam")),
        lambda: uow.accounts.delete(AccountId("acc-1")),
        lambda: uow.opportunities.add(
            Opportunity(
                id=OpportunityId("opp-1"),
                name="Deal",
                customer=AccountId("acc-2"),
                currency="EUR",
                originating_lead=LeadId("lead-00001"),
            )
        ),
        lambda: uow.leads.save(uow.leads.get(LeadId("lead-00004")).remove_note(1, at=T0, by=BO)),
    ]


@pytest.mark.parametrize("raise_after", range(9))
def test_a_unit_of_work_that_raises_half_way_leaves_the_file_exactly_as_before(
    store: SqlStore, db_path: Path, raise_after: int
) -> None:
    with store.unit_of_work() as uow:
        for n in range(1, 6):
            uow.leads.add(_busy_lead(n))
        uow.accounts.add(Account(id=AccountId("acc-1"), name="Contoso"))
        uow.commit()
    before = dump(db_path)
    with pytest.raises(_Boom), store.unit_of_work() as uow:  # noqa: PT012
        for step in _steps(uow)[:raise_after]:
            step()
        raise _Boom
    assert dump(db_path) == before
    with store.unit_of_work() as uow:  # and the store carries on
        for step in _steps(uow):
            step()
        uow.commit()
    assert dump(db_path) != before


def test_a_failed_commit_of_a_later_unit_of_work_keeps_the_earlier_commit(
    store: SqlStore, db_path: Path
) -> None:
    with store.unit_of_work() as uow:
        stale = uow.leads.add(new_lead(1))
        uow.commit()
        uow.leads.save(stale.update(LeadPatch(topic="Kept"), at=T0, by=ANN))
        uow.commit()
        kept = dump(db_path)
        uow.leads.add(new_lead(2))
        with pytest.raises(ConcurrencyConflict):
            uow.leads.save(stale)
    assert dump(db_path) == kept


# ---------------------------------------------------------------------------------------------
# Files that are not (intact) leadkit databases


def test_a_file_of_random_bytes_gives_storage_unavailable_with_the_path(db_path: Path) -> None:
    db_path.write_bytes(random.Random(7).randbytes(64 * 1024))
    with pytest.raises(StorageUnavailable) as caught:
        SqlStore.open(path=db_path)
    assert str(db_path) in str(caught.value)
    assert caught.value.__cause__ is not None


def test_a_foreign_sqlite_file_with_a_leads_table_gives_storage_unavailable(
    db_path: Path,
) -> None:
    with closing(sqlite3.connect(db_path)) as db:
        db.execute("CREATE TABLE leads (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("CREATE TABLE schema_version (v INTEGER)")
        db.commit()
    before = dump(db_path)
    for create in (True, False):
        with pytest.raises(StorageUnavailable) as caught:
            SqlStore.open(path=db_path, create=create)
        assert str(db_path) in str(caught.value)
    assert dump(db_path) == before


def test_a_text_file_at_the_path_gives_storage_unavailable(db_path: Path) -> None:
    db_path.write_text("id,name\n1,Ada\n")
    with pytest.raises(StorageUnavailable) as caught:
        SqlStore.open(path=db_path)
    assert str(db_path) in str(caught.value)
    assert db_path.read_text() == "id,name\n1,Ada\n"


def test_a_damaged_leadkit_file_gives_storage_unavailable_when_opened_or_read(
    db_path: Path,
) -> None:
    with SqlStore.open(path=db_path) as store, store.unit_of_work() as uow:
        for n in range(400):
            uow.leads.add(_busy_lead(n))
        uow.commit()
    data = bytearray(db_path.read_bytes())
    page = 4096
    rng = random.Random(11)
    for start in range(2 * page, len(data), 3 * page):  # keep the header, smash pages
        data[start : start + page] = rng.randbytes(page)
    db_path.write_bytes(bytes(data))
    with (  # noqa: PT012
        pytest.raises(StorageUnavailable) as caught,
        SqlStore.open(path=db_path) as store,
        store.unit_of_work() as uow,
    ):
        list(uow.leads.stream())
        uow.leads.count(LeadQuery(text="contoso"))
    assert str(db_path) in str(caught.value)
