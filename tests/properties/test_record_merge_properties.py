"""Contact and account merges on every adapter: merge then unmerge is the identity on every
record and child (notes, and the references re-pointed: opportunities' customer and contact,
accounts' primary contact, contacts' account), a merge and an unmerge are all or nothing under
injected failures, and no note is ever lost or duplicated.

Adapters: the memory store, SQLite files and (when ``LEADKIT_TEST_PG_URL`` is set) PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadkit.errors import StorageUnavailable
from leadkit.merging import SurvivorshipStrategy
from leadkit.policies import RecordKind
from leadkit.ports import LeadStore
from leadkit.record_merge_service import merge_records, unmerge_records
from leadkit.record_merging import (
    RecordSurvivorship,
    RecordSurvivorshipRule,
    plan_record_merge,
)
from leadkit.records import Account, Contact, Opportunity
from leadkit.testing.strategies import accounts, contacts, notes
from leadkit.values import AccountId, ContactId, OpportunityId, UserRef
from support.failures import FailingStore
from support.merge_stores import ADAPTERS, stores

AT = datetime(2031, 1, 1, tzinfo=UTC)
BY = UserRef("merger")

StoreFactory = Callable[[], LeadStore]


@pytest.fixture(params=ADAPTERS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    yield from stores(request.param, tmp_path)


_STRATEGIES = [
    SurvivorshipStrategy.MASTER_UNLESS_BLANK,
    SurvivorshipStrategy.FIRST_NON_BLANK,
    SurvivorshipStrategy.NEWEST,
    SurvivorshipStrategy.LONGEST,
    SurvivorshipStrategy.MASTER,
]


def _policy(kind: RecordKind, fields: tuple[str, ...]) -> st.SearchStrategy[RecordSurvivorship]:
    return st.fixed_dictionaries({f: st.sampled_from(_STRATEGIES) for f in fields}).map(
        lambda chosen: RecordSurvivorship(
            kind, tuple(RecordSurvivorshipRule(f, s) for f, s in chosen.items())
        )
    )


_STAMPS = st.none() | st.integers(0, 5).map(lambda n: AT - timedelta(days=n))


@st.composite
def _contact_groups(draw: st.DrawFn) -> tuple[list[Any], list[Any], RecordSurvivorship]:
    drawn = draw(st.lists(contacts(), min_size=2, max_size=4))
    group = [
        attrs.evolve(
            contact,
            id=ContactId(f"contact-{n}"),
            description=draw(st.sampled_from(["", "likes golf", f"met at fair {n}"])),
            notes=tuple(
                attrs.evolve(note, id=i + 1)
                for i, note in enumerate(draw(st.lists(notes(), max_size=2)))
            ),
            modified_at=draw(_STAMPS),
        )
        for n, contact in enumerate(drawn)
    ]
    ids: list[Any] = [c.id for c in group]
    others: list[Any] = [
        Account(id=AccountId("acme"), name="Acme", primary_contact=draw(st.sampled_from(ids)))
    ]
    for n in range(draw(st.integers(1, 3))):
        others.append(
            Opportunity(
                id=OpportunityId(f"opp-{n}"),
                name="Deal",
                customer=draw(st.sampled_from([*ids, AccountId("acme")])),
                contact=draw(st.sampled_from([None, *ids])),
                currency="EUR",
            )
        )
    fields = ("job_title", "email", "mobile_phone", "description")
    return group, others, draw(_policy(RecordKind.CONTACT, fields))


@st.composite
def _account_groups(draw: st.DrawFn) -> tuple[list[Any], list[Any], RecordSurvivorship]:
    drawn = draw(st.lists(accounts(), min_size=2, max_size=4))
    group = [
        attrs.evolve(
            account,
            id=AccountId(f"account-{n}"),
            notes=tuple(
                attrs.evolve(note, id=i + 1)
                for i, note in enumerate(draw(st.lists(notes(), max_size=2)))
            ),
            modified_at=draw(_STAMPS),
        )
        for n, account in enumerate(drawn)
    ]
    ids = [a.id for a in group]
    others: list[Any] = []
    for n in range(draw(st.integers(1, 3))):
        others.append(
            Contact(
                id=ContactId(f"person-{n}"),
                name=draw(contacts()).name,
                account_id=draw(st.sampled_from([None, *ids])),
            )
        )
        others.append(
            Opportunity(
                id=OpportunityId(f"opp-{n}"),
                name="Deal",
                customer=draw(st.sampled_from(ids)),
                currency="EUR",
            )
        )
    fields = ("website", "business_phone", "description", "name")
    return group, others, draw(_policy(RecordKind.ACCOUNT, fields))


_GROUPS = st.one_of(_contact_groups(), _account_groups())


def _repository(uow: Any, record: object) -> Any:
    if isinstance(record, Contact):
        return uow.contacts
    if isinstance(record, Account):
        return uow.accounts
    return uow.opportunities


def _store(store: LeadStore, group: list[Any], others: list[Any]) -> list[Any]:
    with store.unit_of_work() as uow:
        stored = [_repository(uow, r).add(r) for r in group]
        for record in others:
            _repository(uow, record).add(record)
        uow.commit()
    return stored


def _snapshot(store: LeadStore) -> tuple[object, ...]:
    with store.unit_of_work() as uow:
        return (
            tuple(uow.accounts.list()),
            tuple(uow.contacts.list()),
            tuple(uow.opportunities.list()),
            tuple(uow.record_merges.list()),  # type: ignore[attr-defined]
        )


def _unversioned(snapshot: tuple[object, ...]) -> list[list[object]]:
    return [[attrs.evolve(r, version=0) for r in part] for part in snapshot[:3]]  # type: ignore[attr-defined]


def _counter() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"merge-{next(numbers)}"


_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(case=_GROUPS)
def test_merge_then_unmerge_is_the_identity_on_every_record_and_child(
    make_store: StoreFactory, case: tuple[list[Any], list[Any], RecordSurvivorship]
) -> None:
    group, others, policy = case
    store = make_store()
    stored = _store(store, group, others)
    before = _snapshot(store)
    plan = plan_record_merge(stored[0], stored[1:], policy)
    result = merge_records(store, plan, ids=_counter(), at=AT, by=BY)

    master = result.records[0]
    merged_ids = {r.id for r in stored[1:]}
    assert all(r.merged_into == master.id for r in result.records[1:])
    accounts_now, contacts_now, opportunities_now, _ = _snapshot(store)
    for record in (*accounts_now, *contacts_now, *opportunities_now):  # type: ignore[misc]
        for field in ("customer", "contact", "primary_contact", "account_id"):
            if getattr(record, "merged_into", None) is None:
                assert getattr(record, field, None) not in merged_ids

    undone = unmerge_records(store, result.merge_id, at=AT, by=BY)
    assert [attrs.evolve(r, version=0) for r in undone.records] == [
        attrs.evolve(r, version=0) for r in stored
    ]
    after = _snapshot(store)
    assert _unversioned(after) == _unversioned(before)
    assert after[3][0].is_undone  # type: ignore[index]


@_SETTINGS
@given(case=_GROUPS)
def test_no_note_is_lost_or_duplicated_by_a_record_merge(
    make_store: StoreFactory, case: tuple[list[Any], list[Any], RecordSurvivorship]
) -> None:
    group, others, policy = case
    store = make_store()
    stored = _store(store, group, others)
    result = merge_records(
        store, plan_record_merge(stored[0], stored[1:], policy), ids=_counter(), at=AT, by=BY
    )
    master = result.records[0]

    def content(note: Any) -> str:
        return repr(attrs.evolve(note, id=0))

    assert sorted(map(content, master.notes)) == sorted(
        content(n) for record in stored for n in record.notes
    )
    assert len({n.id for n in master.notes}) == len(master.notes)
    assert {(m.from_record, m.from_id) for m in result.record.moved} == {
        (r.id.value, n.id) for r in stored[1:] for n in r.notes
    }


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=_GROUPS)
def test_record_merge_and_unmerge_are_all_or_nothing_under_injected_failures(
    make_store: StoreFactory, case: tuple[list[Any], list[Any], RecordSurvivorship]
) -> None:
    group, others, policy = case
    counting = FailingStore(make_store(), None)
    stored = _store(counting._inner, group, others)
    merge_records(
        counting, plan_record_merge(stored[0], stored[1:], policy), ids=_counter(), at=AT, by=BY
    )
    writes = counting.writes.count
    assert writes >= len(group) + 1

    for fail_at in range(1, writes + 1):
        inner = make_store()
        stored = _store(inner, group, others)
        before = _snapshot(inner)
        with pytest.raises(StorageUnavailable):
            merge_records(
                FailingStore(inner, fail_at),
                plan_record_merge(stored[0], stored[1:], policy),
                ids=_counter(),
                at=AT,
                by=BY,
            )
        assert _snapshot(inner) == before

    inner = make_store()
    stored = _store(inner, group, others)
    done = merge_records(
        inner, plan_record_merge(stored[0], stored[1:], policy), ids=_counter(), at=AT, by=BY
    )
    merged_state = _snapshot(inner)
    # fail each write of the unmerge in turn (a failed run rolls back) until one succeeds
    for fail_at in itertools.count(1):
        try:
            unmerge_records(FailingStore(inner, fail_at), done.merge_id, at=AT, by=BY)
        except StorageUnavailable:
            assert _snapshot(inner) == merged_state
            continue
        break
    assert fail_at > len(group) + 1  # every write of the unmerge failed once
