"""Reliability of the SQL store on a real SQLite file.

- Eight threads of read-modify-save cycles lose no update.
- A unit of work that raises half-way leaves the file exactly as it was (compared by dump).
- A process killed with SIGKILL while committing a 10,000-lead unit of work leaves all of it
  or none, and an intact file, over ten kills at seeded random moments (five anywhere in the
  unit of work, five inside ``commit()``).
- Several stores opening a new file at once create its schema once.
- Corrupt, damaged, foreign and text files give StorageUnavailable naming the path.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
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
    opened = SqlStore.open(path=db_path)
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
# SIGKILL while committing

# A worker process imports leadkit once and builds the leads once; for every database path it
# reads on stdin it forks a child that commits them all in one unit of work and reports
# "ready <pid>", "committing" and "committed". The test kills children at random moments.
_WORKER = """
import os
import sys
from datetime import UTC, datetime

import attrs

from leadkit.adapters.sql import SqlStore
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import LeadId, PersonName, UserRef

count, warm_up = int(sys.argv[1]), sys.argv[2]
at = datetime(2024, 1, 1, tzinfo=UTC)
user = UserRef("ann")
template = Lead.create(
    LeadId("template"),
    LeadPatch(topic="Bulk", name=PersonName(last="Load"), company="Contoso", description="x" * 300),
    at=at,
    by=user,
).add_note("Imported", at=at, by=user)
leads = [attrs.evolve(template, id=LeadId(f"bulk-{n:05}"), pending_events=()) for n in range(count)]
SqlStore.open(path=warm_up).close()  # build the converter and statements before forking
print("worker", flush=True)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        try:
            store = SqlStore.open(path=line.strip(), create=False)
            print(f"ready {os.getpid()}", flush=True)
            with store.unit_of_work() as uow:
                for lead in leads:
                    uow.leads.add(lead)
                print("committing", flush=True)
                uow.commit()
            print("committed", flush=True)
            store.close()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    print("done", flush=True)
"""

_BULK = 10_000


@dataclass
class _Outcome:
    path: Path
    delay: float
    phases: list[str]
    leads: int
    notes: int
    integrity: str


class _Worker:
    """The worker process of the kill test (see ``_WORKER``)."""

    def __init__(self, scratch: Path) -> None:
        SqlStore.open(path=scratch).close()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(_BULK), str(scratch)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._line() == "worker"
        self._ended = False
        self._last = ""

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the worker died"
        return line.strip()

    def start(self, path: Path) -> tuple[int, float]:
        """Fork a child committing to ``path``; returns its pid once it is ready, and when."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{path}\n")
        self.process.stdin.flush()
        line = self._line()
        word, _, pid = line.partition(" ")
        assert word == "ready", f"expected 'ready <pid>', got {line!r}"
        return int(pid), time.monotonic()

    def wait_for(self, phase: str) -> list[str]:
        """Read the child's reports up to and including ``phase`` (or up to its end)."""
        seen = self._read_until(phase)
        self._ended = self._last == "done"
        return seen

    def finish(self) -> list[str]:
        """Wait for the child to end; the phases it reported (after any already read)."""
        if self._ended:
            self._ended = False
            return []
        return self._read_until("done")

    def _read_until(self, phase: str) -> list[str]:
        seen = []
        while (line := self._line()) not in (phase, "done"):
            seen.append(line)
        self._last = line
        return seen if line == "done" else [*seen, line]

    def close(self) -> None:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.process.stdout.close()


def _inspect(path: Path, delay: float, phases: list[str]) -> _Outcome:
    with closing(sqlite3.connect(path)) as db:  # recovers the WAL like any later reader
        integrity = str(db.execute("PRAGMA integrity_check").fetchone()[0])
        leads = int(db.execute("SELECT count(*) FROM leads").fetchone()[0])
        notes = int(db.execute("SELECT count(*) FROM lead_notes").fetchone()[0])
    return _Outcome(path, delay, phases, leads, notes, integrity)


def _fresh_database(path: Path) -> Path:
    SqlStore.open(path=path).close()
    return path


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the worker forks its children")
def test_a_process_killed_while_committing_leaves_all_of_its_leads_or_none(
    tmp_path: Path,
) -> None:
    workers = [_Worker(tmp_path / f"warm-up-{n}.db") for n in range(2)]  # two cores
    try:
        # Calibrate: one child runs to the end; when does it start and finish its commit?
        path = _fresh_database(tmp_path / "calibration.db")
        _, ready = workers[0].start(path)
        assert workers[0].wait_for("committing") == ["committing"]
        committing = time.monotonic()
        assert workers[0].finish() == ["committed"]
        took, commit_took = time.monotonic() - ready, time.monotonic() - committing
        calibration = _inspect(path, took, ["committing", "committed"])
        assert (calibration.leads, calibration.notes, calibration.integrity) == (_BULK, _BULK, "ok")

        rng = random.Random(20240601)
        outcomes: list[_Outcome] = []
        failures: list[BaseException] = []

        def anywhere(worker: _Worker, path: Path, delay: float) -> None:
            """Kill the child ``delay`` seconds after it is ready (adding, or committing)."""
            try:
                pid, _ = worker.start(path)
                time.sleep(delay)
                with contextlib.suppress(ProcessLookupError):  # it may have finished
                    os.kill(pid, signal.SIGKILL)
                outcomes.append(_inspect(path, delay, worker.finish()))
            except BaseException as e:
                failures.append(e)

        def in_commit(worker: _Worker, path: Path, delay: float) -> None:
            """Kill the child ``delay`` seconds after it calls ``commit()``."""
            try:
                pid, _ = worker.start(path)
                phases = worker.wait_for("committing")
                time.sleep(delay)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                outcomes.append(_inspect(path, delay, [*phases, *worker.finish()]))
            except BaseException as e:
                failures.append(e)

        for round_ in range(5):  # 10 kills, two at a time: one anywhere, one in the COMMIT
            threads = [
                threading.Thread(
                    target=anywhere,
                    args=(workers[0], _fresh_database(tmp_path / f"kill-{round_}-a.db"),
                          rng.uniform(0.0, took)),
                ),
                threading.Thread(
                    target=in_commit,
                    args=(workers[1], _fresh_database(tmp_path / f"kill-{round_}-c.db"),
                          rng.uniform(0.0, commit_took * 1.2)),
                ),
            ]  # fmt: skip
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        assert not failures, failures
    finally:
        for worker in workers:
            worker.close()

    for outcome in outcomes:  # shown with pytest -s
        print(f"killed after {outcome.delay:.2f} s {outcome.phases}: {outcome.leads} leads")
    for outcome in outcomes:
        assert outcome.integrity == "ok", outcome
        assert (outcome.leads, outcome.notes) in ((0, 0), (_BULK, _BULK)), outcome
        if "committing" not in outcome.phases:  # killed before commit() was called
            assert outcome.leads == 0, outcome
        if "committed" in outcome.phases:  # killed after commit() returned
            assert outcome.leads == _BULK, outcome
    assert len(outcomes) == 10
    interrupted = [o for o in outcomes if "committed" not in o.phases]
    assert len(interrupted) >= 3, outcomes
    # The adapter opens every file afterwards and reads what is there.
    for outcome in outcomes:
        with (
            SqlStore.open(path=outcome.path, create=False) as store,
            store.unit_of_work() as uow,
        ):
            assert uow.leads.count(LeadQuery()) == outcome.leads


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
