"""Merge and unmerge on every adapter: merge then unmerge is the identity on every lead and
child, a merge is all or nothing under injected failures, and no note, activity or
stakeholder is ever lost or duplicated.

Adapters: the memory store, SQLite files and (when ``LEADKIT_TEST_PG_URL`` is set) PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadkit.errors import StorageUnavailable
from leadkit.lead import Lead
from leadkit.merging import (
    MERGE_FIELDS,
    Survivorship,
    SurvivorshipRule,
    SurvivorshipStrategy,
    plan_merge,
)
from leadkit.ports import LeadStore
from leadkit.records import Opportunity
from leadkit.services import merge, unmerge
from leadkit.testing.strategies import leads
from leadkit.values import AccountId, LeadId, OpportunityId, UserRef
from support.failures import FailingStore
from support.merge_stores import ADAPTERS, stores

AT = datetime(2031, 1, 1, tzinfo=UTC)
BY = UserRef("merger")

StoreFactory = Callable[[], LeadStore]


@pytest.fixture(params=ADAPTERS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    yield from stores(request.param, tmp_path)


def _rules() -> st.SearchStrategy[Survivorship]:
    allowed = {
        "description": [
            SurvivorshipStrategy.CONCATENATE,
            SurvivorshipStrategy.LONGEST,
            SurvivorshipStrategy.NEWEST,
        ],
        "rating": [
            SurvivorshipStrategy.MAXIMUM,
            SurvivorshipStrategy.FIRST_NON_BLANK,
            SurvivorshipStrategy.MASTER,
        ],
        "company": [
            SurvivorshipStrategy.FIRST_NON_BLANK,
            SurvivorshipStrategy.LONGEST,
            SurvivorshipStrategy.MASTER_UNLESS_BLANK,
        ],
        "custom_fields": [SurvivorshipStrategy.UNION, SurvivorshipStrategy.MASTER],
        "manual_score": [SurvivorshipStrategy.MAXIMUM, SurvivorshipStrategy.NEWEST],
        "ticked_criteria": [SurvivorshipStrategy.UNION, SurvivorshipStrategy.FIRST_NON_BLANK],
    }
    return st.fixed_dictionaries({f: st.sampled_from(s) for f, s in allowed.items()}).map(
        lambda chosen: Survivorship(
            tuple(SurvivorshipRule(f, s) for f, s in chosen.items()), allow_closed_master=True
        )
    )


@st.composite
def _groups(draw: st.DrawFn) -> tuple[list[Lead], Survivorship]:
    drawn = draw(st.lists(leads(), min_size=2, max_size=4))
    group = [
        attrs.evolve(lead.clear_events(), id=LeadId(f"lead-{n}")) for n, lead in enumerate(drawn)
    ]
    return group, draw(_rules())


def _store(store: LeadStore, group: list[Lead]) -> list[Lead]:
    with store.unit_of_work() as uow:
        stored = [uow.leads.add(lead) for lead in group]
        for n, lead in enumerate(group[1:]):
            uow.opportunities.add(
                Opportunity(
                    id=OpportunityId(f"opp-{n}"),
                    name="Deal",
                    customer=AccountId("acme"),
                    currency="EUR",
                    originating_lead=lead.id,
                    notes_from_lead=lead.id,
                )
            )
        uow.commit()
    return stored


def _snapshot(store: LeadStore, ids: list[LeadId]) -> tuple[object, ...]:
    with store.unit_of_work() as uow:
        leads_now = tuple(uow.leads.get(key) for key in ids)
        opportunities = tuple(uow.opportunities.list())
        merges = tuple(uow.merges.list())  # type: ignore[attr-defined]
    return leads_now, opportunities, merges


def _counter() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"merge-{next(numbers)}"


def _without_version(lead: Lead) -> Lead:
    return attrs.evolve(lead, version=0)


_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(case=_groups())
def test_merge_then_unmerge_is_the_identity_on_every_lead_and_child(
    make_store: StoreFactory, case: tuple[list[Lead], Survivorship]
) -> None:
    group, survivorship = case
    store = make_store()
    stored = _store(store, group)
    _, opportunities_before, _ = _snapshot(store, [lead.id for lead in stored])
    plan = plan_merge(stored[0], stored[1:], survivorship)
    result = merge(store, plan, ids=_counter(), at=AT, by=BY)

    master = result.master
    assert all(lead.merged_into == master.id for lead in result.leads[1:])
    with store.unit_of_work() as uow:
        for opportunity in uow.opportunities.list():
            assert opportunity.originating_lead == master.id

    undone = unmerge(store, result.merge_id, at=AT, by=BY)
    assert [_without_version(lead) for lead in undone.leads] == [
        _without_version(lead) for lead in stored
    ]
    leads_after, opportunities_after, merges = _snapshot(store, [lead.id for lead in stored])
    assert [_without_version(lead) for lead in leads_after] == [  # type: ignore[attr-defined]
        _without_version(lead) for lead in stored
    ]
    assert [attrs.evolve(o, version=0) for o in opportunities_after] == [  # type: ignore[attr-defined]
        attrs.evolve(o, version=0)
        for o in opportunities_before  # type: ignore[attr-defined]
    ]
    assert merges[0].is_undone  # type: ignore[index]


@_SETTINGS
@given(case=_groups())
def test_no_note_activity_or_stakeholder_is_lost_or_duplicated(
    make_store: StoreFactory, case: tuple[list[Lead], Survivorship]
) -> None:
    group, survivorship = case
    store = make_store()
    stored = _store(store, group)
    result = merge(
        store, plan_merge(stored[0], stored[1:], survivorship), ids=_counter(), at=AT, by=BY
    )
    with store.unit_of_work() as uow:
        master = uow.leads.get(stored[0].id)
        others = [uow.leads.get(lead.id) for lead in stored[1:]]

    def content(entry: object) -> object:
        return attrs.evolve(entry, id=0)  # type: ignore[misc]

    assert sorted(map(repr, map(content, master.notes))) == sorted(
        repr(content(n)) for lead in stored for n in lead.notes
    )
    assert sorted(map(repr, map(content, master.activities))) == sorted(
        repr(content(a)) for lead in stored for a in lead.activities
    )
    ids = [note.id for note in master.notes] + [activity.id for activity in master.activities]
    assert len(ids) == len(set(ids))
    assert set(master.stakeholders) == {s for lead in stored for s in lead.stakeholders}
    assert len(master.stakeholders) == len(set(master.stakeholders))
    assert all(not (o.notes or o.activities or o.stakeholders) for o in others)
    assert result.record.before == tuple(stored)


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=_groups())
def test_merge_and_unmerge_are_all_or_nothing_under_injected_failures(
    make_store: StoreFactory, case: tuple[list[Lead], Survivorship]
) -> None:
    group, survivorship = case
    ids = [lead.id for lead in group]
    counting = FailingStore(make_store(), None)
    stored = _store(counting._inner, group)
    plan = plan_merge(stored[0], stored[1:], survivorship)
    merge(counting, plan, ids=_counter(), at=AT, by=BY)
    writes = counting.writes.count
    assert writes >= len(group) + 1

    for fail_at in range(1, writes + 1):
        inner = make_store()
        stored = _store(inner, group)
        before = _snapshot(inner, ids)
        failing = FailingStore(inner, fail_at)
        with pytest.raises(StorageUnavailable):
            merge(
                failing,
                plan_merge(stored[0], stored[1:], survivorship),
                ids=_counter(),
                at=AT,
                by=BY,
            )
        assert _snapshot(inner, ids) == before

    # and unmerge: count its writes on one store, then fail each of them on another (one
    # store at a time: the PostgreSQL stores share a database)
    copy = make_store()
    copy_stored = _store(copy, group)
    copy_done = merge(
        copy,
        plan_merge(copy_stored[0], copy_stored[1:], survivorship),
        ids=_counter(),
        at=AT,
        by=BY,
    )
    counting = FailingStore(copy, None)
    unmerge(counting, copy_done.merge_id, at=AT, by=BY)
    unmerge_writes = counting.writes.count
    assert unmerge_writes >= len(group) + 1

    inner = make_store()
    stored = _store(inner, group)
    done = merge(
        inner, plan_merge(stored[0], stored[1:], survivorship), ids=_counter(), at=AT, by=BY
    )
    merged_state = _snapshot(inner, ids)
    for fail_at in range(1, unmerge_writes + 1):
        with pytest.raises(StorageUnavailable):
            unmerge(FailingStore(inner, fail_at), done.merge_id, at=AT, by=BY)
        assert _snapshot(inner, ids) == merged_state
    unmerge(inner, done.merge_id, at=AT, by=BY)


def test_merge_fields_cover_every_editable_field() -> None:
    assert {"topic", "description", "custom_fields", "ticked_criteria", "manual_score"} <= set(
        MERGE_FIELDS
    )
