"""Bulk units of work (``SqlStore.unit_of_work(bulk=True)``) on both engines.

On PostgreSQL new leads are queued and inserted a batch at a time (one multi-row ``INSERT ...
ON CONFLICT DO NOTHING RETURNING id``, child rows after it); a taken id is found when the
batch goes in, and the call that sends it rolls the whole unit of work back and raises
AlreadyExists. On SQLite ``bulk`` changes nothing (ids are checked at once).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from leadkit.adapters.sql import SqlStore
from leadkit.errors import AlreadyExists, StorageUnavailable
from leadkit.io import plan_import, run_import
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery
from leadkit.timeline import ActivityKind
from leadkit.values import ContactId, LeadId, PersonName, UserRef
from support.import_race import people_csv
from support.postgres import DatabasePool

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
ANN = UserRef("ann")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "postgresql":
        pool: DatabasePool = request.getfixturevalue("pg_databases")
        opened = SqlStore.open(pool.take(), create=False)
    else:
        opened = SqlStore.open(path=tmp_path / "bulk.db")
    with opened:
        yield opened


def new_lead(n: int, *, topic: str | None = None, children: bool = False) -> Lead:
    lead = Lead.create(
        LeadId(f"lead-{n:05}"),
        LeadPatch(topic=topic or f"Topic {n}", name=PersonName(last=f"Last {n}")),
        at=T0 + timedelta(seconds=n),
        by=ANN,
        owner=ANN,
    )
    if children:
        at = T0 + timedelta(seconds=n, minutes=1)
        lead = (
            lead.add_note(f"Note {n}", at=at, by=ANN)
            .log_activity(ActivityKind.PHONE_CALL, f"Call {n}", at=at, by=ANN)
            .add_stakeholder(ContactId(f"contact-{n}"), at=at, by=ANN)
        )
    return lead


def count(store: SqlStore, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def stored_ids(store: SqlStore) -> list[str]:
    with store.unit_of_work() as uow:
        return [lead.id.value for lead in uow.leads.stream(LeadQuery())]


def test_a_bulk_unit_of_work_stores_every_lead_with_its_children_and_events(
    store: SqlStore,
) -> None:
    leads = [new_lead(n, children=n % 3 == 0) for n in range(2500)]  # three batches
    with store.unit_of_work(bulk=True) as uow:
        returned = [uow.leads.add(lead) for lead in leads]
        events = len(uow.events)
        uow.commit()
    assert events == sum(len(lead.pending_events) for lead in leads) > 2500
    with store.unit_of_work() as uow:
        assert [uow.leads.get(lead.id) for lead in leads] == returned
    with_children = len([n for n in range(2500) if n % 3 == 0])
    assert count(store, "lead_notes") == with_children
    assert count(store, "lead_activities") == with_children
    assert count(store, "lead_stakeholders") == with_children
    assert count(store, "outbox") == events
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT event_id, lead_id FROM outbox ORDER BY position")).all()
    # The outbox holds the events in the order they were recorded (the positions follow it).
    assert [int(event_id.rsplit("-", 1)[1]) for event_id, _ in stored] == list(range(events))
    assert [lead_id for _, lead_id in stored] == [
        event.lead_id.value for lead in leads for event in lead.pending_events
    ]


def test_a_read_in_a_bulk_unit_of_work_sees_the_queued_leads(store: SqlStore) -> None:
    with store.unit_of_work(bulk=True) as uow:
        added = uow.leads.add(new_lead(1, children=True))
        assert uow.leads.get(LeadId("lead-00001")) == added
        assert uow.leads.count(LeadQuery()) == 1
        uow.commit()
    assert stored_ids(store) == ["lead-00001"]


def test_a_taken_id_rolls_back_the_whole_bulk_unit_of_work(store: SqlStore) -> None:
    """PostgreSQL: the commit sending the batch raises, nothing of the unit of work (not the
    change saved before the adds either) is stored. SQLite: the add raises at once and the
    unit of work goes on."""
    with store.unit_of_work() as uow:
        first = uow.leads.add(new_lead(7, topic="First"))
        uow.leads.add(new_lead(8))
        uow.commit()
    created = len(new_lead(7).pending_events)
    server = store.path is None
    with store.unit_of_work(bulk=True) as uow:
        uow.leads.save(first.update(LeadPatch(topic="Changed"), at=T0, by=ANN))
        for n in range(100):
            if n not in (7, 8):
                uow.leads.add(new_lead(n, children=True))
        if server:
            uow.leads.add(new_lead(7, topic="Second"))  # queued: checked with the batch
        with pytest.raises(AlreadyExists) as caught:
            uow.commit() if server else uow.leads.add(new_lead(7, topic="Second"))
        assert str(caught.value.key) == "lead-00007"
        assert (uow.events == ()) is server
        uow.commit()
    if server:
        assert stored_ids(store) == ["lead-00007", "lead-00008"]
        with store.unit_of_work() as uow:
            kept = uow.leads.get(LeadId("lead-00007"))
        assert (kept.topic, kept.version) == ("First", 1)
        assert count(store, "lead_notes") == 0
        assert count(store, "outbox") == 2 * created
    else:
        assert len(stored_ids(store)) == 100
        assert count(store, "lead_notes") == 98


def test_a_taken_id_found_by_a_read_raises_from_that_read(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.leads.add(new_lead(1))
        uow.commit()
    with store.unit_of_work(bulk=True) as uow:
        uow.leads.add(new_lead(2))
        if store.path is None:
            uow.leads.add(new_lead(1))
            with pytest.raises(AlreadyExists):
                uow.leads.get(LeadId("lead-00002"))
        else:
            with pytest.raises(AlreadyExists):
                uow.leads.add(new_lead(1))
            uow.rollback()
    assert stored_ids(store) == ["lead-00001"]


def test_an_id_added_twice_in_one_batch_is_refused_at_once(store: SqlStore) -> None:
    with store.unit_of_work(bulk=True) as uow:
        uow.leads.add(new_lead(1, topic="First"))
        with pytest.raises(AlreadyExists):
            uow.leads.add(new_lead(1, topic="Again"))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.leads.get(LeadId("lead-00001")).topic == "First"


def test_a_bulk_unit_of_work_left_without_commit_stores_nothing(store: SqlStore) -> None:
    with store.unit_of_work(bulk=True) as uow:
        for n in range(1500):
            uow.leads.add(new_lead(n))
    assert stored_ids(store) == []


def test_a_closed_bulk_unit_of_work_refuses_adds(store: SqlStore) -> None:
    with store.unit_of_work(bulk=True) as uow:
        pass
    with pytest.raises(StorageUnavailable):
        uow.leads.add(new_lead(1))


def test_an_import_into_a_bulk_unit_of_work_commits_each_batch(store: SqlStore) -> None:
    plan = plan_import(people_csv(20, 1, seed=3), store=store)
    numbers = iter(range(100))
    with store.unit_of_work(bulk=True) as uow:
        report = run_import(uow, plan, ids=lambda: f"i-{next(numbers)}", at=T0, by=ANN,
                            batch_size=8)  # fmt: skip
    assert (report.created, report.batches) == (20, 3)
    assert len(stored_ids(store)) == 20
