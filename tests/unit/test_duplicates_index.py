"""Specification of the blocking index and the key stores (leadkit.duplicates.index and
leadkit.adapters.sql.duplicate_keys).

``KeyStoreContract`` holds the promises of the DuplicateKeyStore protocol; the memory store
and the SQL store (on a SQLite file) both run it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import create_engine, inspect

from leadkit.adapters.sql.duplicate_keys import SqlKeyStore
from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    Blocking,
    Condition,
    DuplicateIndex,
    DuplicateKeyStore,
    DuplicateRecord,
    DuplicateRule,
    DuplicateRuleSet,
    Matchable,
    MemoryKeyStore,
    RecordRef,
    RecordType,
    Similarity,
    StopKey,
)
from leadkit.errors import ConfigurationError, InvalidValue, StorageUnavailable

LEAD, CONTACT = RecordType.LEAD, RecordType.CONTACT


def ref(record_id: str, kind: RecordType = LEAD) -> RecordRef:
    return RecordRef(kind, record_id)


def rec(record_id: str, kind: RecordType = LEAD, **fields: object) -> DuplicateRecord:
    return DuplicateRecord(record_type=kind, record_id=record_id, **fields)  # type: ignore[arg-type]


class KeyStoreContract:
    """The DuplicateKeyStore promises; subclasses provide ``make_store``."""

    @pytest.fixture
    def store(self, make_store: Callable[[], DuplicateKeyStore]) -> DuplicateKeyStore:
        return make_store()

    def test_put_then_read_back(self, store: DuplicateKeyStore) -> None:
        store.put(ref("1"), {"a", "b"})
        store.put(ref("2"), {"b"})
        assert store.keys_of(ref("1")) == {"a", "b"}
        assert store.keys_of(ref("3")) == frozenset()
        assert dict(store.counts({"a", "b", "c"})) == {"a": 1, "b": 2}
        refs = store.refs({"b", "c"})
        assert sorted(refs["b"]) == [ref("1"), ref("2")]
        assert "c" not in refs
        assert store.record_count() == 2
        assert store.key_count() == 2

    def test_put_replaces_the_keys_of_a_record(self, store: DuplicateKeyStore) -> None:
        store.put(ref("1"), {"a", "b"})
        store.put(ref("1"), {"b", "c"})
        assert store.keys_of(ref("1")) == {"b", "c"}
        assert dict(store.counts({"a", "b", "c"})) == {"b": 1, "c": 1}
        store.put(ref("1"), set())
        assert store.record_count() == 0
        assert store.key_count() == 0

    def test_records_of_different_types_are_apart(self, store: DuplicateKeyStore) -> None:
        store.put(ref("1", LEAD), {"k"})
        store.put(ref("1", CONTACT), {"k"})
        assert sorted(store.refs({"k"})["k"]) == [ref("1", CONTACT), ref("1", LEAD)]
        assert store.remove(ref("1", LEAD))
        assert list(store.refs({"k"})["k"]) == [ref("1", CONTACT)]

    def test_remove_forgets_a_record_once(self, store: DuplicateKeyStore) -> None:
        store.put(ref("1"), {"a"})
        assert store.remove(ref("1"))
        assert not store.remove(ref("1"))
        assert store.counts({"a"}) == {}

    def test_put_many_and_clear(self, store: DuplicateKeyStore) -> None:
        store.put_many([(ref(str(i)), {f"k{i % 3}", "all"}) for i in range(10)])
        assert store.record_count() == 10
        assert dict(store.counts({"all", "k0"})) == {"all": 10, "k0": 4}
        store.put_many([(ref("0"), {"other"})])
        assert store.keys_of(ref("0")) == {"other"}
        store.clear()
        assert store.record_count() == 0

    def test_stop_keys_are_those_held_by_more_than_the_limit(
        self, store: DuplicateKeyStore
    ) -> None:
        store.put_many([(ref(str(i)), {"big", f"own{i}"}) for i in range(5)])
        assert store.stop_keys(4) == [("big", 5)]
        assert store.stop_keys(5) == []

    def test_many_keys_are_counted_in_one_call(self, store: DuplicateKeyStore) -> None:
        keys = {f"key{i}" for i in range(1500)}
        store.put(ref("1"), keys)
        assert len(store.counts(keys | {"absent"})) == 1500
        assert len(store.refs(keys)) == 1500


class TestMemoryKeyStore(KeyStoreContract):
    @pytest.fixture
    def make_store(self) -> Callable[[], DuplicateKeyStore]:
        return MemoryKeyStore


# --------------------------------------------------------------------------------------------
# The index
# --------------------------------------------------------------------------------------------

EMAIL_RULES = DuplicateRuleSet(
    name="e-mail",
    rules=[
        DuplicateRule(
            name="same-email",
            base_type=LEAD,
            matching_type=LEAD,
            conditions=[Condition.exact("email")],
        )
    ],
)


def test_an_index_holds_the_keys_of_the_records_rules_may_match() -> None:
    index = DuplicateIndex(DEFAULT_LEAD_RULES)
    assert index.add(rec("1", email="Anna@Acme.se", company="Acme AB", full_name="Anna Berg"))
    keys = index.keys_of(ref("1"))
    assert "lead|email|personal_email|=|anna@acme.se" in keys
    assert "lead|company|company|=|acme" in keys
    assert any(k.startswith("lead|full_name|person_name_nicknames|sim|") for k in keys)
    assert ref("1") in index
    assert len(index) == 1


def test_a_record_without_keys_is_not_indexed() -> None:
    index = DuplicateIndex(EMAIL_RULES)
    assert not index.add(rec("1"))
    assert not index.add(rec("2", CONTACT, email="x@y.se"))  # no rule matches contacts
    assert len(index) == 0
    assert ref("1") not in index
    assert "lead:1" not in index


def test_update_moves_a_record_to_its_new_keys() -> None:
    index = DuplicateIndex(EMAIL_RULES)
    index.add(rec("1", email="old@x.se"))
    index.update(rec("1", email="new@x.se"))
    assert index.keys_of(ref("1")) == {"lead|email|email|=|new@x.se"}
    assert index.find(rec("2", email="old@x.se")) == []
    assert [m.candidate for m in index.find(rec("2", email="new@x.se"))] == [ref("1")]
    index.update(rec("1"))
    assert ref("1") not in index


def test_remove_accepts_a_record_a_ref_or_an_id() -> None:
    index = DuplicateIndex(EMAIL_RULES)
    index.rebuild([rec("1", email="a@x.se"), rec("2", email="b@x.se"), rec("3", email="c@x.se")])
    assert index.remove(ref("1"))
    assert index.remove(rec("2"))
    assert not index.remove(ref("2"))
    assert len(index) == 1


def test_rebuild_replaces_everything_and_reports() -> None:
    index = DuplicateIndex(EMAIL_RULES)
    index.add(rec("old", email="a@x.se"))
    stats = index.rebuild(rec(str(i), email=f"{i}@x.se") for i in range(4))
    assert (stats.records, stats.keys, stats.stop_keys) == (4, 4, ())
    assert ref("old") not in index


def test_rebuild_refuses_a_record_twice() -> None:
    index = DuplicateIndex(EMAIL_RULES)
    with pytest.raises(InvalidValue, match="appears twice"):
        index.rebuild([rec("1", email="a@x.se"), rec("1", email="b@x.se")])


def test_a_key_shared_by_too_many_records_is_a_reported_stop_key() -> None:
    rules = DuplicateRuleSet(
        name="company",
        rules=[
            DuplicateRule(
                name="same-company",
                base_type=LEAD,
                matching_type=LEAD,
                conditions=[Condition.exact("company")],
            )
        ],
    )
    index = DuplicateIndex(rules, max_block_size=3)
    index.rebuild(rec(str(i), company="Ikea AB") for i in range(4))
    index.add(rec("x", company="Tiny AB"))
    index.add(rec("y", company="Tiny"))
    assert index.stats().stop_keys == (StopKey("lead|company|company|=|ikea", 4),)
    assert index.find(rec("new", company="IKEA")) == []  # skipped: says nothing
    assert [m.candidate.record_id for m in index.find(rec("new", company="tiny ab"))] == ["x", "y"]
    index.remove(ref("0"))  # back under the limit: the key works again
    assert index.stats().stop_keys == ()
    assert len(index.find(rec("new", company="IKEA"))) == 3


def test_a_rule_falls_back_to_another_condition_when_one_is_a_stop_key() -> None:
    name = Condition.similar(
        "full_name", 90, Similarity.PERSON_NAME, blocking=Blocking.phonetic_tokens()
    )
    rules = DuplicateRuleSet(
        name="s",
        rules=[
            DuplicateRule(
                name="name-company",
                base_type=LEAD,
                matching_type=LEAD,
                conditions=[name, Condition.exact("company")],
            )
        ],
    )
    index = DuplicateIndex(rules, max_block_size=5)
    index.rebuild(rec(str(i), company="Ikea", full_name=f"Person{i} Nummer{i}") for i in range(10))
    index.add(rec("anna", company="Ikea", full_name="Anna Berg"))
    found = index.find(rec("new", company="IKEA AB", full_name="Ana Berg"))
    assert [m.candidate.record_id for m in found] == ["anna"]


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="max_block_size"):
        DuplicateIndex(EMAIL_RULES, max_block_size=0)
    store = MemoryKeyStore()
    store.put(ref("1"), {"k"})
    with pytest.raises(ConfigurationError, match="pass a loader"):
        DuplicateIndex(EMAIL_RULES, store=store)


def test_an_index_with_a_loader_reads_candidates_through_it() -> None:
    stored = {r.ref: r for r in [rec("1", email="a@x.se"), rec("2", email="b@x.se")]}
    asked: list[Sequence[RecordRef]] = []

    def load(refs: Sequence[RecordRef]) -> list[Matchable]:
        asked.append(refs)
        return [stored[r] for r in refs if r in stored]

    store = MemoryKeyStore()
    index = DuplicateIndex(EMAIL_RULES, store=store, loader=load)
    index.rebuild(stored.values())
    assert [m.candidate for m in index.find(rec("9", email="A@x.se"))] == [ref("1")]
    assert asked == [[ref("1")]]
    del stored[ref("2")]  # deleted since it was indexed: skipped
    assert index.find(rec("9", email="b@x.se")) == []
    # A second index over the same (persistent) store needs no rebuild.
    again = DuplicateIndex(EMAIL_RULES, store=store, loader=load)
    assert [m.candidate for m in again.find(rec("9", email="a@x.se"))] == [ref("1")]


def test_find_rejects_a_bad_limit() -> None:
    index = DuplicateIndex(EMAIL_RULES)
    index.add(rec("1", email="a@x.se"))
    with pytest.raises(InvalidValue, match="limit"):
        index.find(rec("2", email="a@x.se"), limit=0)


# --------------------------------------------------------------------------------------------
# The SQL key store
# --------------------------------------------------------------------------------------------


class TestSqlKeyStore(KeyStoreContract):
    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Iterator[Callable[[], DuplicateKeyStore]]:
        engines = []

        def make() -> DuplicateKeyStore:
            engine = create_engine(f"sqlite+pysqlite:///{tmp_path / uuid4().hex}.db")
            engines.append(engine)
            return SqlKeyStore(engine)

        yield make
        for engine in engines:
            engine.dispose()


def test_the_table_has_its_primary_key_and_indexes(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+pysqlite:///{tmp_path / 'keys.db'}")
    SqlKeyStore(engine)
    inspector = inspect(engine)
    assert inspector.get_pk_constraint("duplicate_keys")["constrained_columns"] == [
        "key",
        "record_type",
        "record_id",
    ]
    indexed = {tuple(i["column_names"]) for i in inspector.get_indexes("duplicate_keys")}
    # Lookups by key read the primary key's index: no second index on ``key`` to write.
    assert indexed == {("record_type", "record_id")}
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT key, record_type, record_id FROM duplicate_keys "
            "WHERE key IN ('a', 'b')"
        ).all()
    assert "sqlite_autoindex_duplicate_keys_1" in " ".join(str(row) for row in plan)
    assert inspector.get_pk_constraint("duplicate_values")["constrained_columns"] == [
        "record_type",
        "record_id",
    ]
    engine.dispose()


def _records() -> list[DuplicateRecord]:
    return [
        DuplicateRecord(
            record_type=LEAD,
            record_id=f"L{i}",
            full_name=name,
            email=email,
            company="Acme AB",
        )
        for i, (name, email) in enumerate(
            [
                ("Anna Berg", "anna@acme.se"),
                ("Ana Berg", "a.berg@acme.se"),
                ("Erik Lind", "erik@acme.se"),
                ("Erik Lind", "ERIK@acme.se"),
            ]
        )
    ]


def test_an_index_over_sql_keys_finds_what_the_memory_index_finds(tmp_path: Path) -> None:
    records = _records()
    by_ref = {r.ref: r for r in records}

    def load(refs: Sequence[RecordRef]) -> list[Matchable]:
        return [by_ref[r] for r in refs if r in by_ref]

    url = f"sqlite+pysqlite:///{tmp_path / 'keys.db'}"
    sql = DuplicateIndex(DEFAULT_LEAD_RULES, store=SqlKeyStore.open(url), loader=load)
    stats = sql.rebuild(records)
    memory = DuplicateIndex(DEFAULT_LEAD_RULES)
    assert memory.rebuild(records) == stats
    for record in records:
        assert sql.find(record) == memory.find(record)
    assert [m.candidate.record_id for m in sql.find(records[0])] == ["L1"]

    # The keys survive the process: a new index over the same file needs no rebuild.
    reopened = DuplicateIndex(DEFAULT_LEAD_RULES, store=SqlKeyStore.open(url), loader=load)
    assert len(reopened) == 4
    assert reopened.find(records[2]) == memory.find(records[2])
    reopened.remove(records[3])
    assert reopened.find(records[2]) == []


def test_driver_errors_become_storage_unavailable(tmp_path: Path) -> None:
    broken = tmp_path / "not-a-db.db"
    broken.write_bytes(b"this is not a database file at all" * 100)
    with pytest.raises(StorageUnavailable, match="duplicate keys") as caught:
        SqlKeyStore.open(f"sqlite+pysqlite:///{broken}")
    assert caught.value.__cause__ is not None


def test_a_store_without_its_table_fails_cleanly(tmp_path: Path) -> None:
    store = SqlKeyStore.open(f"sqlite+pysqlite:///{tmp_path / 'empty.db'}", create=False)
    with pytest.raises(StorageUnavailable):
        store.record_count()
    with pytest.raises(StorageUnavailable):
        store.put(RecordRef(LEAD, "1"), {"k"})


def test_a_bad_url_is_storage_unavailable() -> None:
    with pytest.raises(StorageUnavailable):
        SqlKeyStore.open("nosuchdialect://x")
