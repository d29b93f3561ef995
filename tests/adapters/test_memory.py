"""The in-memory store: the shipped contract suite, plus its own thread and index tests."""

from __future__ import annotations

import random
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

if "leadkit.testing.contract" not in sys.modules:  # show assertion diffs in the shipped suite
    pytest.register_assert_rewrite("leadkit.testing.contract")

from leadkit.adapters.memory import MemoryStore
from leadkit.errors import ConcurrencyConflict, StorageUnavailable
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery, LeadSort, LeadStore, Views, encode_cursor, sort_key
from leadkit.testing.contract import LeadStoreContract, StoreFactory
from leadkit.values import LeadId, PersonName, UserRef

T0 = datetime(2024, 1, 1, tzinfo=UTC)
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
    landed = dict.fromkeys(keys, 0)
    conflicts = [0]
    failures: list[BaseException] = []
    guard = threading.Lock()
    start = threading.Barrier(8)

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            start.wait()
            for cycle in range(200):
                key = rng.choice(keys)
                try:
                    with store.unit_of_work() as uow:
                        lead = uow.leads.get(key)
                        changed = lead.update(
                            LeadPatch(description=f"{seed}-{cycle}"), at=T0, by=OWNERS[1]
                        )
                        uow.leads.save(changed)
                        uow.commit()
                except ConcurrencyConflict:
                    with guard:
                        conflicts[0] += 1
                    continue
                with guard:
                    landed[key] += 1
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    assert sum(landed.values()) + conflicts[0] == 8 * 200
    with store.unit_of_work() as uow:
        assert {key: uow.leads.get(key).version for key in keys} == {
            key: count + 1 for key, count in landed.items()
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
        seen: list[Lead] = []
        after = None
        while True:
            page = uow.leads.query(query, limit=limit, after=after)
            seen.extend(page.items)
            if page.next_cursor is None:
                break
            last = sort_key(page.items[-1], sort)
            assert page.next_cursor == encode_cursor(sort, descending, last)
            after = page.next_cursor
        assert seen == expected
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
