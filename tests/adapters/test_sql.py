"""The SQL store on SQLite files: the shipped contract suite, plus what only SQL has.

Schema and migrations, child tables and their cascade, reopening a file, refusing corrupt and
foreign files, locking, and the query translation checked against ``LeadQuery.matches``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if "leadkit.testing.contract" not in sys.modules:  # show assertion diffs in the shipped suite
    pytest.register_assert_rewrite("leadkit.testing.contract")

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex, CreateTable

from leadkit.adapters.sql import DATABASE_SCHEMA_VERSION, SqlStore, schema
from leadkit.adapters.sql.queries import count_statement, page_statement
from leadkit.adapters.sql.rows import lead_columns, utc_text
from leadkit.adapters.sql.schema import (
    APPLICATION_ID,
    INDEXES,
    MIGRATIONS,
    SCORE_INDEXES,
    metadata,
    migrate,
)
from leadkit.adapters.sql.statements import _Statements
from leadkit.errors import ConcurrencyConflict, InvalidValue, NotFound, StorageUnavailable
from leadkit.events import LeadEvent
from leadkit.fields import LeadSource, Rating
from leadkit.lead import Lead
from leadkit.merging import Survivorship, plan_merge
from leadkit.patch import LeadPatch
from leadkit.ports import (
    EventSink,
    LeadQuery,
    LeadSort,
    LeadStore,
    Views,
    score_sort_value,
    sort_key,
)
from leadkit.records import Opportunity
from leadkit.serialization import make_converter
from leadkit.services import merge
from leadkit.status import LeadState, StatusReason
from leadkit.testing.contract import LeadStoreContract, StoreFactory
from leadkit.timeline import ActivityKind, Attachment, StakeholderRole
from leadkit.values import AccountId, ContactId, LeadId, OpportunityId, PersonName, UserRef
from support.pages import paged_leads
from support.postgres import DatabasePool
from support.scores import scored as score_of

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
ANN = UserRef("ann", "Ann")
BO = UserRef("bo")


class TestSqlStore(LeadStoreContract):
    """The contract on SQLite files. A writer holds SQLite's write lock until it commits, so
    two writing units of work in one thread would wait on each other."""

    supports_concurrent_writers = False
    supports_reopen = True

    @pytest.fixture
    def make_store(self, tmp_path: Path, empty_database: Path) -> StoreFactory:
        numbers = itertools.count()

        def make(*, event_sink: EventSink | None = None) -> LeadStore:
            path = tmp_path / f"store-{next(numbers)}.db"
            shutil.copyfile(empty_database, path)  # faster than creating the schema each time
            return SqlStore.open(path=path, event_sink=event_sink, create=False)

        return make

    def reopen_store(self, store: LeadStore) -> LeadStore:
        assert isinstance(store, SqlStore)
        assert store.path is not None
        store.close()
        return SqlStore.open(path=store.path, create=False)


class TestSqlStorePostgres(LeadStoreContract):
    """The contract on PostgreSQL (the test server of ``scripts/with-postgres``). A writer
    holds its row locks until it commits, so two units of work of one thread writing one lead
    would wait on each other (until the lock timeout)."""

    supports_concurrent_writers = False
    supports_reopen = True

    @pytest.fixture
    def make_store(self, pg_databases: DatabasePool) -> StoreFactory:
        made: list[tuple[SqlStore, str]] = []

        def make(*, event_sink: EventSink | None = None) -> LeadStore:
            for old, used in list(made):  # the state machine makes a store per example
                if old.closed:
                    made.remove((old, used))
                    pg_databases.give_back(used)
            url = pg_databases.take()
            store = SqlStore.open(url, event_sink=event_sink, create=False)
            self._urls[id(store)] = url
            made.append((store, url))
            return store

        self._urls: dict[int, str] = {}
        return make

    def reopen_store(self, store: LeadStore) -> LeadStore:
        assert isinstance(store, SqlStore)
        store.close()
        return SqlStore.open(self._urls[id(store)], create=False)


@pytest.fixture(scope="session")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly created, empty leadkit database file (closed, so the WAL is folded in)."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    SqlStore.open(path=path).close()
    return path


# ---------------------------------------------------------------------------------------------
# Helpers


def new_lead(n: int, *, owner: UserRef = ANN, at: datetime = T0, company: str = "") -> Lead:
    return Lead.create(
        LeadId(f"lead-{n:04}"),
        LeadPatch(
            topic=f"Topic {n}", name=PersonName(first="Ada", last=f"Last {n}"), company=company
        ),
        at=at + timedelta(minutes=n),
        by=owner,
        owner=owner,
    )


def scored(lead: Lead, value: str | None) -> Lead:
    """``lead`` with ``value`` recorded as its score (None: unscored)."""
    return score_of(lead, value, at=T0, by=ANN)


def busy_lead() -> Lead:
    """A lead with two notes (one with an attachment), two activities and two stakeholders."""
    lead = new_lead(1)
    offer = Attachment("offer.pdf", "application/pdf", 1234, "ab" * 32)
    lead = lead.add_note("First call", at=T0, by=ANN, title="Call")
    lead = lead.add_note("", at=T0 + timedelta(hours=1), by=BO, title="Offer", attachment=offer)
    lead = lead.log_activity(ActivityKind.PHONE_CALL, "Follow up", at=T0, by=ANN, due_at=T0)
    lead = lead.log_activity(ActivityKind.MEETING, "Visit", at=T0, by=ANN)
    lead = lead.add_stakeholder(ContactId("con-1"), StakeholderRole.DECISION_MAKER, at=T0, by=ANN)
    return lead.add_stakeholder(ContactId("con-2"), at=T0, by=ANN)


def store_all(store: SqlStore, *items: Lead) -> list[Lead]:
    with store.unit_of_work() as uow:
        stored = [uow.leads.add(lead) for lead in items]
        uow.commit()
    return stored


def raw(path: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql, params).fetchall()


def child_counts(path: Path, lead_id: str) -> dict[str, int]:
    return {
        table: int(raw(path, f"SELECT count(*) FROM {table} WHERE lead_id = ?", lead_id)[0][0])
        for table in ("lead_notes", "lead_activities", "lead_stakeholders")
    }


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "leads.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore.open(path=db_path)
    yield opened
    opened.close()


# ---------------------------------------------------------------------------------------------
# Schema and migrations


def test_a_new_file_records_every_migration_in_schema_version(
    store: SqlStore, db_path: Path
) -> None:
    rows = raw(db_path, "SELECT version, description FROM schema_version ORDER BY version")
    assert [r[0] for r in rows] == [m.version for m in MIGRATIONS]
    assert [r[1] for r in rows] == [m.description for m in MIGRATIONS]
    assert store.schema_version == DATABASE_SCHEMA_VERSION == MIGRATIONS[-1].version


def test_a_new_file_is_marked_as_leadkit_runs_in_wal_mode_and_has_the_view_indexes(
    store: SqlStore, db_path: Path
) -> None:
    assert raw(db_path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    assert raw(db_path, "PRAGMA journal_mode") == [("wal",)]
    indexes = {r[0] for r in raw(db_path, "SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"ix_leads_owner_state_created", "ix_leads_state_modified"} <= indexes


def test_opening_an_older_schema_applies_the_missing_migrations(db_path: Path) -> None:
    engine = create_engine(f"sqlite:///{db_path}")
    event.listen(engine, "connect", lambda conn, _: setattr(conn, "isolation_level", None))
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN")
        assert migrate(conn, target=1) == [1]
        conn.commit()
    engine.dispose()
    assert raw(db_path, "SELECT max(version) FROM schema_version") == [(1,)]
    assert not raw(db_path, "SELECT name FROM sqlite_master WHERE name LIKE 'ix_leads_%'")

    with SqlStore.open(path=db_path, create=False, migrate=True) as store:
        assert store.schema_version == DATABASE_SCHEMA_VERSION
        store_all(store, new_lead(1))
    assert [r[0] for r in raw(db_path, "SELECT version FROM schema_version")] == [
        m.version for m in MIGRATIONS
    ]
    assert raw(
        db_path, "SELECT name FROM sqlite_master WHERE name = 'ix_leads_owner_state_created'"
    )


def test_migration_4_adds_the_merge_records_table_to_an_older_file(db_path: Path) -> None:
    schema_at(db_path, 3)
    assert not raw(db_path, "SELECT name FROM sqlite_master WHERE name = 'merges'")
    with SqlStore.open(path=db_path, create=False, migrate=True) as store:
        a, b = store_all(store, new_lead(1), new_lead(2))
        plan = plan_merge(a, [b], Survivorship())
        result = merge(store, plan, ids=lambda: "merge-1", at=a.created_at, by=a.created_by)
        with store.unit_of_work() as uow:
            assert uow.merges.get(result.merge_id) == result.record
            assert uow.merges.list(originating_lead=a.id) == (result.record,)
    assert raw(db_path, "SELECT id, originating_lead FROM merges") == [("merge-1", a.id.value)]


def schema_at(path: Path, version: int) -> None:
    """Create a database at schema ``version`` by running only the first migrations."""
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda conn, _: setattr(conn, "isolation_level", None))
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN")
        assert migrate(conn, target=version) == list(range(1, version + 1))
        conn.commit()
    engine.dispose()


def insert_as_version_2(path: Path, *items: Lead) -> None:
    """Store leads as leadkit at schema version 2 did: its columns (no ``score_key``) and the
    converter's document."""
    converter = make_converter()
    with closing(sqlite3.connect(path)) as db:
        for lead in items:
            stored = attrs.evolve(lead, version=1, pending_events=())
            values = lead_columns(stored)
            del values["score_key"], values["search_key"]
            values["version"] = 1
            values["document"] = converter.dumps(stored)
            names = ", ".join(values)
            marks = ", ".join("?" * len(values))
            db.execute(f"INSERT INTO leads ({names}) VALUES ({marks})", tuple(values.values()))
        db.commit()


def test_migration_5_fills_the_search_key_so_text_filters_ignore_accents(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema_at(db_path, 2)
    people = ["Jürgen Müller", "Åsa Öström", "Łukasz Wiśniewski", "Ada Lovelace"]
    insert_as_version_2(
        db_path,
        *(
            attrs.evolve(new_lead(n), name=PersonName.parse(name))
            for n, name in enumerate(people, 1)
        ),
    )
    monkeypatch.setattr(schema, "_BACKFILL_BATCH", 3)  # several batches
    with (
        SqlStore.open(path=db_path, create=False, migrate=True) as store,
        store.unit_of_work() as uow,
    ):
        for text, expected in [("mueller", 1), ("MULLER", 1), ("ostrom", 1), ("lukasz", 1),
                               ("wisniewski", 1), ("love", 1), ("xyz", 0)]:  # fmt: skip
            assert uow.leads.count(LeadQuery(text=text)) == expected, text
    keys = dict(raw(db_path, "SELECT id, search_key FROM leads"))
    assert keys["lead-0001"].startswith("jurgen muller\n")


def columns_of(path: Path, table: str) -> list[tuple[Any, ...]]:
    return [row[1:] for row in raw(path, f"PRAGMA table_info({table})")]


_V2_SCORES = {1: "85", 2: None, 3: "42.5", 4: "100", 5: "85.00", 6: None, 7: "0", 8: "9.5"}


def test_migration_3_adds_the_score_column_and_fills_it_from_the_documents(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema_at(db_path, 2)
    leads_v2 = [scored(new_lead(n), value) for n, value in _V2_SCORES.items()]
    insert_as_version_2(db_path, *leads_v2)
    with closing(sqlite3.connect(db_path)) as db:  # a document nobody can read
        db.execute(
            "UPDATE leads SET document = '{\"schema\": 1, \"data\": [' WHERE id = 'lead-0006'"
        )
        db.commit()
    assert "score_key" not in {column[0] for column in columns_of(db_path, "leads")}
    monkeypatch.setattr(schema, "_BACKFILL_BATCH", 3)  # several batches

    with SqlStore.open(path=db_path, create=False, migrate=True) as store:
        assert store.schema_version == DATABASE_SCHEMA_VERSION >= 3
        with store.unit_of_work() as uow:
            high = LeadQuery(score_min=Decimal("42.50"), sort=LeadSort.SCORE, descending=True)
            found = [lead.id.value for lead in uow.leads.query(high).items]
            assert found == ["lead-0004", "lead-0005", "lead-0001", "lead-0003"]  # 85 = 85.00
            assert uow.leads.count(LeadQuery(score_max=Decimal("9.50"))) == 2
            assert uow.leads.count(LeadQuery(score_min=0)) == 6
            assert uow.leads.count(LeadQuery()) == 8

    assert [r[0] for r in raw(db_path, "SELECT version FROM schema_version")] == [
        m.version for m in MIGRATIONS
    ]
    stored = dict(raw(db_path, "SELECT id, score_key FROM leads"))
    assert stored == {
        f"lead-{n:04}": None if value is None else score_sort_value(Decimal(value))
        for n, value in _V2_SCORES.items()
    }
    fresh = tmp_path / "fresh.db"
    SqlStore.open(path=fresh).close()
    assert columns_of(db_path, "leads") == columns_of(fresh, "leads")
    index_names = "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name"
    assert raw(db_path, index_names) == raw(fresh, index_names)
    assert ("ix_leads_score",) in raw(fresh, index_names)


def test_the_columns_expected_at_each_version_end_at_todays_table() -> None:
    assert schema.lead_columns_at(DATABASE_SCHEMA_VERSION) == {c.key for c in schema.leads.c}
    assert "score_key" not in schema.lead_columns_at(2)
    assert schema.lead_columns_at(2) == schema.lead_columns_at(1)


def test_a_failed_migration_3_leaves_the_database_at_version_2(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema_at(db_path, 2)
    insert_as_version_2(db_path, *(scored(new_lead(n), str(n)) for n in range(1, 8)))
    calls = []

    def breaks_on_the_fifth(document: str) -> str | None:
        calls.append(document)
        if len(calls) == 5:
            raise RuntimeError("power cut")
        return "P10115"

    monkeypatch.setattr(schema, "_BACKFILL_BATCH", 2)
    monkeypatch.setattr(schema, "_document_score", breaks_on_the_fifth)
    with pytest.raises(RuntimeError, match="power cut"):
        SqlStore.open(path=db_path, create=False, migrate=True)
    assert raw(db_path, "SELECT max(version) FROM schema_version") == [(2,)]
    assert "score_key" not in {column[0] for column in columns_of(db_path, "leads")}

    monkeypatch.undo()
    with (
        SqlStore.open(path=db_path, create=False, migrate=True) as store,
        store.unit_of_work() as uow,
    ):
        by_score = uow.leads.query(LeadQuery(sort=LeadSort.SCORE, score_min=6), limit=5)
        assert [lead.id.value for lead in by_score.items] == ["lead-0006", "lead-0007"]


def test_opening_applies_no_migration_twice(db_path: Path) -> None:
    for _ in range(3):
        SqlStore.open(path=db_path).close()
    assert raw(db_path, "SELECT count(*) FROM schema_version") == [(len(MIGRATIONS),)]


def test_a_schema_written_by_a_newer_leadkit_is_refused(db_path: Path) -> None:
    SqlStore.open(path=db_path).close()
    with closing(sqlite3.connect(db_path)) as db:
        db.execute("INSERT INTO schema_version VALUES (99, 'from the future', 'x')")
        db.commit()
    with pytest.raises(StorageUnavailable, match="newer leadkit") as caught:
        SqlStore.open(path=db_path)
    assert str(db_path) in str(caught.value)


def test_reopening_the_file_keeps_every_committed_lead_and_record(db_path: Path) -> None:
    lead = busy_lead()
    opportunity = Opportunity(
        id=OpportunityId("opp-1"),
        name="Deal",
        customer=AccountId("acc-1"),
        currency="SEK",
        originating_lead=lead.id,
    )
    with SqlStore.open(path=db_path) as store, store.unit_of_work() as uow:
        uow.leads.add(lead)
        uow.opportunities.add(opportunity)
        uow.commit()
        uow.leads.add(new_lead(2))  # never committed
    with (
        SqlStore.open(path=db_path, create=False, migrate=True) as store,
        store.unit_of_work() as uow,
    ):
        assert uow.leads.get(lead.id) == attrs.evolve(lead, version=1)
        assert uow.opportunities.get(opportunity.id) == attrs.evolve(opportunity, version=1)
        assert uow.opportunities.get(opportunity.id).customer == AccountId("acc-1")
        with pytest.raises(NotFound):
            uow.leads.get(LeadId("lead-0002"))


# ---------------------------------------------------------------------------------------------
# Child tables


def test_child_tables_hold_the_notes_attachments_activities_and_stakeholders(
    store: SqlStore, db_path: Path
) -> None:
    store_all(store, busy_lead())
    notes = raw(
        db_path,
        "SELECT note_id, title, text, attachment_file_name, attachment_size, attachment_sha256"
        " FROM lead_notes WHERE lead_id = 'lead-0001' ORDER BY position",
    )
    assert notes == [
        (1, "Call", "First call", None, None, None),
        (2, "Offer", "", "offer.pdf", 1234, "ab" * 32),
    ]
    activities = raw(
        db_path,
        "SELECT activity_id, kind, subject, due_at FROM lead_activities ORDER BY position",
    )
    assert activities == [
        (3, "phonecall", "Follow up", utc_text(T0)),
        (4, "appointment", "Visit", None),
    ]
    stakeholders = raw(db_path, "SELECT contact_id, role FROM lead_stakeholders ORDER BY position")
    assert stakeholders == [("con-1", "Decision Maker"), ("con-2", "Stakeholder")]


def test_saving_rewrites_the_child_rows(store: SqlStore, db_path: Path) -> None:
    (stored,) = store_all(store, busy_lead())
    changed = stored.remove_note(1, at=T0, by=ANN).remove_stakeholder(
        ContactId("con-2"), at=T0, by=ANN
    )
    with store.unit_of_work() as uow:
        uow.leads.save(changed)
        uow.commit()
    assert child_counts(db_path, "lead-0001") == {
        "lead_notes": 1,
        "lead_activities": 2,
        "lead_stakeholders": 1,
    }
    assert raw(db_path, "SELECT note_id FROM lead_notes") == [(2,)]


def test_deleting_a_lead_removes_its_child_rows_by_cascade(store: SqlStore, db_path: Path) -> None:
    other = new_lead(2).add_note("Keep me", at=T0, by=ANN)
    store_all(store, busy_lead(), other)
    assert child_counts(db_path, "lead-0001") == {
        "lead_notes": 2,
        "lead_activities": 2,
        "lead_stakeholders": 2,
    }
    with store.unit_of_work() as uow:
        uow.leads.delete(LeadId("lead-0001"))
        uow.commit()
    assert child_counts(db_path, "lead-0001") == dict.fromkeys(
        ("lead_notes", "lead_activities", "lead_stakeholders"), 0
    )
    assert child_counts(db_path, "lead-0002")["lead_notes"] == 1


def test_the_foreign_keys_cascade_in_the_database_itself(store: SqlStore, db_path: Path) -> None:
    store_all(store, busy_lead())
    with closing(sqlite3.connect(db_path)) as db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("DELETE FROM leads WHERE id = 'lead-0001'")
        db.commit()
    assert child_counts(db_path, "lead-0001") == dict.fromkeys(
        ("lead_notes", "lead_activities", "lead_stakeholders"), 0
    )


# ---------------------------------------------------------------------------------------------
# Corrupt, foreign, missing and locked files


def test_a_corrupt_file_is_refused_with_its_path_and_left_alone(db_path: Path) -> None:
    garbage = bytes(range(256)) * 64
    db_path.write_bytes(garbage)
    with pytest.raises(StorageUnavailable) as caught:
        SqlStore.open(path=db_path)
    assert str(db_path) in str(caught.value)
    assert caught.value.__cause__ is not None
    assert db_path.read_bytes() == garbage


def test_a_file_of_random_bytes_is_refused_even_with_a_sqlite_header(db_path: Path) -> None:
    db_path.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    with pytest.raises(StorageUnavailable) as caught:
        SqlStore.open(path=db_path)
    assert str(db_path) in str(caught.value)


def test_a_foreign_sqlite_file_with_a_leads_table_is_refused_and_left_alone(db_path: Path) -> None:
    with closing(sqlite3.connect(db_path)) as db:
        db.execute("CREATE TABLE leads (name TEXT, phone TEXT)")
        db.execute("INSERT INTO leads VALUES ('Ada', '123')")
        db.commit()
        before = list(db.iterdump())
    with pytest.raises(StorageUnavailable, match="not a leadkit database") as caught:
        SqlStore.open(path=db_path)
    assert str(db_path) in str(caught.value)
    with closing(sqlite3.connect(db_path)) as db:
        assert list(db.iterdump()) == before
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_a_file_of_another_application_is_refused(db_path: Path) -> None:
    with closing(sqlite3.connect(db_path)) as db:
        db.execute("PRAGMA application_id = 1234")
        db.commit()
    with pytest.raises(StorageUnavailable, match="1234"):
        SqlStore.open(path=db_path)


def test_a_missing_file_is_not_created_without_create(db_path: Path) -> None:
    with pytest.raises(StorageUnavailable, match="does not exist") as caught:
        SqlStore.open(path=db_path, create=False)
    assert str(db_path) in str(caught.value)
    assert not db_path.exists()


def test_an_empty_file_without_create_is_refused(db_path: Path) -> None:
    db_path.touch()
    with pytest.raises(StorageUnavailable, match="no leadkit schema"):
        SqlStore.open(path=db_path, create=False)


def test_a_directory_that_does_not_exist_gives_storage_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "leads.db"
    with pytest.raises(StorageUnavailable) as caught:
        SqlStore.open(path=path)
    assert str(path) in str(caught.value)


def test_a_writer_gives_up_after_the_busy_timeout(db_path: Path) -> None:
    with SqlStore.open(path=db_path, busy_timeout=0.2) as store:
        store_all(store, new_lead(1))
        with closing(sqlite3.connect(db_path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")
            with store.unit_of_work() as uow:
                assert uow.leads.get(LeadId("lead-0001")).version == 1  # readers still read
                with pytest.raises(StorageUnavailable, match="locked") as caught:
                    uow.leads.add(new_lead(2))
            assert str(db_path) in str(caught.value)
            other.execute("ROLLBACK")
        store_all(store, new_lead(2))


def test_text_no_database_can_hold_is_invalid_value(store: SqlStore) -> None:
    lead = new_lead(1).update(LeadPatch(description="half a pair: \ud800"), at=T0, by=ANN)
    with store.unit_of_work() as uow, pytest.raises(InvalidValue, match="surrogate"):
        uow.leads.add(lead)


def test_an_unreadable_document_gives_storage_unavailable(store: SqlStore, db_path: Path) -> None:
    store_all(store, new_lead(1))
    with closing(sqlite3.connect(db_path)) as db:
        db.execute('UPDATE leads SET document = \'{"schema": 1, "kind": "Lead"}\'')
        db.commit()
    with store.unit_of_work() as uow, pytest.raises(StorageUnavailable, match="lead-0001"):
        uow.leads.get(LeadId("lead-0001"))


# ---------------------------------------------------------------------------------------------
# Opening


def test_a_store_opens_by_sqlalchemy_url_too(db_path: Path) -> None:
    with SqlStore.open(f"sqlite:///{db_path}") as store:
        store_all(store, new_lead(1))
        assert store.path == db_path
    with SqlStore.open(path=db_path) as store, store.unit_of_work() as uow:
        assert uow.leads.get(LeadId("lead-0001")).version == 1


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_sqlite_database_is_refused(url: str) -> None:
    with pytest.raises(InvalidValue, match="in-memory"):
        SqlStore.open(url)


def test_open_needs_exactly_one_of_url_and_path(db_path: Path) -> None:
    with pytest.raises(InvalidValue):
        SqlStore.open()
    with pytest.raises(InvalidValue):
        SqlStore.open(f"sqlite:///{db_path}", path=db_path)
    with pytest.raises(InvalidValue):
        SqlStore.open("not a url")


def test_a_closed_store_says_so(store: SqlStore) -> None:
    store.close()
    assert store.closed
    assert "closed" in repr(store)
    with pytest.raises(StorageUnavailable, match="closed"):
        store.unit_of_work()


# ---------------------------------------------------------------------------------------------
# Transactions


def test_a_read_only_unit_of_work_sees_one_snapshot_and_does_not_block_writers(
    store: SqlStore,
) -> None:
    store_all(store, new_lead(1))
    with store.unit_of_work() as reader:
        assert reader.leads.count(LeadQuery()) == 1
        store_all(store, new_lead(2))  # another unit of work commits meanwhile
        assert reader.leads.count(LeadQuery()) == 1  # same snapshot
    with store.unit_of_work() as later:
        assert later.leads.count(LeadQuery()) == 2


def test_a_write_after_reads_checks_the_version_read(store: SqlStore) -> None:
    (stored,) = store_all(store, new_lead(1))
    with store.unit_of_work() as uow:
        mine = uow.leads.get(stored.id)  # read snapshot
        with store.unit_of_work() as other:
            other.leads.save(mine.update(LeadPatch(description="theirs"), at=T0, by=BO))
            other.commit()
        with pytest.raises(ConcurrencyConflict) as caught:
            uow.leads.save(mine.update(LeadPatch(description="mine"), at=T0, by=ANN))
        assert (caught.value.expected_version, caught.value.actual_version) == (1, 2)


def test_events_are_delivered_after_commit(db_path: Path) -> None:
    delivered: list[LeadEvent] = []

    def sink(events: Sequence[LeadEvent]) -> None:
        delivered.extend(events)

    with SqlStore.open(path=db_path, event_sink=sink) as store:
        lead = new_lead(1)
        with store.unit_of_work() as uow:
            uow.leads.add(lead)
            assert delivered == []
            uow.commit()
        assert delivered == list(lead.pending_events)


# ---------------------------------------------------------------------------------------------
# Queries


def test_my_open_leads_reads_the_owner_state_created_index(store: SqlStore, db_path: Path) -> None:
    page = page_statement(Views.my_open_leads("ann"), 51, ("2024-01-01T00:00:00.000000", "x"))
    sql = str(page.compile(store._engine, compile_kwargs={"literal_binds": True}))
    plan = " ".join(str(row) for row in raw(db_path, f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_leads_owner_state_created" in plan
    assert "TEMP B-TREE" not in plan


def test_closed_leads_merge_one_index_range_per_state(store: SqlStore, db_path: Path) -> None:
    sql = str(
        page_statement(Views.closed_leads(), 51).compile(
            store._engine, compile_kwargs={"literal_binds": True}
        )
    )
    plan = " ".join(str(row) for row in raw(db_path, f"EXPLAIN QUERY PLAN {sql}"))
    assert plan.count("ix_leads_state_modified") == 2
    assert "SCAN leads" not in plan


def test_a_score_page_reads_the_score_index(store: SqlStore, db_path: Path) -> None:
    for query, after in [
        (LeadQuery(sort=LeadSort.SCORE), None),
        (LeadQuery(sort=LeadSort.SCORE, descending=True), ("P10115", "x")),
        (LeadQuery(score_min=50, score_max=Decimal("99.5"), sort=LeadSort.SCORE), None),
    ]:
        page = page_statement(query, 51, after)
        sql = str(page.compile(store._engine, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(row) for row in raw(db_path, f"EXPLAIN QUERY PLAN {sql}"))
        assert "ix_leads_score" in plan
        assert "SCAN leads" not in plan


def test_the_score_column_holds_the_sort_key_text(store: SqlStore, db_path: Path) -> None:
    leads_ = [scored(new_lead(1), "85.0"), new_lead(2), scored(new_lead(3), "7.25")]
    store_all(store, *leads_)
    assert raw(db_path, "SELECT score_key FROM leads ORDER BY id") == [
        (sort_key(leads_[0], LeadSort.SCORE)[0],),
        (None,),
        (sort_key(leads_[2], LeadSort.SCORE)[0],),
    ]
    assert raw(db_path, "SELECT score_key FROM leads WHERE id = 'lead-0001'") == [
        (score_sort_value(Decimal(85)),)
    ]


def test_a_nan_score_cannot_be_stored(store: SqlStore) -> None:
    lead = attrs.evolve(new_lead(1), score=Decimal("NaN"))
    with store.unit_of_work() as uow, pytest.raises(InvalidValue, match="NaN"):
        uow.leads.add(lead)


def test_the_timestamp_columns_hold_the_sort_key_text(store: SqlStore, db_path: Path) -> None:
    lead = new_lead(1, at=datetime(2024, 3, 1, 11, 30, 0, 5, tzinfo=UTC))
    store_all(store, lead)
    assert raw(db_path, "SELECT created_at FROM leads") == [
        (sort_key(lead, LeadSort.CREATED_AT)[0],)
    ]
    assert utc_text(lead.created_at) == sort_key(lead, LeadSort.CREATED_AT)[0]


def test_stream_reads_in_batches_and_sees_the_units_own_writes(store: SqlStore) -> None:
    store_all(store, *(new_lead(n) for n in range(25)))
    with store.unit_of_work() as uow:
        seen = []
        for lead in uow.leads.stream(batch_size=4):
            seen.append(lead.id.value)
            if lead.id.value == "lead-0010":
                uow.leads.delete(LeadId("lead-0020"))
                uow.leads.add(new_lead(99))
        assert len(seen) == 25  # 25 - 1 deleted ahead + 1 added at the end
        assert "lead-0020" not in seen
        assert seen[-1] == "lead-0099"


_OWNERS = [ANN, BO, UserRef("cy")]
_WORDS = ["Åsa", "åsa", "ASA", "Straße", "strasse", "100% Solar", "a_b", "Lind", "lind", "Öberg"]
_EMAILS = ["ada@contoso.com", "bo_ek@fabrikam.example", "ASA@lind.se"]
_NEEDLES = ["åsa", "ASA", "strasse", "STRASSE", "%", "_", "0%", "lind", "ö", "ss", "a", "@"]
_PLUS_TWO = timezone(timedelta(hours=2))
_SCORES = ["0", "0.5", "9.5", "42.5", "42.50", "85", "100"]


@st.composite
def _query_leads(draw: st.DrawFn, key: int) -> Lead:
    """Small leads with ties in every sort, case and Unicode variants, and every state."""
    owner = draw(st.sampled_from(_OWNERS))
    at = T0 + timedelta(minutes=draw(st.integers(0, 4)))
    if draw(st.booleans()):
        at = at.astimezone(_PLUS_TWO)
    patch = LeadPatch(
        topic=draw(st.sampled_from(_WORDS)),
        name=PersonName(
            first=draw(st.sampled_from(["", *_WORDS])), last=draw(st.sampled_from(_WORDS))
        ),
        company=draw(st.sampled_from(["", *_WORDS])),
        email=draw(st.none() | st.sampled_from(_EMAILS)),
        rating=draw(st.none() | st.sampled_from(Rating)),
        source=draw(st.none() | st.sampled_from([LeadSource.WEB, LeadSource.PARTNER])),
    )
    lead = Lead.create(LeadId(f"q{key:02}"), patch, at=at, by=owner, owner=owner)
    lead = scored(lead, draw(st.none() | st.sampled_from(_SCORES)))
    later = at + timedelta(minutes=draw(st.integers(0, 4)))
    match draw(st.integers(0, 4)):
        case 1:
            lead = lead.mark_contacted(at=later, by=owner)
        case 2:
            reason = draw(st.sampled_from([StatusReason.LOST, StatusReason.CANCELED]))
            lead = lead.disqualify(reason, at=later, by=owner)
        case 3:
            lead = lead.mark_qualified(at=later, by=owner)
        case 4:
            lead = lead.disqualify(StatusReason.LOST, at=at, by=owner)
            lead = lead.reactivate(at=later, by=owner)
    return lead


@st.composite
def _queries(draw: st.DrawFn) -> LeadQuery:
    stamps = [T0 + timedelta(minutes=n) for n in range(10)]
    low = draw(st.none() | st.sampled_from(stamps))
    high = draw(st.none() | st.sampled_from([t for t in stamps if low is None or t >= low]))
    bounds = [Decimal(value) for value in ["0", "0.49", "9.5", "42.5", "99.99", "100"]]
    score_min = draw(st.none() | st.sampled_from(bounds))
    score_max = draw(
        st.none() | st.sampled_from([b for b in bounds if score_min is None or b >= score_min])
    )
    return LeadQuery(
        states=draw(st.none() | st.frozensets(st.sampled_from(LeadState))),
        reason_codes=draw(st.none() | st.frozensets(st.integers(1, 7), max_size=3)),
        owner_id=draw(st.none() | st.sampled_from([u.id for u in _OWNERS])),
        ratings=draw(st.none() | st.frozensets(st.sampled_from(Rating))),
        sources=draw(st.none() | st.frozensets(st.sampled_from(list(LeadSource)), max_size=2)),
        created_from=low,
        created_to=high,
        modified_from=draw(st.none() | st.sampled_from(stamps[:5])),
        modified_to=draw(st.none() | st.sampled_from(stamps[5:])),
        text=draw(st.none() | st.sampled_from(_NEEDLES)),
        score_min=score_min,
        score_max=score_max,
        sort=draw(st.sampled_from(LeadSort)),
        descending=draw(st.booleans()),
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_query_count_and_stream_agree_with_lead_query_matches(
    tmp_path_factory: pytest.TempPathFactory, empty_database: Path, data: st.DataObject
) -> None:
    size = data.draw(st.integers(0, 12), label="size")
    population = [data.draw(_query_leads(n), label=f"lead {n}") for n in range(size)]
    queries = data.draw(st.lists(_queries(), min_size=1, max_size=5), label="queries")
    limit = data.draw(st.integers(1, 4), label="limit")
    path = tmp_path_factory.mktemp("query") / "leads.db"
    shutil.copyfile(empty_database, path)
    with SqlStore.open(path=path, create=False) as store:
        stored = store_all(store, *population)
        with store.unit_of_work() as uow:
            for query in queries:
                expected = sorted(
                    (lead for lead in stored if query.matches(lead)),
                    key=lambda lead: sort_key(lead, query.sort, descending=query.descending),
                    reverse=query.descending,
                )
                assert paged_leads(uow.leads, query, limit) == expected
                assert uow.leads.count(query) == len(expected)
                assert list(uow.leads.stream(query, batch_size=limit)) == expected


def test_disqualified_and_reactivated_leads_move_between_the_views(store: SqlStore) -> None:
    (stored,) = store_all(store, new_lead(1, owner=BO))
    lost = stored.disqualify(StatusReason.LOST, at=T0 + timedelta(days=1), by=BO)
    with store.unit_of_work() as uow:
        lost = uow.leads.save(lost)
        assert uow.leads.count(Views.closed_leads()) == 1
        assert uow.leads.count(Views.my_open_leads(BO)) == 0
        uow.leads.save(lost.reactivate(at=T0 + timedelta(days=2), by=BO))
        assert [lead.id for lead in uow.leads.query(Views.my_open_leads(BO)).items] == [stored.id]
        uow.commit()


# ---------------------------------------------------------------------------------------------
# PostgreSQL: no server here (a later issue runs the suite against one); check that everything
# the adapter sends compiles for it, with code-point collation on the sorted text.


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_the_schema_statements_and_queries_compile_for_postgresql(driver: str) -> None:
    dialect = make_url(f"postgresql+{driver}://").get_dialect()()
    ddl = {
        table.name: str(CreateTable(table).compile(dialect=dialect))
        for table in metadata.sorted_tables
    }
    assert 'created_at VARCHAR(32) COLLATE "C"' in ddl["leads"]
    assert "ON DELETE CASCADE" in ddl["lead_notes"]
    assert 'score_key TEXT COLLATE "C"' in ddl["leads"]
    for index in (*INDEXES, *SCORE_INDEXES):
        assert str(CreateIndex(index).compile(dialect=dialect)).startswith("CREATE INDEX")
    _Statements(dialect)  # every fixed statement of the hot paths
    everything = LeadQuery(
        states={LeadState.OPEN, LeadState.QUALIFIED},
        reason_codes={1, 2},
        owner_id="ann",
        ratings={Rating.HOT},
        sources={LeadSource.WEB},
        created_from=T0,
        created_to=T0 + timedelta(days=1),
        modified_from=T0,
        text="100%_",
        score_min=Decimal("42.5"),
        score_max=100,
        sort=LeadSort.COMPANY,
        descending=True,
    )
    by_score = LeadQuery(states={LeadState.OPEN, LeadState.QUALIFIED}, sort=LeadSort.SCORE)
    for query in (
        everything,
        attrs.evolve(everything, sort=LeadSort.SCORE),
        by_score,
        attrs.evolve(by_score, descending=True),
        Views.my_open_leads("ann"),
        Views.closed_leads(),
        LeadQuery(),
    ):
        for after in (None, ("x", "y")):
            sql = str(page_statement(query, 51, after).compile(dialect=dialect))
            assert "sqlite" not in sql.lower()
        str(count_statement(query).compile(dialect=dialect))
