"""The SQL store on both engines, SQLite files and PostgreSQL: migrations and many processes.

Every test runs once per engine (``[sqlite]``, ``[postgresql]``; the PostgreSQL runs need the
server of ``scripts/with-postgres``):

- a new database records every migration; a database at every earlier schema version, holding
  leads written as that version wrote them, is upgraded on open and then equals a new one;
- four processes opening one new database at once migrate it once (SQLite's write lock, an
  advisory lock on PostgreSQL);
- eight processes of 200 read-modify-write cycles on the same ten leads (a fifth of the cycles
  change two leads, in random order, which deadlocks on PostgreSQL now and then) lose no
  update: every lead's counter equals the saves that landed on it, every conflict is a
  ConcurrencyConflict;
- ten SIGKILLs of a process in the middle of a 10,000-lead unit of work (half anywhere, half
  inside ``commit()``, which writes the 10,000 events to the outbox; kills that land after
  the commit returned are checked too but not counted) leave all of its leads, notes and
  events or none, no orphaned child rows. The unit of
  work is a bulk one (``unit_of_work(bulk=True)``): on PostgreSQL its leads and notes go to
  the server 1,000 at a time inside the transaction (a kill lands between or inside those
  batches, or in the commit), which keeps the test to seconds per kill.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import Connection, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from leadkit.adapters.sql import DATABASE_SCHEMA_VERSION, SqlStore
from leadkit.adapters.sql.rows import lead_columns
from leadkit.adapters.sql.schema import MIGRATIONS, lead_columns_at, migrate
from leadkit.errors import InvalidValue, StorageUnavailable
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery, LeadSort
from leadkit.serialization import make_converter
from leadkit.values import LeadId, PersonName, UserRef
from support.postgres import fresh_database, postgres_url
from support.scores import scored

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
ANN = UserRef("ann")

_OPEN = """
def open_store(location, **options):
    from leadkit.adapters.sql import SqlStore
    if "://" in location:
        return SqlStore.open(location, **options)
    return SqlStore.open(path=location, **options)
"""


@dataclass
class Engine:
    """One engine under test: where its new databases come from and how to look inside."""

    name: str
    new_location: Callable[[], str]

    def url(self, location: str) -> str:
        return location if "://" in location else f"sqlite+pysqlite:///{location}"

    def open(self, location: str, **options: Any) -> SqlStore:
        if "://" in location:
            return SqlStore.open(location, **options)
        return SqlStore.open(path=location, **options)

    @contextlib.contextmanager
    def connect(self, location: str) -> Iterator[Connection]:
        """A plain SQLAlchemy connection (a transaction; commit to keep changes)."""
        engine = create_engine(self.url(location), poolclass=NullPool)
        if self.name == "sqlite":  # DDL inside our own transaction, as the adapter does
            event.listen(engine, "connect", lambda c, _: setattr(c, "isolation_level", None))
            event.listen(engine, "begin", lambda c: c.exec_driver_sql("BEGIN"))
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()

    def rows(self, location: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.connect(location) as conn:
            return [tuple(row) for row in conn.execute(text(sql), params).all()]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "postgresql":
        base = postgres_url()
        return Engine("postgresql", lambda: fresh_database(base))
    numbers = itertools.count()
    return Engine("sqlite", lambda: str(tmp_path / f"db-{next(numbers)}.db"))


def new_lead(n: int) -> Lead:
    return Lead.create(
        LeadId(f"lead-{n:05}"),
        LeadPatch(topic=f"Topic {n}", name=PersonName(last=f"Last {n}"), company="Contoso"),
        at=T0 + timedelta(seconds=n),
        by=ANN,
        owner=ANN,
    )


def store_all(store: SqlStore, *items: Lead) -> None:
    with store.unit_of_work() as uow:
        for lead in items:
            uow.leads.add(lead)
        uow.commit()


def child_env() -> dict[str, str]:
    """The environment of a child process: this test's ``src`` and ``tests`` on its path."""
    root = Path(__file__).resolve().parents[2]
    paths = [str(root / "src"), str(root / "tests"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


# ---------------------------------------------------------------------------------------------
# Migrations


def test_a_new_database_records_every_migration(engine: Engine) -> None:
    location = engine.new_location()
    with engine.open(location) as store:
        assert store.schema_version == DATABASE_SCHEMA_VERSION
    rows = engine.rows(location, "SELECT version, description FROM schema_version ORDER BY 1")
    assert rows == [(m.version, m.description) for m in MIGRATIONS]
    with engine.open(location, create=False):  # opening again migrates nothing
        pass
    assert len(engine.rows(location, "SELECT version FROM schema_version")) == len(MIGRATIONS)


_SCORES = {1: "85", 2: None, 3: "42.5", 4: "100", 5: "85.00", 6: None}


def _write_as_version(engine: Engine, location: str, version: int, items: list[Lead]) -> None:
    """A database at schema ``version`` (only the first migrations run) holding ``items``
    as leadkit at that version stored them (its columns, the converter's document)."""
    converter = make_converter()
    with engine.connect(location) as conn:
        conn.begin()
        assert migrate(conn, target=version) == list(range(1, version + 1))
        for lead in items if version >= 1 else []:
            stored = attrs.evolve(lead, version=1, pending_events=())
            present = lead_columns_at(version)  # the columns that version had
            values = {k: v for k, v in lead_columns(stored).items() if k in present}
            values["version"] = 1
            values["document"] = converter.dumps(stored)
            names = ", ".join(values)
            marks = ", ".join(f":{name}" for name in values)
            conn.execute(text(f"INSERT INTO leads ({names}) VALUES ({marks})"), values)
        conn.commit()


def _scored(n: int, value: str | None) -> Lead:
    return scored(new_lead(n), value, at=T0, by=ANN)


def _shape(engine: Engine, location: str) -> dict[str, Any]:
    """Tables, their columns and indexes, as the database reports them."""
    with engine.connect(location) as conn:
        inspector = inspect(conn)
        return {
            table: (
                [c["name"] for c in inspector.get_columns(table)],
                sorted(str(i["name"]) for i in inspector.get_indexes(table)),
            )
            for table in sorted(inspector.get_table_names())
        }


@pytest.mark.parametrize("version", range(DATABASE_SCHEMA_VERSION))
def test_a_database_of_every_earlier_version_is_upgraded_on_open(
    engine: Engine, version: int
) -> None:
    location = engine.new_location()
    leads = [_scored(n, value) for n, value in _SCORES.items()]
    _write_as_version(engine, location, version, leads)

    with engine.open(location, create=False, migrate=True) as store, store.unit_of_work() as uow:
        assert store.schema_version == DATABASE_SCHEMA_VERSION
        held = len(leads) if version >= 1 else 0
        assert uow.leads.count(LeadQuery()) == held
        if held:
            by_score = LeadQuery(score_min=Decimal("42.50"), sort=LeadSort.SCORE, descending=True)
            found = [lead.id.value for lead in uow.leads.query(by_score).items]
            assert found == ["lead-00004", "lead-00005", "lead-00001", "lead-00003"]
            assert uow.leads.get(LeadId("lead-00001")) == attrs.evolve(
                leads[0], version=1, pending_events=()
            )
    assert [r[0] for r in engine.rows(location, "SELECT version FROM schema_version")] == [
        m.version for m in MIGRATIONS
    ]
    fresh = engine.new_location()
    engine.open(fresh).close()
    assert _shape(engine, location) == _shape(engine, fresh)


_OPENER = (
    _OPEN
    + """
import sys, time
from datetime import UTC, datetime
from leadkit.fields import Rating
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import LeadId, PersonName, UserRef

location, n, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
lead = Lead.create(LeadId(f"opener-{n}"), LeadPatch(topic="T", name=PersonName(last="L")),
                   at=datetime(2024, 1, 1, tzinfo=UTC), by=UserRef("ann"))
time.sleep(max(0.0, start - time.time()))
with open_store(location) as store, store.unit_of_work() as uow:
    uow.leads.add(lead)
    uow.commit()
print("ok", flush=True)
"""
)


@pytest.mark.slow
def test_four_processes_opening_a_new_database_at_once_migrate_it_once(engine: Engine) -> None:
    location = engine.new_location()
    start = time.time() + 3.0  # every process has imported leadkit by then
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _OPENER, location, str(n), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for n in range(4)
    ]
    results = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, results
    assert [out.strip() for out, _ in results] == ["ok"] * 4
    versions = engine.rows(location, "SELECT version FROM schema_version ORDER BY version")
    assert versions == [(m.version,) for m in MIGRATIONS]
    assert engine.rows(location, "SELECT count(*) FROM leads") == [(4,)]


# ---------------------------------------------------------------------------------------------
# Read-modify-write cycles in eight processes

_CYCLER = (
    _OPEN
    + """
import json, random, sys, time
from datetime import UTC, datetime
from leadkit.errors import ConcurrencyConflict
from leadkit.patch import LeadPatch
from leadkit.values import LeadId, UserRef

location, seed, cycles, keys, start = sys.argv[1:6]
seed, cycles, keys, start = int(seed), int(cycles), int(keys), float(start)
at, by = datetime(2024, 1, 2, tzinfo=UTC), UserRef("bo")
rng = random.Random(seed)
landed, conflicts, deadlocks, failures = {}, 0, 0, []
# Eight processes queue for SQLite's one write lock: its busy handler polls and may keep one
# waiting for seconds, so they get a patient timeout (a PostgreSQL writer waits for row locks).
store = open_store(location, create=False, busy_timeout=60.0)
time.sleep(max(0.0, start - time.time()))
for cycle in range(cycles):
    chosen = rng.sample(range(keys), 2 if rng.random() < 0.2 else 1)
    names = [f"lead-{k:05}" for k in chosen]
    try:
        with store.unit_of_work() as uow:
            for name in names:  # read, add one to the counter, save
                lead = uow.leads.get(LeadId(name))
                counted = int(lead.description or "0") + 1
                uow.leads.save(lead.update(LeadPatch(description=str(counted)), at=at, by=by))
            uow.commit()
    except ConcurrencyConflict as e:
        conflicts += 1
        deadlocks += getattr(getattr(e.__cause__, "orig", None), "sqlstate", None) == "40P01"
        continue
    except Exception as e:
        failures.append(repr(e))
        continue
    for name in names:
        landed[name] = landed.get(name, 0) + 1
store.close()
report = {"landed": landed, "conflicts": conflicts, "deadlocks": deadlocks, "failures": failures}
print(json.dumps(report))
"""
)


@pytest.mark.slow
def test_eight_processes_of_read_modify_write_cycles_lose_no_update(engine: Engine) -> None:
    location = engine.new_location()
    keys, processes_n, cycles = 10, 8, 200
    with engine.open(location) as store:
        store_all(store, *(new_lead(n) for n in range(keys)))
    if engine.name == "postgresql":  # detect the deadlocks sooner than the default 1 s
        location += "?options=-c%20deadlock_timeout%3D50ms"
    start = time.time() + 3.0
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _CYCLER, location, str(seed), str(cycles), str(keys),
             str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for seed in range(processes_n)
    ]  # fmt: skip
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [p.returncode for p in processes] == [0] * processes_n, outputs
    reports = [json.loads(out) for out, _ in outputs]
    failures = [f for report in reports for f in report["failures"]]
    assert not failures, failures[:5]
    conflicts = sum(report["conflicts"] for report in reports)
    landed = dict.fromkeys((f"lead-{n:05}" for n in range(keys)), 0)
    units = 0
    for report in reports:
        for name, count in report["landed"].items():
            landed[name] += count
    units = processes_n * cycles - conflicts
    deadlocks = sum(report["deadlocks"] for report in reports)
    print(
        f"[{engine.name}] {units} units of work landed, {conflicts} conflicts "
        f"({deadlocks} of them deadlocks)"
    )  # pytest -s; fmt: skip
    assert conflicts > 0  # the cycles really did race
    with engine.open(location, create=False) as store, store.unit_of_work() as uow:
        stored = {name: uow.leads.get(LeadId(name)) for name in landed}
    # Contents, not only versions: every landed save added one to the lead's counter.
    assert {name: int(lead.description or "0") for name, lead in stored.items()} == landed
    assert {name: lead.version for name, lead in stored.items()} == {
        name: count + 1 for name, count in landed.items()
    }


# ---------------------------------------------------------------------------------------------
# SIGKILL in the middle of a 10,000-lead unit of work

# A worker process imports leadkit once and builds the leads once; for every database it reads
# on stdin it forks a child that commits them all in one (bulk) unit of work and reports
# "ready <pid>", "committing" and "committed". The test kills children at random moments.
_WORKER = (
    _OPEN
    + """
import os
import sys
from datetime import UTC, datetime

import attrs

from leadkit.fields import Rating
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import LeadId, PersonName, UserRef

count, warm_up = int(sys.argv[1]), sys.argv[2]
at = datetime(2024, 1, 1, tzinfo=UTC)
user = UserRef("ann")
patch = LeadPatch(
    topic="Bulk", name=PersonName(last="Load"), company="Contoso", description="x" * 300
)
# Each lead keeps its first event (created): the commit writes the 10,000 to the outbox.
leads = []
for n in range(count):
    lead = Lead.create(LeadId(f"bulk-{n:05}"), patch, at=at, by=user)
    lead = lead.add_note("Imported", at=at, by=user)
    leads.append(attrs.evolve(lead, pending_events=lead.pending_events[:1]))
open_store(warm_up).close()  # build the converter and statements before forking
print("worker", flush=True)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        try:
            store = open_store(line.strip(), create=False)
            print(f"ready {os.getpid()}", flush=True)
            with store.unit_of_work(bulk=True) as uow:
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
)

_BULK = 10_000


class _Worker:
    """The worker process of the kill test (see ``_WORKER``)."""

    def __init__(self, warm_up: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(_BULK), warm_up],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        assert self._line() == "worker"
        self._ended = False
        self._last = ""

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the worker died"
        return line.strip()

    def start(self, location: str) -> tuple[int, float]:
        """Fork a child committing to ``location``; returns its pid once it is ready, and when."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{location}\n")
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


@dataclass
class _Outcome:
    location: str
    delay: float
    phases: list[str]
    leads: int
    notes: int
    orphans: int
    events: int


def _settled(engine: Engine, location: str) -> None:
    """On a server, wait until the killed client's session has ended (its transaction is
    rolled back or committed), so that what the test reads is final."""
    if engine.name != "postgresql":
        return
    deadline = time.monotonic() + 30
    while engine.rows(
        location,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()",
    ) != [(0,)]:
        assert time.monotonic() < deadline, "the killed client's session did not end"
        time.sleep(0.05)


def _inspect(engine: Engine, location: str, delay: float, phases: list[str]) -> _Outcome:
    _settled(engine, location)
    if engine.name == "sqlite":
        import sqlite3

        with closing(sqlite3.connect(location)) as db:  # recovers the WAL like any later reader
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    [(leads, notes, orphans, events)] = engine.rows(
        location,
        "SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM lead_notes), "
        "(SELECT count(*) FROM lead_notes n WHERE NOT EXISTS "
        "(SELECT 1 FROM leads l WHERE l.id = n.lead_id)), (SELECT count(*) FROM outbox)",
    )
    return _Outcome(location, delay, phases, int(leads), int(notes), int(orphans), int(events))


def _migrated(engine: Engine) -> str:
    location = engine.new_location()
    engine.open(location).close()
    return location


def _migrated_databases(engine: Engine) -> Callable[[], str]:
    """New migrated databases: on PostgreSQL copies of one migrated template (``CREATE
    DATABASE ... TEMPLATE``, a fraction of a migration's time on a loaded machine)."""
    if engine.name != "postgresql":
        return lambda: _migrated(engine)
    template = make_url(_migrated(engine)).database
    base = postgres_url()
    return lambda: fresh_database(base, template=template)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the worker forks its children")
def test_a_process_killed_in_a_10000_lead_unit_of_work_leaves_all_or_nothing(
    engine: Engine,
) -> None:
    migrated = _migrated_databases(engine)
    workers = [_Worker(migrated()) for _ in range(2)]  # two cores
    try:
        # Calibrate: one child runs to the end; when does it start and finish its commit?
        location = migrated()
        _, ready = workers[0].start(location)
        assert workers[0].wait_for("committing") == ["committing"]
        committing = time.monotonic()
        assert workers[0].finish() == ["committed"]
        took, commit_took = time.monotonic() - ready, time.monotonic() - committing
        calibration = _inspect(engine, location, took, ["committing", "committed"])
        assert (calibration.leads, calibration.notes, calibration.events) == (_BULK,) * 3

        rng = random.Random(20240601)
        outcomes: list[_Outcome] = []
        failures: list[BaseException] = []

        def anywhere(worker: _Worker, location: str, delay: float) -> None:
            """Kill the child ``delay`` seconds after it is ready (adding, or committing)."""
            try:
                pid, _ = worker.start(location)
                time.sleep(delay)
                with contextlib.suppress(ProcessLookupError):  # it may have finished
                    os.kill(pid, signal.SIGKILL)
                outcomes.append(_inspect(engine, location, delay, worker.finish()))
            except BaseException as e:
                failures.append(e)

        def in_commit(worker: _Worker, location: str, delay: float) -> None:
            """Kill the child ``delay`` seconds after it calls ``commit()``."""
            try:
                pid, _ = worker.start(location)
                phases = worker.wait_for("committing")
                time.sleep(delay)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                outcomes.append(_inspect(engine, location, delay, [*phases, *worker.finish()]))
            except BaseException as e:
                failures.append(e)

        def interrupted() -> int:
            return sum(1 for o in outcomes if "committed" not in o.phases)

        # Kills two at a time (one anywhere, one in the commit) until ten have interrupted a
        # unit of work (a kill may land after commit() returned: it counts as a check, not
        # as one of the ten), at most 40: on a loaded machine the calibration's times are
        # less of a guide, and more kills land after the commit.
        for _round in range(20):
            if interrupted() >= 10:
                break
            threads = [
                threading.Thread(
                    target=anywhere, args=(workers[0], migrated(), rng.uniform(0.0, took))
                ),
                threading.Thread(
                    target=in_commit,
                    args=(workers[1], migrated(), rng.uniform(0.0, commit_took * 1.2)),
                ),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=180)
        assert not failures, failures
    finally:
        for worker in workers:
            worker.close()

    for outcome in outcomes:  # shown with pytest -s
        print(f"[{engine.name}] killed after {outcome.delay:.2f} s {outcome.phases}: "
              f"{outcome.leads} leads, {outcome.events} events")  # fmt: skip
    for outcome in outcomes:
        assert (outcome.leads, outcome.notes, outcome.orphans, outcome.events) in (
            (0, 0, 0, 0),
            (_BULK, _BULK, 0, _BULK),
        ), outcome
        if "committing" not in outcome.phases:  # killed before commit() was called
            assert outcome.leads == 0, outcome
        if "committed" in outcome.phases:  # killed after commit() returned
            assert outcome.leads == _BULK, outcome
    assert interrupted() >= 10, outcomes  # ten kills in the middle of a unit of work
    for outcome in outcomes:  # the adapter opens every database afterwards and reads it
        with engine.open(outcome.location, create=False) as store, store.unit_of_work() as uow:
            assert uow.leads.count(LeadQuery()) == outcome.leads
            page = uow.leads.query(LeadQuery(), limit=100).items
            assert {lead.version for lead in page} <= {1}
            assert len(page) == min(100, outcome.leads)
        assert engine.rows(outcome.location, "SELECT count(*) FROM leads WHERE version <> 1") == [
            (0,)
        ]


# ---------------------------------------------------------------------------------------------
# Text both engines must store and order alike


def test_text_with_a_nul_character_is_refused_on_both_engines(engine: Engine) -> None:
    from leadkit.errors import InvalidValue

    location = engine.new_location()
    with engine.open(location) as store:
        bad = new_lead(1).update(LeadPatch(description="a\x00b"), at=T0, by=ANN)
        with store.unit_of_work() as uow:
            with pytest.raises(InvalidValue, match="NUL"):
                uow.leads.add(attrs.evolve(bad, version=0))
            uow.leads.add(new_lead(2))  # the unit of work goes on
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.leads.count(LeadQuery()) == 1
            quoted = new_lead(3).update(LeadPatch(description="a\\u0000b"), at=T0, by=ANN)
            uow.leads.add(attrs.evolve(quoted, version=0))  # the text \u0000 is fine
            uow.commit()
            assert uow.leads.get(LeadId("lead-00003")).description == "a\\u0000b"


_TOPICS = ["apple", "Zebra", "äpfel", "Über", "zoo", "éclair", "Straße", "STRASSE", "日本", "ǅ",
           "a b", "a-b", "a_b", "A", "ß", "ss", "ſ", "İstanbul", "ﬁx", "😀", "~", "Ω"]  # fmt: skip


@pytest.mark.parametrize("descending", [False, True])
def test_text_sorts_and_matches_like_the_memory_store(engine: Engine, descending: bool) -> None:
    from leadkit.adapters.memory import MemoryStore

    leads = [
        Lead.create(
            LeadId(f"t{n:02}"),
            LeadPatch(topic=topic, name=PersonName(last=topic), company=topic),
            at=T0,
            by=ANN,
            owner=ANN,
        )
        for n, topic in enumerate(_TOPICS)
    ]
    memory = MemoryStore()
    queries = [
        LeadQuery(sort=sort, descending=descending)
        for sort in (LeadSort.TOPIC, LeadSort.COMPANY, LeadSort.LAST_NAME, LeadSort.ID)
    ] + [LeadQuery(text=needle) for needle in ("ß", "SS", "strasse", "ä", "_", "%", "日")]
    with engine.open(engine.new_location()) as store:
        found = {}
        for each in (memory, store):
            with each.unit_of_work() as uow:
                for lead in leads:
                    uow.leads.add(lead)
                uow.commit()
            with each.unit_of_work() as uow:
                found[each is memory] = [
                    [lead.id.value for lead in uow.leads.query(query, limit=100).items]
                    for query in queries
                ]
    assert found[False] == found[True]


def test_opening_with_create_false_refuses_an_older_schema_and_changes_nothing(
    engine: Engine,
) -> None:
    location = engine.new_location()
    _write_as_version(engine, location, 2, [new_lead(1)])
    before = _shape(engine, location)
    with pytest.raises(StorageUnavailable, match=r"schema version 2 .* migrate") as refused:
        engine.open(location, create=False)
    assert "leadkit init" in str(refused.value)
    assert _shape(engine, location) == before
    assert engine.rows(location, "SELECT max(version) FROM schema_version") == [(2,)]


def test_a_read_only_store_reads_and_refuses_every_write(engine: Engine) -> None:
    location = engine.new_location()
    with engine.open(location) as store:
        store_all(store, new_lead(1))
    with engine.open(location, read_only=True) as store:
        with store.unit_of_work() as uow:
            assert [lead.id.value for lead in uow.leads.query(LeadQuery()).items] == ["lead-00001"]
        with pytest.raises(StorageUnavailable, match="read"):
            store_all(store, new_lead(2))
    with engine.open(location) as store, store.unit_of_work() as uow:
        assert uow.leads.count(LeadQuery()) == 1


def test_a_read_only_open_neither_creates_nor_migrates(engine: Engine) -> None:
    empty, older = engine.new_location(), engine.new_location()
    _write_as_version(engine, older, 3, [new_lead(1)])
    with pytest.raises(StorageUnavailable):
        engine.open(empty, read_only=True)
    with pytest.raises(StorageUnavailable, match="schema version 3"):
        engine.open(older, read_only=True)
    assert engine.rows(older, "SELECT max(version) FROM schema_version") == [(3,)]
    with pytest.raises(InvalidValue, match="migrate") as refused:
        engine.open(older, read_only=True, migrate=True)
    assert refused.value.field == "migrate"


def test_verify_passes_on_a_sound_database(engine: Engine) -> None:
    location = engine.new_location()
    with engine.open(location) as store:
        store_all(store, new_lead(1), new_lead(2))
    with engine.open(location, verify=True) as store, store.unit_of_work() as uow:
        assert uow.leads.count(LeadQuery()) == 2


# ---------------------------------------------------------------------------------------------
# A database that is not leadkit's, on both engines (the catalogue is read without reflection)


@pytest.mark.parametrize(
    ("ddl", "message"),
    [
        (["CREATE TABLE invoices (id integer)"], "holds other tables (invoices)"),
        (
            ["CREATE TABLE schema_version (version integer)"],
            "its schema_version table is not leadkit's",
        ),
        (
            [
                "CREATE TABLE schema_version (version integer, description text, applied_at text)",
                "INSERT INTO schema_version VALUES (1, 'x', '2026-01-01')",
                "CREATE TABLE leads (id text)",
            ],
            "its leads table lacks",
        ),
    ],
    ids=["other-tables", "other-schema-version", "leads-lacking-columns"],
)
def test_a_database_that_is_not_leadkits_is_refused_and_left_alone(
    engine: Engine, ddl: list[str], message: str
) -> None:
    location = engine.new_location()
    with engine.connect(location) as conn:
        for statement in ddl:
            conn.execute(text(statement))
        conn.commit()
    with engine.connect(location) as conn:
        tables = set(inspect(conn).get_table_names())
    for create in (False, True):
        with pytest.raises(StorageUnavailable, match="is not a leadkit database") as caught:
            engine.open(location, create=create)
        assert message in str(caught.value)
    with engine.connect(location) as conn:
        assert set(inspect(conn).get_table_names()) == tables


def test_tables_anywhere_on_the_search_path_count_as_the_databases() -> None:
    """A database whose search path starts with an empty schema: another application's tables
    later on the path are still found (and refused), and so are leadkit's own (and opened)."""
    base = postgres_url()
    pg = Engine("postgresql", lambda: fresh_database(base))
    for leadkits in (False, True):
        location = pg.new_location()
        name = make_url(location).database
        with pg.connect(location) as conn:
            conn.execute(text("CREATE SCHEMA extra"))
            if not leadkits:
                conn.execute(text("CREATE TABLE public.invoices (id integer)"))
            conn.commit()
        if leadkits:
            SqlStore.open(location).close()
        with pg.connect(location) as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET search_path = extra, public'))
            conn.commit()
        if not leadkits:
            with pytest.raises(StorageUnavailable, match=r"holds other tables \(invoices\)"):
                SqlStore.open(location, create=True)
            continue
        with SqlStore.open(location, create=False) as store, store.unit_of_work() as uow:
            uow.leads.add(new_lead(1))
            uow.commit()
        assert pg.rows(location, "SELECT count(*) FROM public.leads") == [(1,)]
