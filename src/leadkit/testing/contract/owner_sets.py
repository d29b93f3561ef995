"""The contract of owner sets (``LeadQuery.owner_ids``), as a test mixin.

An authoriser's scope (:mod:`leadkit.access`) is an owner set that the adapters must put in
their queries: :class:`OwnerSetContract` checks that ``query``, ``count`` and ``stream`` with
``owner_ids`` return exactly what :meth:`~leadkit.ports.LeadQuery.matches` keeps, in the
query's order, page by page, combined with the other filters, and that an empty set matches
nothing. :class:`~leadkit.testing.contract.LeadStoreContract` inherits it; it uses the
suite's ``empty_store`` fixture.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import ClassVar, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadkit.fields import Rating
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery, LeadSort, LeadStore
from leadkit.scoring.result import Explanation, Score, ScoreSource
from leadkit.status import LeadState, StatusReason
from leadkit.values import LeadId, PersonName, UserRef

__all__ = ["OwnerSetContract"]

_T0: Final = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
_OWNERS: Final = ("ann", "bo", "cai", "dee", "eva")


def _lead(n: int, owner: str, *, score: int | None = None, closed: bool = False) -> Lead:
    user = UserRef(owner)
    at = _T0 + timedelta(minutes=n % 7)  # ties in created_at: the id breaks them
    patch = LeadPatch(topic=f"Topic {n % 3}", name=PersonName(last=f"Person{n:03}"))
    lead = Lead.create(LeadId(f"own-{n:03}"), patch, at=at, by=user, owner=user)
    if score is not None:
        value = Decimal(score)
        explanation = Explanation(base=value, contributions=(), criteria_value=value,
                                  met_weight=Decimal(0), total_weight=Decimal(1))  # fmt: skip
        result = Score(lead_id=lead.id, value=value, stars=min(5, score // 20), max_stars=5,
                       rating=Rating.WARM, source=ScoreSource.CRITERIA, model_id="owners",
                       model_version=1, explanation=explanation)  # fmt: skip
        lead = lead.record_score(result, at=at, by=user)
    if closed:
        lead = lead.disqualify(StatusReason.LOST, at=at, by=user)
    return lead


def _store(store: LeadStore, leads: Sequence[Lead]) -> list[Lead]:
    with store.unit_of_work() as uow:
        stored = [uow.leads.add(lead) for lead in leads]
        uow.commit()
    with store.unit_of_work() as uow:
        return [uow.leads.get(lead.id) for lead in stored]


def _expected(leads: Sequence[Lead], query: LeadQuery) -> list[str]:
    from leadkit.ports import sort_key

    found = [lead for lead in leads if query.matches(lead)]
    found.sort(key=lambda x: sort_key(x, query.sort, descending=query.descending),
               reverse=query.descending)  # fmt: skip
    return [lead.id.value for lead in found]


def _paged(store: LeadStore, query: LeadQuery, limit: int) -> list[str]:
    found: list[str] = []
    after: str | None = None
    with store.unit_of_work() as uow:
        for _ in range(1000):
            page = uow.leads.query(query, limit=limit, after=after)
            found.extend(lead.id.value for lead in page.items)
            if page.next_cursor is None:
                return found
            after = page.next_cursor
    raise AssertionError(f"pagination of {query!r} did not end")


_POPULATION_SIZE: Final = 24


def _population() -> list[Lead]:
    return [
        _lead(n, _OWNERS[n % len(_OWNERS)], score=None if n % 4 == 0 else n * 3, closed=n % 5 == 0)
        for n in range(_POPULATION_SIZE)
    ]


_owner_sets = st.frozensets(st.sampled_from([*_OWNERS, "nobody"]), max_size=4)


class OwnerSetContract:
    """``LeadQuery.owner_ids`` in every adapter query (see the module doc)."""

    owner_set_examples: ClassVar[int] = 15

    @pytest.fixture
    def owned(self, empty_store: LeadStore) -> tuple[LeadStore, list[Lead]]:
        """A store holding leads of five owners, some scored, some closed."""
        return empty_store, _store(empty_store, _population())

    def test_an_owner_set_keeps_exactly_the_leads_of_those_owners(
        self, owned: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, leads = owned
        query = LeadQuery(owner_ids={"ann", "cai"})
        expected = [x.id.value for x in sorted(leads, key=lambda x: (x.created_at, x.id.value))
                    if x.owner.id in {"ann", "cai"}]  # fmt: skip
        assert _paged(store, query, 50) == expected
        with store.unit_of_work() as uow:
            assert uow.leads.count(query) == len(expected)
            assert [x.id.value for x in uow.leads.stream(query, batch_size=3)] == expected

    def test_an_empty_owner_set_matches_nothing(self, owned: tuple[LeadStore, list[Lead]]) -> None:
        store, _ = owned
        query = LeadQuery(owner_ids=frozenset())
        assert _paged(store, query, 10) == []
        with store.unit_of_work() as uow:
            assert uow.leads.count(query) == 0
            assert list(uow.leads.stream(query)) == []

    def test_an_owner_set_is_anded_with_the_single_owner_filter(
        self, owned: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, leads = owned
        inside = LeadQuery(owner_id="bo", owner_ids={"bo", "dee"})
        outside = LeadQuery(owner_id="ann", owner_ids={"bo", "dee"})
        assert _paged(store, inside, 50) == _expected(leads, inside) != []
        assert _paged(store, outside, 50) == []
        with store.unit_of_work() as uow:
            assert uow.leads.count(outside) == 0

    def test_an_owner_set_of_a_single_text_is_refused(self) -> None:
        from leadkit.errors import InvalidValue

        with pytest.raises(InvalidValue) as caught:
            LeadQuery(owner_ids="ann")
        assert caught.value.field == "owner_ids"

    def test_owner_sets_with_other_filters_sorts_and_pages_match_the_reference(
        self, owned: tuple[LeadStore, list[Lead]]
    ) -> None:
        store, leads = owned

        @settings(
            max_examples=self.owner_set_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(
            owners=_owner_sets,
            states=st.none() | st.just(frozenset({LeadState.OPEN})),
            score_min=st.none() | st.integers(0, 60),
            sort=st.sampled_from(list(LeadSort)),
            descending=st.booleans(),
            limit=st.integers(1, 7),
        )
        def check(
            owners: frozenset[str],
            states: frozenset[LeadState] | None,
            score_min: int | None,
            sort: LeadSort,
            descending: bool,
            limit: int,
        ) -> None:
            query = LeadQuery(owner_ids=owners, states=states, score_min=score_min, sort=sort,
                              descending=descending)  # fmt: skip
            expected = _expected(leads, query)
            assert _paged(store, query, limit) == expected
            with store.unit_of_work() as uow:
                assert uow.leads.count(query) == len(expected)
                streamed = [x.id.value for x in uow.leads.stream(query, batch_size=limit)]
            assert streamed == expected

        check()
