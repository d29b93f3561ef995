"""The normalised values the SQL key store keeps with the keys (``duplicate_values``): written
with the keys by the index, forgotten with them (and by keys written alone), read inside a
unit of work by the keyed import check instead of the leads, and erased with the person."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import attrs
import pytest
from sqlalchemy import func, select

from leadkit.adapters.sql import SqlStore
from leadkit.adapters.sql.duplicate_keys import (
    SqlKeyStore,
    SqlKeyTransaction,
    duplicate_values,
)
from leadkit.desk import Desk
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicates import DEFAULT_LEAD_RULES, DuplicateIndex
from leadkit.duplicates.compiled import Prepared
from leadkit.duplicates.record_view import RecordRef, RecordType, duplicate_record
from leadkit.io import ImportPolicy, RowAction, SkipReason, plan_import
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.privacy import erase
from leadkit.values import EmailAddress, LeadId, PersonName, UserRef

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BY = UserRef("importer")
ANNA = RecordRef(RecordType.LEAD, "S-1")


@pytest.fixture
def sql(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore.open(path=tmp_path / "leads.db")
    yield store
    store.close()


def _lead(lead_id: str = "S-1", last: str = "Öberg", company: str = "Nordic Trä AB") -> Lead:
    patch = LeadPatch(
        topic="Stored",
        name=PersonName(first="Åsa", last=last),
        company=company,
        email=EmailAddress(f"asa.{lead_id.lower()}@nordic.se"),
    )
    return Lead.create(LeadId(lead_id), patch, at=AT, by=BY)


def _prepared(lead: Lead) -> Prepared:
    return DuplicateIndex(DEFAULT_LEAD_RULES).compiled.prepare(duplicate_record(lead))


def _read(store: SqlStore, refs: list[RecordRef]) -> dict[RecordRef, Prepared]:
    width = len(DuplicateIndex(DEFAULT_LEAD_RULES).compiled.readers)
    keys = SqlKeyStore(store.engine)
    with store.unit_of_work() as uow:
        attached = keys.attach(uow)
        assert isinstance(attached, SqlKeyTransaction)
        return attached.prepared_values(refs, width)


def _store(store: SqlStore, *leads: Lead) -> None:
    with store.unit_of_work() as uow:
        for lead in leads:
            uow.leads.add(lead)
        uow.commit()


def _rows(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(duplicate_values)).scalar_one())


def test_values_written_with_keys_are_read_back_as_prepared(sql: SqlStore) -> None:
    lead = _lead()
    _store(sql, lead)
    prepared = _prepared(lead)
    SqlKeyStore(sql.engine).put_prepared([(ANNA, frozenset({"k1", "k2"}), prepared)])
    assert _read(sql, [ANNA, RecordRef(RecordType.LEAD, "S-9")]) == {ANNA: prepared}


def test_values_are_used_only_while_the_lead_row_has_the_version_they_were_written_at(
    sql: SqlStore,
) -> None:
    lead = _lead()
    keys = SqlKeyStore(sql.engine)
    keys.put_prepared([(ANNA, frozenset({"k1"}), _prepared(lead))])
    assert _read(sql, [ANNA]) == {}  # no lead row when they were written: read the lead
    _store(sql, lead)
    keys.put_prepared([(ANNA, frozenset({"k1"}), _prepared(lead))])
    assert _read(sql, [ANNA]) == {ANNA: _prepared(lead)}
    with sql.unit_of_work() as uow:  # changed around the check: its values are old
        uow.leads.save(attrs.evolve(uow.leads.get(lead.id), company="Baltic Data"))
        uow.commit()
    assert _read(sql, [ANNA]) == {}


def test_a_lead_deleted_or_changed_around_the_check_is_compared_as_it_is_now(
    sql: SqlStore,
) -> None:
    check = EngineDuplicateCheck.from_store(sql, key_store=SqlKeyStore(sql.engine), leads=True)
    with check.store.unit_of_work() as uow:
        uow.leads.add(_lead("S-1"))
        uow.leads.add(_lead("S-2", last="Nowak"))
        uow.commit()
    with sql.unit_of_work() as uow:  # around check.store: the keys and values stay
        uow.leads.delete(LeadId("S-1"))
        uow.leads.save(attrs.evolve(uow.leads.get(LeadId("S-2")), company="Baltic Data"))
        uow.commit()
    data = (
        "Topic,First Name,Last Name,Company Name\n"
        "Offer,Åsa,Öberg,Nordic Trä AB\n"
        "Offer,Åsa,Nowak,Nordic Trä AB\n"
    ).encode()
    plan = plan_import(data, policy=ImportPolicy(match_by_email=False), duplicates=check)
    assert [(r.action, r.matches) for r in plan.rows] == [(RowAction.CREATE, ())] * 2


def test_keys_written_alone_or_removed_or_cleared_forget_the_values(sql: SqlStore) -> None:
    keys = SqlKeyStore(sql.engine)
    prepared = _prepared(_lead())
    keys.put_prepared([(ANNA, frozenset({"k1"}), prepared)])
    keys.put_many([(ANNA, frozenset({"k1"}))])
    assert _rows(sql) == 0
    keys.put_prepared([(ANNA, frozenset({"k1"}), prepared)])
    assert keys.remove(ANNA)
    assert _rows(sql) == 0
    keys.put_prepared([(ANNA, frozenset({"k1"}), prepared)])
    keys.clear()
    assert _rows(sql) == 0
    keys.put_prepared([(ANNA, frozenset(), prepared)])  # no keys: nothing kept
    assert _rows(sql) == 0


def test_values_of_another_width_or_form_are_left_out(sql: SqlStore) -> None:
    keys = SqlKeyStore(sql.engine)
    prepared = _prepared(_lead())
    keys.put_prepared([(ANNA, frozenset({"k1"}), prepared)])
    width = len(prepared.values)
    with sql.unit_of_work() as uow:
        attached = keys.attach(uow)
        assert attached is not None
        assert attached.prepared_values([ANNA], width + 1) == {}
    for data in ("not json", '{"a": 1}', "[1]", '["x"]'):
        with sql.engine.begin() as conn:
            conn.execute(duplicate_values.update().values(data=data))
        assert _read(sql, [ANNA]) == {}


def test_the_index_writes_values_on_rebuild_and_on_update(sql: SqlStore) -> None:
    keys = SqlKeyStore(sql.engine)
    index = DuplicateIndex(DEFAULT_LEAD_RULES, store=keys, loader=lambda refs: [])
    first, second = _lead("S-1"), _lead("S-2", last="Nowak")
    _store(sql, first, second)
    index.rebuild([first])
    assert _read(sql, [ANNA]) == {ANNA: _prepared(first)}
    changed = _with_company(first, "Baltic Data")
    index.update_many([changed, second])
    found = _read(sql, [ANNA, RecordRef(RecordType.LEAD, "S-2")])
    assert found == {ANNA: _prepared(changed), RecordRef(RecordType.LEAD, "S-2"): _prepared(second)}
    index.update_many([], removed=[ANNA])
    assert ANNA not in _read(sql, [ANNA])
    index.add(first)
    assert _read(sql, [ANNA]) == {ANNA: _prepared(first)}


def _with_company(lead: Lead, company: str) -> Lead:
    return Lead.create(lead.id, LeadPatch(topic=lead.topic, name=lead.name, company=company,
                                          email=lead.email), at=AT, by=BY)  # fmt: skip


def test_the_keyed_import_compares_with_the_stored_values_without_reading_leads(
    sql: SqlStore,
) -> None:
    check = EngineDuplicateCheck.from_store(sql, key_store=SqlKeyStore(sql.engine), leads=True)
    with check.store.unit_of_work() as uow:
        uow.leads.add(_lead())
        uow.commit()
    data = "Topic,First Name,Last Name,Company Name\nOffer,Åsa,Öberg,Nordic Trä AB\n".encode()
    policy = ImportPolicy(match_by_email=False)
    with mock.patch("leadkit.adapters.sql.lead_repository.SqlLeadRepository.get_many") as read:
        plan = plan_import(data, policy=policy, duplicates=check)
    read.assert_called_once()
    assert list(read.call_args.args[0]) == []  # every candidate came from its values
    row = plan.rows[0]
    assert (row.action, row.skip_reason) == (RowAction.SKIP, SkipReason.DUPLICATE_OF_STORED)
    assert [m.candidate for m in row.matches] == [ANNA]


def test_erasure_deletes_the_values_with_the_keys(tmp_path: Path) -> None:
    path = tmp_path / "leads.db"
    with SqlStore.open(path=path) as store:
        desk = Desk(store, clock=lambda: AT).acting_as(BY)
        desk.create(topic="A", name="Zora Quill", email="zora@quill.example.com")
        other = desk.create(topic="B", name="Other Person", email="x@y.example.com")
        assert _rows(store) == 2
        erase(store, "email:zora@quill.example.com")
        with store.engine.connect() as conn:
            left = conn.execute(select(duplicate_values.c.record_id, duplicate_values.c.data)).all()
        assert [r[0] for r in left] == [other.id.value]
        assert "zora" not in left[0][1]
        assert "quill" not in left[0][1]


def test_tables_made_before_the_values_keep_working_without_them(sql: SqlStore) -> None:
    SqlKeyStore(sql.engine)
    duplicate_values.drop(sql.engine)  # as a database made by an older leadkit
    keys = SqlKeyStore(sql.engine, create=False)
    prepared = _prepared(_lead())
    keys.put_prepared([(ANNA, frozenset({"k1"}), prepared)])
    assert keys.keys_of(ANNA) == frozenset({"k1"})
    with sql.unit_of_work() as uow:
        attached = keys.attach(uow)
        assert attached is not None
        assert attached.prepared_values([ANNA], len(prepared.values)) == {}
    assert keys.remove(ANNA)
    keys.clear()


class _CountingKeys:
    """A key table that says what it was asked."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def counts(self, keys: list[str]) -> dict[str, int]:
        self.asked.append(sorted(keys))
        return {k: 2 for k in keys if k.startswith("held")}

    def refs(self, keys: list[str]) -> dict[str, list[RecordRef]]:
        self.asked.append(sorted(keys))
        return {k: [ANNA] for k in keys if k.startswith("held")}

    def fingerprint(self) -> str:
        return "fp"


def test_the_plan_reads_each_key_once_and_answers_as_the_table_does() -> None:
    from leadkit.io.stored import _PlanKeys

    inner = _CountingKeys()
    keys = _PlanKeys(inner)
    assert keys.counts({"held-1", "none-1"}) == {"held-1": 2}
    assert keys.counts({"held-1", "none-1", "held-2"}) == {"held-1": 2, "held-2": 2}
    assert inner.asked == [["held-1", "none-1"], ["held-2"]]
    assert keys.refs({"held-1", "none-1"}) == {"held-1": [ANNA]}
    assert keys.refs({"none-1"}) == {}
    assert inner.asked[2:] == [["held-1", "none-1"]]
    assert keys.fingerprint() == "fp"  # anything else is the table's own


def test_a_full_key_memory_starts_over(monkeypatch: pytest.MonkeyPatch) -> None:
    from leadkit.io import stored

    monkeypatch.setattr(stored, "KEY_CACHE", 2)
    inner = _CountingKeys()
    keys = stored._PlanKeys(inner)
    assert keys.counts({"held-1", "held-2"}) == {"held-1": 2, "held-2": 2}
    assert keys.counts({"held-1", "held-3"}) == {"held-1": 2, "held-3": 2}
    assert keys.counts({"held-2"}) == {"held-2": 2}  # forgotten when the memory started over
    assert inner.asked == [["held-1", "held-2"], ["held-3"], ["held-2"]]


def test_each_index_compiles_its_own_rules_no_cache_outlives_it() -> None:
    # Compiled rule sets hold caches of normalised names and e-mails: one per index, so
    # nothing personal stays in the process after the index (or an erasure) is gone.
    first = DuplicateIndex(DEFAULT_LEAD_RULES)
    second = DuplicateIndex(DEFAULT_LEAD_RULES)
    assert first.compiled is not second.compiled
