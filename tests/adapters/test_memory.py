"""The in-memory store: the shipped contract suite, plus its own thread and index tests."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

if "leadkit.testing.contract" not in sys.modules:  # show assertion diffs in the shipped suite
    pytest.register_assert_rewrite("leadkit.testing.contract")

from leadkit.adapters.memory import MemoryStore
from leadkit.errors import ConcurrencyConflict, NotFound, StorageUnavailable
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery, LeadSort, LeadStore, Views, encode_cursor, sort_key
from leadkit.status import LeadState, StatusReason
from leadkit.testing.contract import LeadStoreContract, StoreFactory
from leadkit.values import LeadId, PersonName, UserRef
from support.pages import all_pages, paged_leads
from support.threads import read_modify_save_cycles

T0 = datetime(2024, 1, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OWNERS = [UserRef(f"user-{n}") for n in range(4)]


class TestMemoryStore(LeadStoreContract):
    @pytest.fixture
    def make_store(self) -> StoreFactory:
        return MemoryStore


def new_lead(n: int, owner: UserRef = OWNERS[0]) -> Lead:
    return Lead.create(
        LeadId(f"lead-{n:04}"),
        LeadPatch(topic=f"Topic {n}", name=PersonName(last=f"Last {n}")),
        at=T0 + timedelta(minutes=n),
        by=owner,
        owner=owner,
    )


def store_leads(store: LeadStore, leads: list[Lead]) -> None:
    with store.unit_of_work() as uow:
        for lead in leads:
            uow.leads.add(lead)
        uow.commit()


@pytest.mark.slow
def test_eight_threads_of_read_modify_save_cycles_lose_no_update() -> None:
    store = MemoryStore()
    keys = [LeadId(f"lead-{n:04}") for n in range(20)]
    store_leads(store, [new_lead(n) for n in range(20)])
    cycles = read_modify_save_cycles(
        store, keys, threads=8, cycles=200, at=T0, by=OWNERS[1], join_timeout=300
    )
    assert not cycles.failures, cycles.failures
    assert sum(cycles.landed.values()) + cycles.conflicts == 8 * 200
    with store.unit_of_work() as uow:
        assert {key: uow.leads.get(key).version for key in keys} == {
            key: count + 1 for key, count in cycles.landed.items()
        }
    store.close()


def test_commits_in_threads_interleave_with_readers_without_torn_reads() -> None:
    """Readers never see half of a unit of work: each commit adds a pair of leads."""
    store = MemoryStore()
    stop = threading.Event()
    odd_counts: list[int] = []

    def write() -> None:
        for n in range(0, 400, 2):
            store_leads(store, [new_lead(n), new_lead(n + 1)])
        stop.set()

    def read() -> None:
        while not stop.is_set():
            with store.unit_of_work() as uow:
                count = uow.leads.count(LeadQuery())
            if count % 2:
                odd_counts.append(count)

    threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert odd_counts == []
    with store.unit_of_work() as uow:
        assert uow.leads.count(LeadQuery()) == 400
    store.close()


def test_my_open_leads_follows_owner_changes_through_the_owner_index() -> None:
    store = MemoryStore()
    store_leads(store, [new_lead(n, OWNERS[n % 4]) for n in range(40)])
    with store.unit_of_work() as uow:
        for n in range(0, 40, 4):  # everything of user-0 goes to user-1
            lead = uow.leads.get(LeadId(f"lead-{n:04}"))
            uow.leads.save(lead.assign(OWNERS[1], at=T0, by=OWNERS[0]))
        uow.leads.delete(LeadId("lead-0001"))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.leads.count(Views.my_open_leads(OWNERS[0])) == 0
        mine = uow.leads.query(Views.my_open_leads(OWNERS[1]), limit=100).items
        assert len(mine) == 19
        assert all(lead.owner == OWNERS[1] for lead in mine)
        assert [lead.created_at for lead in mine] == sorted(
            (lead.created_at for lead in mine), reverse=True
        )
    store.close()


def test_a_closed_store_says_so() -> None:
    store = MemoryStore()
    store.close()
    store.close()  # closing twice is harmless
    assert "closed" in repr(store)
    with pytest.raises(StorageUnavailable, match="closed"):
        store.unit_of_work()


def test_a_unit_of_work_cannot_be_entered_again_after_its_block() -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        pass
    with pytest.raises(StorageUnavailable, match="unit of work is closed"), uow:
        pass
    store.close()


aware_datetimes = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
    st.integers(-23 * 60, 23 * 60),
)


@settings(max_examples=60, deadline=None)
@given(
    times=st.lists(st.tuples(aware_datetimes, aware_datetimes), min_size=1, max_size=12),
    sort=st.sampled_from([LeadSort.CREATED_AT, LeadSort.MODIFIED_AT]),
    descending=st.booleans(),
    limit=st.integers(1, 4),
)
def test_time_sorts_page_exactly_like_sort_key_in_every_year_and_time_zone(
    times: list[tuple[datetime, datetime]], sort: LeadSort, descending: bool, limit: int
) -> None:
    """The memory store keys the time sorts on microseconds; pages and cursors must still be
    exactly those of ``ports.sort_key`` (years below 1000 take the reference path)."""
    store = MemoryStore()
    leads = [
        attrs.evolve(new_lead(n), created_at=created, modified_at=modified, pending_events=())
        for n, (created, modified) in enumerate(times)
    ]
    store_leads(store, leads)
    query = LeadQuery(sort=sort, descending=descending)
    with store.unit_of_work() as uow:
        expected = sorted(
            uow.leads.stream(LeadQuery(sort=LeadSort.ID)),
            key=lambda lead: sort_key(lead, sort),
            reverse=descending,
        )
        pages = all_pages(uow.leads, query, limit)
        for page in pages[:-1]:
            last = sort_key(page.items[-1], sort)
            assert page.next_cursor == encode_cursor(sort, descending, last)
        assert [lead for page in pages for lead in page.items] == expected
        assert list(uow.leads.stream(query, batch_size=limit)) == expected
    store.close()


def test_a_cursor_from_a_year_below_1000_pages_like_the_reference() -> None:
    store = MemoryStore()
    years = [999, 1000, 2024, 5]
    store_leads(
        store,
        [
            attrs.evolve(new_lead(n), created_at=datetime(year, 6, 1, tzinfo=UTC))
            for n, year in enumerate(years)
        ],
    )
    with store.unit_of_work() as uow:
        every = list(uow.leads.stream())
        assert every == sorted(every, key=lambda lead: sort_key(lead, LeadSort.CREATED_AT))
        for position, lead in enumerate(every):
            cursor = encode_cursor(LeadSort.CREATED_AT, False, sort_key(lead, LeadSort.CREATED_AT))
            rest = uow.leads.query(LeadQuery(), after=cursor).items
            assert list(rest) == every[position + 1 :]
    store.close()


# ---------------------------------------------------------------------------------------------
# The secondary index (owner and state -> leads by created_at): kept on commit only


def index_of(store: MemoryStore) -> dict[tuple[str, LeadState], list[str]]:
    """The store's index as (owner id, state) -> ids in list order, checked entry by entry."""
    table = store._leads
    found: dict[tuple[str, LeadState], list[str]] = {}
    for owner_id, per_state in table.by_owner.items():
        for state, entries in per_state.items():
            assert entries, "an empty list is dropped"
            for micros, key, lead in entries:
                assert table.rows[LeadId(key)] is lead  # the committed lead itself
                assert (lead.owner.id, lead.state) == (owner_id, state)
                assert micros == (lead.created_at - EPOCH) // timedelta(microseconds=1)
            found[owner_id, state] = [key for _, key, _ in entries]
    assert table.early == sum(1 for lead in table.rows.values() if lead.created_at.year < 1000)
    return found


def expected_index(store: MemoryStore) -> dict[tuple[str, LeadState], list[str]]:
    """The index rebuilt from the committed leads."""
    expected: dict[tuple[str, LeadState], list[Lead]] = {}
    for lead in store._leads.rows.values():
        expected.setdefault((lead.owner.id, lead.state), []).append(lead)
    return {
        place: [
            lead.id.value
            for lead in sorted(leads, key=lambda lead: (lead.created_at, lead.id.value))
        ]
        for place, leads in expected.items()
    }


def test_the_index_follows_commits_and_ignores_rollbacks_and_failed_commits() -> None:
    store = MemoryStore()
    store_leads(store, [new_lead(n, OWNERS[n % 2]) for n in range(10)])
    assert index_of(store) == expected_index(store)
    before = index_of(store)

    with store.unit_of_work() as uow:  # rolled back: nothing changes
        uow.leads.add(new_lead(50, OWNERS[2]))
        uow.leads.delete(LeadId("lead-0001"))
        lead = uow.leads.get(LeadId("lead-0002"))
        uow.leads.save(lead.assign(OWNERS[3], at=T0, by=OWNERS[0]))
        uow.rollback()
        uow.leads.add(new_lead(51, OWNERS[2]))  # left without commit
    assert index_of(store) == before

    with store.unit_of_work() as loser, store.unit_of_work() as winner:
        loser.leads.add(new_lead(60, OWNERS[2]))
        mine = loser.leads.get(LeadId("lead-0004"))
        loser.leads.save(mine.disqualify(StatusReason.LOST, at=T0, by=OWNERS[0]))
        theirs = winner.leads.get(LeadId("lead-0004"))
        winner.leads.save(theirs.update(LeadPatch(topic="Theirs"), at=T0, by=OWNERS[0]))
        winner.commit()
        after_winner = index_of(store)
        with pytest.raises(ConcurrencyConflict):
            loser.commit()  # all or nothing: lead-0060 is not indexed either
    assert index_of(store) == after_winner == expected_index(store)
    assert "lead-0060" not in {key for keys in after_winner.values() for key in keys}

    with store.unit_of_work() as uow:  # owner, state and created_at changes; a delete
        lead = uow.leads.get(LeadId("lead-0000"))
        uow.leads.save(lead.assign(OWNERS[3], at=T0, by=OWNERS[0]))
        lead = uow.leads.get(LeadId("lead-0002"))
        uow.leads.save(lead.mark_qualified(at=T0, by=OWNERS[0]))
        lead = uow.leads.get(LeadId("lead-0003"))
        uow.leads.save(attrs.evolve(lead, created_at=T0 - timedelta(days=1)))
        lead = uow.leads.get(LeadId("lead-0005"))
        uow.leads.save(attrs.evolve(lead, created_at=datetime(999, 1, 1, tzinfo=UTC)))
        uow.leads.delete(LeadId("lead-0007"))
        uow.commit()
    assert index_of(store) == expected_index(store)
    assert store._leads.early == 1
    with store.unit_of_work() as uow:
        uow.leads.delete(LeadId("lead-0005"))
        uow.commit()
    assert store._leads.early == 0
    assert index_of(store) == expected_index(store)
    store.close()
    assert store._leads.by_owner == {}


_days_at = st.integers(-3, 3)


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["add", "assign", "close", "reopen", "move", "delete", "rescore"]),
            st.integers(0, 7),
            st.integers(0, 3),
            _days_at,
        ),
        min_size=1,
        max_size=25,
    ),
    commit_every=st.integers(1, 4),
    limit=st.integers(1, 3),
)
def test_the_index_and_its_pages_match_a_rebuilt_index_after_random_commits(
    steps: list[tuple[str, int, int, int]], commit_every: int, limit: int
) -> None:
    store = MemoryStore()
    uow = store.unit_of_work().__enter__()
    for number, (action, n, owner, days) in enumerate(steps):
        key = LeadId(f"lead-{n:04}")
        try:
            lead = uow.leads.get(key)
        except NotFound:
            if action == "add":
                created = attrs.evolve(new_lead(n, OWNERS[owner]), created_at=T0 + timedelta(days))
                uow.leads.add(created)
            continue
        at = T0 + timedelta(days=5)
        match action:
            case "assign" if lead.is_open:
                uow.leads.save(lead.assign(OWNERS[owner], at=at, by=OWNERS[0]))
            case "close" if lead.is_open:
                uow.leads.save(lead.disqualify(StatusReason.LOST, at=at, by=OWNERS[0]))
            case "reopen" if lead.is_closed:
                uow.leads.save(lead.reactivate(at=at, by=OWNERS[0]))
            case "move":
                uow.leads.save(attrs.evolve(lead, created_at=T0 + timedelta(days=days)))
            case "delete":
                uow.leads.delete(key)
            case "rescore":
                uow.leads.save(attrs.evolve(lead, score=Decimal(days)))
        for who in OWNERS:  # pages through the index see the unit of work's own writes
            query = Views.my_open_leads(who)
            expected = sorted(
                (lead for lead in uow.leads.stream() if query.matches(lead)),
                key=lambda lead: (lead.created_at, lead.id.value),
                reverse=True,
            )
            assert paged_leads(uow.leads, query, limit) == expected
        if number % commit_every == commit_every - 1:
            if number % 3:
                uow.commit()
            else:
                uow.rollback()
            assert index_of(store) == expected_index(store)
    uow.__exit__(None, None, None)
    assert index_of(store) == expected_index(store)
    store.close()


def test_a_page_of_my_open_leads_reads_about_a_page_of_the_owners_leads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = MemoryStore()
    store_leads(store, [new_lead(n, OWNERS[n % 2]) for n in range(4000)])
    checked = [0]
    matches = LeadQuery.matches

    def counting(self: LeadQuery, lead: Lead) -> bool:
        checked[0] += 1
        return matches(self, lead)

    monkeypatch.setattr(LeadQuery, "matches", counting)
    with store.unit_of_work() as uow:
        mine = Views.my_open_leads(OWNERS[0])
        first = uow.leads.query(mine, limit=50)
        second = uow.leads.query(mine, limit=50, after=first.next_cursor)
        assert checked[0] == 0  # owner and state are the index's own: nothing to check
        assert [lead.id.value for lead in first.items + second.items] == [
            f"lead-{n:04}" for n in range(3998, 3798, -2)
        ]
        uow.leads.add(new_lead(5000, OWNERS[0]))  # own writes join the page
        hot = attrs.evolve(mine, text="last")
        assert [lead.id.value for lead in uow.leads.query(hot, limit=3).items] == [
            "lead-5000", "lead-3998", "lead-3996"
        ]  # fmt: skip
        assert checked[0] <= 3 + 1 + 1  # a page of committed leads, plus the own lead
        assert uow.leads.count(mine) == 2001  # a count checks the owner's leads only
        assert checked[0] <= 5 + 2001
    store.close()


def test_my_open_leads_with_a_year_below_1000_pages_like_the_reference() -> None:
    store = MemoryStore()
    years = [999, 1000, 2024, 5, 2024]
    store_leads(
        store,
        [
            attrs.evolve(new_lead(n), created_at=datetime(year, 6, 1, tzinfo=UTC))
            for n, year in enumerate(years)
        ],
    )
    query = Views.my_open_leads(OWNERS[0])
    with store.unit_of_work() as uow:
        expected = sorted(
            uow.leads.stream(),
            key=lambda lead: sort_key(lead, LeadSort.CREATED_AT),
            reverse=True,
        )
        for limit in (1, 2, 5):
            assert paged_leads(uow.leads, query, limit) == expected
    store.close()


def test_pages_of_my_open_leads_never_show_half_a_commit() -> None:
    """Readers walking the index while writers commit pairs of leads of one owner always see
    an even number of them."""
    store = MemoryStore()
    stop = threading.Event()
    odd: list[int] = []
    failures: list[BaseException] = []

    def write(owner: UserRef, first: int) -> None:
        try:
            for n in range(first, first + 300, 2):
                store_leads(store, [new_lead(n, owner), new_lead(n + 1, owner)])
        except BaseException as e:
            failures.append(e)

    def read() -> None:
        try:
            while not stop.is_set():
                with store.unit_of_work() as uow:
                    for owner in OWNERS[:2]:
                        page = uow.leads.query(Views.my_open_leads(owner), limit=1000)
                        if len(page.items) % 2:
                            odd.append(len(page.items))
        except BaseException as e:
            failures.append(e)

    writers = [threading.Thread(target=write, args=(OWNERS[n], n * 1000)) for n in range(2)]
    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in writers + readers:
        thread.start()
    for thread in writers:
        thread.join(timeout=60)
    stop.set()
    for thread in readers:
        thread.join(timeout=60)
    assert not failures, failures
    assert odd == []
    assert index_of(store) == expected_index(store)
    store.close()
