"""plan_import and run_import against the in-memory store (and one SQLite file): the preview
writes nothing, matches and duplicates are found, every row is accounted for, batches commit
all or nothing and resume from their checkpoint."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.errors import ConcurrencyConflict, InvalidValue, StorageUnavailable
from leadkit.fields import LeadSource
from leadkit.io import (
    DuplicateAction,
    ExistingAction,
    ImportCheckpoint,
    ImportInterrupted,
    ImportPolicy,
    MappingIncomplete,
    RowAction,
    RowStatus,
    SkipReason,
    plan_import,
    run_import,
    suggest_mapping,
)
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadStore, UnitOfWork
from leadkit.records import Contact
from leadkit.status import StatusReason
from leadkit.values import ContactId, EmailAddress, LeadId, PersonName, UserRef

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BY = UserRef("importer", "Import Job")
SE = ImportPolicy(phone_region="SE")

CSV = (
    "Ämne;Förnamn;Efternamn;E-post;Telefon;Företag;Leadkälla\r\n"
    "Offert lastbilar;Åsa;Öberg;asa.oberg@skargard.se;070-123 45 67;Skärgårdens Båt AB;Mässa\r\n"
    "Serviceavtal;Björn;Ärlebäck;bjorn@gotastal.se;031-12 34 56;Göta Stål;Webb\r\n"
    "Offert lastbilar;Åsa;Öberg;asa.oberg@skargard.se;;Skärgårdens Båt AB;\r\n"
    ";Örjan;;orjan@;12;;Cirkus\r\n"
    "\r\n"
    "Ny webbplats;Karin;Lind;karin@lind.se;08-765 43 21;Lind Design;\r\n"
).encode("cp1252")


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"L-{next(counter)}"


def stored(store: LeadStore) -> dict[LeadId, Lead]:
    with store.unit_of_work() as uow:
        return {lead.id: lead for lead in uow.leads.stream()}


def add_lead(store: LeadStore, lead_id: str, **fields: Any) -> Lead:
    lead = Lead.create(LeadId(lead_id), LeadPatch(**fields), at=AT, by=BY)
    with store.unit_of_work() as uow:
        saved = uow.leads.add(lead)
        uow.commit()
    return saved


@pytest.fixture
def store() -> Iterator[MemoryStore]:
    memory = MemoryStore()
    yield memory
    memory.close()


def test_the_preview_writes_nothing_and_says_what_each_row_will_do(store: MemoryStore) -> None:
    plan = plan_import(CSV, policy=SE, store=store)
    assert stored(store) == {}
    actions = {r.number: r.action for r in plan.rows}
    assert actions == {
        2: RowAction.CREATE,
        3: RowAction.CREATE,
        4: RowAction.SKIP,
        5: RowAction.REJECT,
        6: RowAction.SKIP,
        7: RowAction.CREATE,
    }
    totals = plan.totals
    assert (totals.rows, totals.create, totals.skip, totals.reject) == (6, 3, 2, 1)
    assert plan.rows[2].skip_reason is SkipReason.DUPLICATE_IN_FILE
    assert plan.rows[2].duplicate_of_row == 2
    assert plan.rows[4].skip_reason is SkipReason.BLANK
    assert [g.rows for g in plan.file_duplicates] == [(2, 4)]
    errors = {(e.row, e.column, e.field) for e in plan.errors}
    assert errors == {
        (5, "E-post", "email"),
        (5, "Telefon", "business_phone"),
        (5, "Leadkälla", "source"),
        (5, "Ämne", "topic"),
        (5, "Efternamn", "name.last"),
    }
    text = plan.summary()
    assert "6 rows -> create 3, update 0, skip 2, reject 1" in text
    assert 'row 5, column "E-post"' in text


def test_run_import_writes_the_accepted_rows_and_reports_every_row(store: MemoryStore) -> None:
    plan = plan_import(CSV, policy=SE, store=store)
    report = run_import(store, plan, ids=ids(), at=AT, by=BY)
    assert report.rows == plan.totals.rows == 6
    assert [o.row for o in report.outcomes] == [2, 3, 4, 5, 6, 7]
    assert (report.created, report.updated, report.skipped, report.rejected) == (3, 0, 2, 1)
    assert report.skipped_as_duplicate == 1
    leads = stored(store)
    assert set(leads) == {LeadId("L-1"), LeadId("L-2"), LeadId("L-3")}
    asa = leads[LeadId("L-1")]
    assert asa.name == PersonName(first="Åsa", last="Öberg")
    assert asa.company == "Skärgårdens Båt AB"
    assert asa.business_phone is not None
    assert asa.business_phone.e164 == "+46701234567"
    assert asa.source is LeadSource.TRADE_SHOW
    assert (asa.created_at, asa.created_by, asa.owner) == (AT, BY, BY)
    rejected = next(o for o in report.outcomes if o.status is RowStatus.REJECTED)
    assert rejected.row == 5
    assert rejected.errors
    assert "3 created" in report.summary()


def test_a_mapping_without_a_required_column_is_refused_before_reading_rows() -> None:
    with pytest.raises(MappingIncomplete) as caught:
        plan_import(b"First Name,Email\r\nA,a@b.se\r\n")
    assert caught.value.missing == ("topic", "name.last")


def test_rows_matching_a_stored_lead_are_skipped_or_update_it_per_policy(
    store: MemoryStore,
) -> None:
    add_lead(
        store,
        "L-old",
        topic="Old",
        name=PersonName(first="Åsa", last="Öberg", salutation="Fru"),
        email=EmailAddress("asa.oberg@skargard.se"),
    )
    skip = plan_import(CSV, policy=SE, store=store)
    assert skip.rows[0].skip_reason is SkipReason.EXISTING
    assert skip.rows[0].lead_id == LeadId("L-old")
    # Row 4 targets the same stored lead again: a duplicate in the file.
    assert skip.rows[2].skip_reason is SkipReason.DUPLICATE_IN_FILE

    policy = ImportPolicy(phone_region="SE", on_existing=ExistingAction.UPDATE)
    update = plan_import(CSV, policy=policy, store=store)
    row = update.rows[0]
    assert row.action is RowAction.UPDATE
    assert row.expected_version == 1
    assert row.patch is not None
    assert set(row.patch.as_dict()) == {"topic", "business_phone", "company", "source"}
    report = run_import(store, update, ids=ids(), at=AT, by=BY)
    assert report.updated == 1
    old = stored(store)[LeadId("L-old")]
    assert old.topic == "Offert lastbilar"
    assert old.name.salutation == "Fru"  # name parts not in the file stay
    assert old.version == 2
    # The same file again changes nothing.
    again = plan_import(CSV, policy=policy, store=store)
    assert again.rows[0].skip_reason is SkipReason.UNCHANGED


def test_an_id_column_targets_a_stored_lead_or_gives_a_new_lead_its_id(store: MemoryStore) -> None:
    add_lead(store, "L-7", topic="Seven", name=PersonName(last="Sju"))
    data = b"Lead ID,Topic,Last Name\r\nL-7,Seven again,Sju\r\nL-new,New,Ny\r\nbad id!,X,Y\r\n"
    plan = plan_import(data, policy=ImportPolicy(on_existing=ExistingAction.UPDATE), store=store)
    assert [r.action for r in plan.rows] == [RowAction.UPDATE, RowAction.CREATE, RowAction.REJECT]
    assert plan.rows[1].lead_id == LeadId("L-new")
    assert plan.rows[2].errors[0].column == "Lead ID"
    run_import(store, plan, ids=ids(), at=AT, by=BY)
    assert set(stored(store)) == {LeadId("L-7"), LeadId("L-new")}


def test_closed_leads_are_never_updated_by_an_import(store: MemoryStore) -> None:
    lead = add_lead(store, "L-1", topic="T", name=PersonName(last="Berg"))

    with store.unit_of_work() as uow:
        uow.leads.save(lead.disqualify(StatusReason.LOST, at=AT, by=BY))
        uow.commit()
    plan = plan_import(
        b"Lead ID,Topic,Last Name\r\nL-1,New topic,Berg\r\n",
        policy=ImportPolicy(on_existing=ExistingAction.UPDATE),
        store=store,
    )
    assert plan.rows[0].skip_reason is SkipReason.EXISTING_CLOSED


def test_duplicates_of_stored_leads_and_contacts_are_found(store: MemoryStore) -> None:
    add_lead(
        store, "L-1", topic="T", name=PersonName(first="Karin", last="Lind"), company="Lind Design"
    )
    contact = Contact(
        id=ContactId("C-1"),
        name=PersonName(first="Björn", last="Ärlebäck"),
        email=EmailAddress("bjorn@gotastal.se"),
    )
    with store.unit_of_work() as uow:
        uow.contacts.add(contact)
        uow.commit()
    plan = plan_import(CSV, policy=SE, store=store)
    by_row = {r.number: r for r in plan.rows}
    assert by_row[3].skip_reason is SkipReason.DUPLICATE_OF_STORED
    assert str(by_row[3].matches[0].candidate) == "contact:C-1"
    assert by_row[7].skip_reason is SkipReason.DUPLICATE_OF_STORED
    assert str(by_row[7].matches[0].candidate) == "lead:L-1"
    assert "possible duplicate of contact:C-1" in by_row[3].reason
    # Create anyway: the matches stay as warnings.
    anyway = plan_import(
        CSV,
        policy=ImportPolicy(phone_region="SE", on_duplicate=DuplicateAction.CREATE),
        store=store,
    )
    row = next(r for r in anyway.rows if r.number == 3)
    assert row.action is RowAction.CREATE
    assert row.matches
    assert anyway.totals.create == 4  # rows 2, 3, 4 (in-file duplicate) and 7


def test_batches_commit_separately_and_report_a_checkpoint_each(store: MemoryStore) -> None:
    plan = plan_import(CSV, policy=SE, store=store)
    seen: list[ImportCheckpoint] = []
    report = run_import(store, plan, ids=ids(), at=AT, by=BY, batch_size=2, on_batch=seen.append)
    assert report.batches == 3
    assert [c.position for c in seen] == [2, 4, 6]
    assert len(seen[-1].outcomes) == 6
    assert report.created == 3


class FailingStore:
    """A store whose ``leads.add`` raises on the ``fail_on``-th call (counted across units of
    work): an injected storage failure."""

    def __init__(self, inner: LeadStore, fail_on: int) -> None:
        self.inner = inner
        self.fail_on = fail_on
        self.calls = 0

    def unit_of_work(self) -> UnitOfWork:
        uow = self.inner.unit_of_work()
        real_add = uow.leads.add
        outer = self

        def add(lead: Lead) -> Lead:
            outer.calls += 1
            if outer.calls == outer.fail_on:
                raise StorageUnavailable("disk full (injected)")
            return real_add(lead)

        uow.leads.add = add  # type: ignore[method-assign]
        return uow

    def close(self) -> None:
        self.inner.close()


def test_a_failed_batch_is_rolled_back_and_the_import_resumes_from_its_checkpoint(
    store: MemoryStore,
) -> None:
    plan = plan_import(CSV, policy=SE, store=store)
    new_id = ids()
    failing = FailingStore(store, fail_on=2)  # the second create: row 3, in batch 1
    with pytest.raises(ImportInterrupted) as caught:
        run_import(failing, plan, ids=new_id, at=AT, by=BY, batch_size=2)
    checkpoint = caught.value.checkpoint
    assert checkpoint.position == 0
    assert isinstance(caught.value.__cause__, StorageUnavailable)
    assert stored(store) == {}  # batch 1 (rows 2 and 3) rolled back whole
    report = run_import(store, plan, ids=new_id, at=AT, by=BY, batch_size=2, resume=checkpoint)
    assert report.rows == 6
    assert report.created == 3

    fresh = MemoryStore()
    new_id = ids()
    failing = FailingStore(fresh, fail_on=3)  # row 7, in the third batch
    with pytest.raises(ImportInterrupted) as caught:
        run_import(failing, plan, ids=new_id, at=AT, by=BY, batch_size=2)
    checkpoint = caught.value.checkpoint
    assert checkpoint.position == 4
    assert len(stored(fresh)) == 2
    report = run_import(fresh, plan, ids=new_id, at=AT, by=BY, batch_size=2, resume=checkpoint)
    assert [o.row for o in report.outcomes] == [2, 3, 4, 5, 6, 7]
    assert len(stored(fresh)) == 3


def test_a_checkpoint_of_another_plan_and_a_naive_time_are_refused(store: MemoryStore) -> None:
    plan = plan_import(CSV, policy=SE, store=store)
    other = ImportCheckpoint("0" * 64, 1, ())
    with pytest.raises(InvalidValue, match="another plan"):
        run_import(store, plan, ids=ids(), at=AT, by=BY, resume=other)
    with pytest.raises(InvalidValue):
        run_import(store, plan, ids=ids(), at=datetime(2026, 1, 1), by=BY)


def test_an_update_of_a_lead_changed_since_the_plan_is_a_conflict(store: MemoryStore) -> None:
    lead = add_lead(store, "L-7", topic="Seven", name=PersonName(last="Sju"))
    plan = plan_import(
        b"Lead ID,Topic,Last Name\r\nL-7,Seven again,Sju\r\n",
        policy=ImportPolicy(on_existing=ExistingAction.UPDATE),
        store=store,
    )
    with store.unit_of_work() as uow:
        uow.leads.save(lead.update(LeadPatch(topic="Changed"), at=AT, by=BY))
        uow.commit()
    with pytest.raises(ImportInterrupted) as caught:
        run_import(store, plan, ids=ids(), at=AT, by=BY)
    assert isinstance(caught.value.__cause__, ConcurrencyConflict)
    assert stored(store)[LeadId("L-7")].topic == "Changed"


def test_an_import_into_a_unit_of_work_commits_it(store: MemoryStore) -> None:
    plan = plan_import(CSV, policy=SE)
    with store.unit_of_work() as uow:
        report = run_import(uow, plan, ids=ids(), at=AT, by=BY)
    assert report.created == 3
    assert len(stored(store)) == 3


def test_an_explicit_mapping_and_a_default_source_are_used(store: MemoryStore) -> None:
    data = b"Subject,Surname,Notes\r\nFleet,Berg,call back\r\n"
    mapping = suggest_mapping(["Subject", "Surname", "Notes"]).override({"Notes": None})
    policy = ImportPolicy(default_source=LeadSource.PARTNER)
    plan = plan_import(data, mapping, policy, store=store)
    assert plan.mapping.ignored == ("Notes",)
    run_import(store, plan, ids=ids(), at=AT, by=BY)
    (lead,) = stored(store).values()
    assert (lead.topic, lead.source, lead.description) == ("Fleet", LeadSource.PARTNER, "")


def test_an_import_into_a_sqlite_file_store(tmp_path: Path) -> None:
    path = tmp_path / "leads.db"
    with SqlStore.open(path=path) as sql:
        add_lead(
            sql,
            "L-old",
            topic="Old",
            name=PersonName(last="Lind"),
            email=EmailAddress("karin@lind.se"),
        )
        plan = plan_import(CSV, policy=SE, store=sql)
        assert next(r for r in plan.rows if r.number == 7).skip_reason is SkipReason.EXISTING
        report = run_import(sql, plan, ids=ids(), at=AT, by=BY, batch_size=3)
        assert (report.rows, report.created) == (6, 2)
    with SqlStore.open(path=path, create=False) as again:
        leads = stored(again)
    assert {lead.name.last for lead in leads.values()} == {"Lind", "Öberg", "Ärlebäck"}
