"""Contract tests of reading many leads: filters, order, pagination, score filters and sorts,
streams and views."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from leadkit.errors import InvalidValue
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import MAX_PAGE_SIZE, LeadQuery, LeadSort, LeadStore, Page, Views, encode_cursor
from leadkit.status import StatusReason
from leadkit.testing.contract._base import _ContractBase
from leadkit.testing.contract._examples import (
    _ALICE,
    _BOB,
    _CAROL,
    _FILTER_CASES,
    _OPEN,
    _SORTED_POPULATION,
    _T0,
    _days,
    _lead,
    _population_changes,
    _population_order,
    _scored,
    _touch,
)
from leadkit.testing.contract._helpers import (
    _count,
    _ids,
    _pages,
    _reference,
    _store_leads,
    _streamed,
)
from leadkit.values import LeadId


class QueryContract(_ContractBase):
    """Queries (filters, order, pagination, scores), streams and views."""

    # query: filters, order, pagination --------------------------------------------------------

    def test_the_population_is_stored_as_expected(
        self, population: tuple[LeadStore, list[Lead]]
    ) -> None:
        _, stored = population
        assert _ids(stored) == _SORTED_POPULATION[LeadSort.ID]
        versions = {lead.id.value: lead.version for lead in stored}
        changed = set(_population_changes())
        assert versions == {key: 2 if key in changed else 1 for key in versions}

    @pytest.mark.parametrize(
        ("query", "expected"),
        [pytest.param(q, ids, id=label) for label, q, ids in _FILTER_CASES],
    )
    def test_query_filters(
        self, population: tuple[LeadStore, list[Lead]], query: LeadQuery, expected: list[str]
    ) -> None:
        store, stored = population
        reference = _reference(stored, query)
        assert sorted(_ids(reference)) == expected  # the case itself is right
        with store.unit_of_work() as uow:
            page = uow.leads.query(query, limit=MAX_PAGE_SIZE)
        assert _ids(page.items) == _ids(reference)
        assert list(page.items) == reference
        assert page.next_cursor is None

    @pytest.mark.parametrize(
        ("query", "expected"),
        [pytest.param(q, ids, id=label) for label, q, ids in _FILTER_CASES],
    )
    def test_count_counts_the_matching_leads(
        self, population: tuple[LeadStore, list[Lead]], query: LeadQuery, expected: list[str]
    ) -> None:
        store, _ = population
        with store.unit_of_work() as uow:
            assert uow.leads.count(query) == len(expected)

    def test_count_of_an_empty_store_is_zero(self, empty_store: LeadStore) -> None:
        assert _count(empty_store) == 0
        assert _count(empty_store, Views.my_open_leads(_ALICE)) == 0

    @pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
    @pytest.mark.parametrize("sort", list(LeadSort), ids=[s.value for s in LeadSort])
    def test_query_sorts_with_ties_broken_by_id(
        self, population: tuple[LeadStore, list[Lead]], sort: LeadSort, descending: bool
    ) -> None:
        store, stored = population
        query = LeadQuery(sort=sort, descending=descending)
        expected = _population_order(sort, descending)
        assert _ids(_reference(stored, query)) == expected
        with store.unit_of_work() as uow:
            assert _ids(uow.leads.query(query, limit=100).items) == expected

    @pytest.mark.parametrize("limit", [1, 2, 5, 12, 13])
    @pytest.mark.parametrize(
        "query",
        [
            pytest.param(LeadQuery(), id="created"),
            pytest.param(LeadQuery(sort=LeadSort.COMPANY, descending=True), id="company-desc"),
            pytest.param(LeadQuery(sort=LeadSort.TOPIC), id="topic"),
            pytest.param(Views.closed_leads(), id="closed-leads"),
            pytest.param(Views.my_open_leads(_ALICE), id="my-open-leads"),
            pytest.param(LeadQuery(sort=LeadSort.SCORE), id="score"),
            pytest.param(LeadQuery(sort=LeadSort.SCORE, descending=True), id="score-desc"),
            pytest.param(
                LeadQuery(states={_OPEN}, sort=LeadSort.SCORE, descending=True),
                id="open-by-score-desc",
            ),
            pytest.param(
                LeadQuery(owner_id="alice", score_min=Decimal("7.25"), sort=LeadSort.SCORE),
                id="owner-and-score-range-by-score",
            ),
        ],
    )
    def test_pages_never_repeat_or_skip_a_lead(
        self, population: tuple[LeadStore, list[Lead]], query: LeadQuery, limit: int
    ) -> None:
        store, stored = population
        expected = _reference(stored, query)
        with store.unit_of_work() as uow:
            pages = _pages(uow.leads, query, limit)
        seen = [lead for page in pages for lead in page.items]
        assert _ids(seen) == _ids(expected)
        assert seen == expected
        for page in pages[:-1]:
            assert len(page.items) == limit  # only the last page may be short
        assert pages[-1].next_cursor is None
        assert len(pages) == max(1, -(-len(expected) // limit))

    def test_pages_keep_their_place_while_other_leads_change(
        self, population: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, stored = population
        query = LeadQuery()  # created_at ascending: p01 p02 p04 | p03 p05 p06 | ...
        with store.unit_of_work() as uow:
            first = uow.leads.query(query, limit=3)
        assert _ids(first.items) == ["p01", "p02", "p04"]
        with store.unit_of_work() as uow:
            uow.leads.delete(LeadId("p02"))  # already seen
            uow.leads.delete(LeadId("p09"))  # not seen yet
            uow.leads.add(_lead("p00", at=_T0 - timedelta(days=1)))  # sorts before the cursor
            uow.leads.add(_lead("p99", at=_days(99)))  # sorts after everything
            uow.leads.save(_touch(uow.leads.get(LeadId("p05")), "changed"))
            uow.commit()
        seen = list(first.items)
        after = first.next_cursor
        while after is not None:
            with store.unit_of_work() as uow:
                page = uow.leads.query(query, limit=3, after=after)
            seen.extend(page.items)
            after = page.next_cursor
        seen_ids = _ids(seen)
        assert len(seen_ids) == len(set(seen_ids)), "a lead was repeated"
        unchanged = {lead.id.value for lead in stored} - {"p02", "p09", "p05"}
        assert unchanged <= set(seen_ids), "an unchanged lead was skipped"
        assert "p00" not in seen_ids
        assert seen_ids[-1] == "p99"

    @pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1, 10**9, True])
    def test_query_refuses_a_limit_outside_1_to_1000(
        self, population: tuple[LeadStore, list[Lead]], limit: int
    ) -> None:
        store, _ = population
        with store.unit_of_work() as uow, pytest.raises(InvalidValue):
            uow.leads.query(LeadQuery(), limit=limit)

    def test_query_accepts_the_largest_limit(
        self, population: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, _ = population
        with store.unit_of_work() as uow:
            assert len(uow.leads.query(LeadQuery(), limit=MAX_PAGE_SIZE).items) == 12
            assert len(uow.leads.query(LeadQuery(), limit=1).items) == 1

    def test_query_refuses_a_foreign_cursor(self, population: tuple[LeadStore, list[Lead]]) -> None:
        store, _ = population
        with store.unit_of_work() as uow:
            by_topic = uow.leads.query(LeadQuery(sort=LeadSort.TOPIC), limit=2).next_cursor
            descending = uow.leads.query(LeadQuery(descending=True), limit=2).next_cursor
            assert by_topic is not None
            assert descending is not None
            for cursor in (by_topic, descending, "not a cursor", "", "e30="):
                with pytest.raises(InvalidValue):
                    uow.leads.query(LeadQuery(), limit=2, after=cursor)

    def test_a_cursor_past_the_end_gives_an_empty_last_page(
        self, population: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, _ = population
        cursor = encode_cursor(LeadSort.ID, False, ("zzz", "zzz"))
        with store.unit_of_work() as uow:
            page = uow.leads.query(LeadQuery(sort=LeadSort.ID), limit=5, after=cursor)
        assert page == Page((), None)

    def test_query_of_an_empty_store_gives_one_empty_page(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow:
            assert uow.leads.query(LeadQuery()) == Page((), None)

    # score: filter and sort -------------------------------------------------------------------

    @pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
    def test_score_pages_cross_from_scored_to_unscored_leads(
        self, population: tuple[LeadStore, list[Lead]], descending: bool
    ) -> None:
        store, _ = population
        query = LeadQuery(sort=LeadSort.SCORE, descending=descending)
        expected = _population_order(LeadSort.SCORE, descending)
        with store.unit_of_work() as uow:
            pages = _pages(uow.leads, query, 4)
            assert [_ids(page.items) for page in pages] == [
                expected[0:4],
                expected[4:8],
                expected[8:12],
            ]  # the third page starts with the last scored lead and ends with the unscored
            assert uow.leads.count(query) == 12
            assert _ids(list(uow.leads.stream(query, batch_size=5))) == expected

    def test_score_bounds_accept_ints_and_keep_decimals_exact(self, empty_store: LeadStore) -> None:
        query = LeadQuery(score_min=42, score_max=Decimal("42.000"))
        assert query.score_min == Decimal(42)
        assert isinstance(query.score_min, Decimal)
        _store_leads(
            empty_store,
            _scored(_lead("s1"), "42"),
            _scored(_lead("s2"), "42.0001"),
            _scored(_lead("s3"), "41.9999"),
            _lead("s4"),
        )
        with empty_store.unit_of_work() as uow:
            assert _ids(uow.leads.query(query).items) == ["s1"]
            assert uow.leads.count(LeadQuery(score_max=Decimal("41.99990"))) == 1
            assert uow.leads.count(LeadQuery(score_min=Decimal("42.0000999"))) == 1
            assert uow.leads.count(LeadQuery(score_min=Decimal("42.00010001"))) == 0

    @pytest.mark.parametrize("field", ["score_min", "score_max"])
    @pytest.mark.parametrize(
        "bound",
        [
            pytest.param(50.0, id="float"),
            pytest.param("50", id="string"),
            pytest.param(True, id="bool"),
            pytest.param(Decimal("NaN"), id="nan"),
            pytest.param(Decimal("sNaN"), id="signalling-nan"),
            pytest.param(Decimal("Infinity"), id="infinity"),
            pytest.param(Decimal("-Infinity"), id="minus-infinity"),
        ],
    )
    def test_a_score_bound_that_is_no_finite_decimal_is_refused(
        self, field: str, bound: object
    ) -> None:
        given_bound: dict[str, Any] = {field: bound}
        with pytest.raises(InvalidValue) as caught:
            LeadQuery(**given_bound)
        assert caught.value.field == field

    def test_a_score_range_with_min_above_max_is_refused(self) -> None:
        with pytest.raises(InvalidValue) as caught:
            LeadQuery(score_min=Decimal("50.01"), score_max=50)
        assert caught.value.field == "score_max"
        assert LeadQuery(score_min=50, score_max=Decimal("50.00")).score_max == 50

    def test_a_rescored_lead_moves_in_the_score_order_and_filter(
        self, empty_store: LeadStore
    ) -> None:
        _store_leads(
            empty_store, _scored(_lead("r1"), "10"), _scored(_lead("r2"), "20"), _lead("r3")
        )
        by_score = LeadQuery(sort=LeadSort.SCORE, descending=True)
        high = LeadQuery(score_min=15)
        with empty_store.unit_of_work() as uow:
            uow.leads.save(_scored(uow.leads.get(LeadId("r1")), "30", at=_days(1)))
            uow.leads.save(_scored(uow.leads.get(LeadId("r3")), "15", at=_days(1)))
            assert _ids(uow.leads.query(by_score).items) == ["r1", "r2", "r3"]  # own writes
            assert uow.leads.count(high) == 3
            lowest_high = LeadQuery(score_min=15, sort=LeadSort.SCORE)
            assert _ids(uow.leads.query(lowest_high, limit=2).items) == ["r3", "r2"]
            with empty_store.unit_of_work() as other:  # not yet committed
                if self.supports_concurrent_readers:
                    assert _ids(other.leads.query(by_score).items) == ["r2", "r1", "r3"]
                    assert other.leads.count(high) == 1
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert _ids(uow.leads.query(by_score).items) == ["r1", "r2", "r3"]
            assert uow.leads.count(high) == 3
            uow.leads.delete(LeadId("r2"))
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert _ids(uow.leads.query(by_score).items) == ["r1", "r3"]
            assert _ids(uow.leads.query(LeadQuery(score_max=15)).items) == ["r3"]

    # stream -----------------------------------------------------------------------------------

    @pytest.mark.parametrize("batch_size", [1, 2, 5, 500, 5000])
    def test_stream_yields_every_lead_in_order(
        self, population: tuple[LeadStore, list[Lead]], batch_size: int
    ) -> None:
        store, stored = population
        with store.unit_of_work() as uow:
            everything = _streamed(uow.leads, None, batch_size)
            closed = _streamed(uow.leads, Views.closed_leads(), batch_size)
            by_name = list(
                uow.leads.stream(
                    LeadQuery(sort=LeadSort.LAST_NAME, descending=True), batch_size=batch_size
                )
            )
        assert _ids(everything) == _ids(_reference(stored, Views.all_leads()))
        assert everything == _reference(stored, Views.all_leads())
        assert _ids(closed) == ["p07", "p06", "p08"]
        assert _ids(by_name) == _SORTED_POPULATION[LeadSort.LAST_NAME][::-1]

    def test_stream_reads_in_batches_not_the_whole_store(self, empty_store: LeadStore) -> None:
        text = "x" * 1900
        _store_leads(
            empty_store,
            *(_lead(f"s{n:04}").update(LeadPatch(description=text), at=_days(1), by=_ALICE)
              for n in range(400)),
        )  # fmt: skip
        with empty_store.unit_of_work() as uow:
            was_tracing = tracemalloc.is_tracing()
            if not was_tracing:
                tracemalloc.start()
            try:
                tracemalloc.reset_peak()
                base = tracemalloc.get_traced_memory()[0]
                everything = list(uow.leads.stream(batch_size=1000))
                whole = tracemalloc.get_traced_memory()[1] - base
                assert len(everything) == 400
                del everything
                tracemalloc.reset_peak()
                base = tracemalloc.get_traced_memory()[0]
                count = 0
                for _ in uow.leads.stream(batch_size=10):
                    count += 1
                streaming = tracemalloc.get_traced_memory()[1] - base
            finally:
                if not was_tracing:
                    tracemalloc.stop()
        assert count == 400
        assert streaming <= max(whole / 3, 512 * 1024), (
            f"stream(batch_size=10) over 400 leads peaked at {streaming:,} bytes, holding all "
            f"of them takes {whole:,}: it must read batch by batch, not the whole store"
        )

    def test_stream_of_an_empty_store_yields_nothing(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow:
            assert list(uow.leads.stream()) == []

    @pytest.mark.parametrize("batch_size", [0, -1, True])
    def test_stream_refuses_a_batch_size_below_1(
        self, population: tuple[LeadStore, list[Lead]], batch_size: int
    ) -> None:
        store, _ = population
        with store.unit_of_work() as uow, pytest.raises(InvalidValue):
            list(uow.leads.stream(batch_size=batch_size))

    # views ------------------------------------------------------------------------------------

    def test_my_open_leads_lists_the_owners_open_leads_newest_first(
        self, population: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, _ = population
        expected = ["p12", "p11", "p10", "p09", "p02", "p01"]
        with store.unit_of_work() as uow:
            assert _ids(uow.leads.query(Views.my_open_leads(_ALICE)).items) == expected
            assert _ids(uow.leads.query(Views.my_open_leads("alice")).items) == expected
            assert _ids(uow.leads.query(Views.my_open_leads(_CAROL)).items) == ["p05"]

    def test_closed_leads_lists_qualified_and_disqualified_most_recently_changed_first(
        self, population: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, _ = population
        with store.unit_of_work() as uow:
            assert _ids(uow.leads.query(Views.closed_leads()).items) == ["p07", "p06", "p08"]
            assert uow.leads.count(Views.closed_leads()) == 3

    def test_all_leads_and_open_leads(self, population: tuple[LeadStore, list[Lead]]) -> None:
        store, _ = population
        with store.unit_of_work() as uow:
            assert (
                _ids(uow.leads.query(Views.all_leads()).items)
                == _SORTED_POPULATION[LeadSort.CREATED_AT]
            )
            open_ids = _ids(uow.leads.query(Views.open_leads()).items)
        assert open_ids == ["p01", "p02", "p04", "p03", "p05", "p09", "p10", "p11", "p12"]

    def test_a_reactivated_lead_shows_again_in_my_open_leads(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("v1", owner=_BOB))
        mine = Views.my_open_leads(_BOB)

        def views() -> tuple[list[str], list[str]]:
            with empty_store.unit_of_work() as uow:
                return (
                    _ids(uow.leads.query(mine).items),
                    _ids(uow.leads.query(Views.closed_leads()).items),
                )

        assert views() == (["v1"], [])
        with empty_store.unit_of_work() as uow:
            lost = uow.leads.save(stored.disqualify(StatusReason.LOST, at=_days(1), by=_BOB))
            uow.commit()
        assert views() == ([], ["v1"])
        with empty_store.unit_of_work() as uow:
            uow.leads.save(lost.reactivate(at=_days(2), by=_BOB))
            uow.commit()
        assert views() == (["v1"], [])

    def test_an_assigned_lead_moves_to_its_new_owners_open_leads(
        self, empty_store: LeadStore
    ) -> None:
        (stored,) = _store_leads(empty_store, _lead("v1", owner=_BOB))
        with empty_store.unit_of_work() as uow:
            uow.leads.save(stored.assign(_CAROL, at=_days(1), by=_BOB))
            assert _ids(uow.leads.query(Views.my_open_leads(_CAROL)).items) == ["v1"]
            assert _ids(uow.leads.query(Views.my_open_leads(_BOB)).items) == []
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert _ids(uow.leads.query(Views.my_open_leads(_CAROL)).items) == ["v1"]
            assert _ids(uow.leads.query(Views.my_open_leads(_BOB)).items) == []
