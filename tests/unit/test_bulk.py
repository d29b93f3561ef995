"""leadkit.bulk: the bulk helpers (native and fallback) and rescoring a store in batches
and shards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadkit.adapters.memory import MemoryStore
from leadkit.bulk import bulk_repository, get_many, rescore_store, save_many, scan
from leadkit.errors import ConcurrencyConflict, InvalidValue, NotFound
from leadkit.fields import Budget, Need
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery, LeadRepository, LeadSort, LeadStore, Page
from leadkit.scoring import BCM_MODEL, RescoreProgress, is_outdated, score_lead
from leadkit.shards import Shard
from leadkit.values import LeadId, UserRef

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ADA = UserRef("ada")
_BUDGETS = (None, Budget.WILL_BUY, Budget.NO_COMMITTED_BUDGET)
_NEEDS = (None, Need.MUST_HAVE, Need.NO_NEED)


def _lead(n: int) -> Lead:
    patch = LeadPatch(
        topic=f"Deal {n}", name=f"Per Son{n}", budget=_BUDGETS[n % 3], need=_NEEDS[n % 3 - 1]
    )
    return Lead.create(LeadId(f"L{n:03d}"), patch, at=AT - timedelta(hours=n), by=ADA)


def _store(count: int) -> MemoryStore:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        for n in range(count):
            uow.leads.add(_lead(n))
        uow.commit()
    return store


def _snapshot(store: LeadStore) -> dict[str, tuple[int, object]]:
    with store.unit_of_work() as uow:
        return {x.id.value: (x.version, x.score) for x in uow.leads.stream()}


class _OneByOne:
    """A lead repository without the bulk methods (a third-party adapter's)."""

    def __init__(self, inner: LeadRepository) -> None:
        self._inner = inner
        self.saves = 0

    def get(self, lead_id: LeadId) -> Lead:
        return self._inner.get(lead_id)

    def save(self, lead: Lead, *, expected_version: int | None = None) -> Lead:
        self.saves += 1
        return self._inner.save(lead, expected_version=expected_version)

    def query(self, query: LeadQuery, *, limit: int = 50, after: str | None = None) -> Page:
        return self._inner.query(query, limit=limit, after=after)


def test_the_adapters_offer_the_bulk_methods_and_a_plain_repository_does_not() -> None:
    store = _store(1)
    with store.unit_of_work() as uow:
        assert bulk_repository(uow.leads) is uow.leads
        assert bulk_repository(_OneByOne(uow.leads)) is None  # type: ignore[arg-type]


def test_the_fallbacks_read_save_and_scan_one_lead_at_a_time() -> None:
    store = _store(5)
    with store.unit_of_work() as uow:
        plain = _OneByOne(uow.leads)
        repo: Any = plain
        found = get_many(repo, [LeadId("L003"), LeadId("nope"), LeadId("L003"), LeadId("L000")])
        assert list(found) == [LeadId("L003"), LeadId("L000")]
        changed = [x.update(LeadPatch(description="x"), at=AT, by=ADA) for x in found.values()]
        saved = save_many(repo, changed)
        assert [x.version for x in saved] == [2, 2]
        assert plain.saves == 2
        with pytest.raises(InvalidValue):
            save_many(repo, [saved[0], saved[0]])
        page = scan(repo, LeadQuery(sort=LeadSort.ID), limit=2, shard=Shard(0, 1))
        assert [x.id.value for x in page.items] == ["L000", "L001"]
        assert page.next_cursor is not None
        shard = Shard(1, 2)
        part = scan(repo, LeadQuery(sort=LeadSort.ID), limit=5000, shard=shard)
        assert [x.id.value for x in part.items] == [
            f"L{n:03d}" for n in range(5) if shard.contains(f"L{n:03d}")
        ]
        with pytest.raises(InvalidValue):
            scan(repo, limit=0)


def test_a_failed_bulk_save_leaves_the_unit_of_work_as_it_was() -> None:
    store = _store(2)
    with store.unit_of_work() as uow:
        leads = list(get_many(uow.leads, [LeadId("L000"), LeadId("L001")]).values())
        stale = attrs.evolve(leads[1], version=7)
        with pytest.raises(ConcurrencyConflict):
            save_many(uow.leads, [leads[0], stale])
        assert uow.leads.get(LeadId("L000")).version == 1
        ghost = attrs.evolve(_lead(99), version=1, pending_events=())
        with pytest.raises(NotFound):
            save_many(uow.leads, [ghost])


def test_rescore_store_scores_every_lead_in_batches_and_reports_progress() -> None:
    store = _store(7)
    reports: list[RescoreProgress] = []
    final = rescore_store(store, BCM_MODEL, at=AT, by=ADA, batch_size=3, progress=reports.append)
    assert [(r.seen, r.total) for r in reports] == [(3, 7), (6, 7), (7, 7)]
    assert final == reports[-1] == RescoreProgress(seen=7, rescored=7, unchanged=0, total=7)
    with store.unit_of_work() as uow:
        for lead in uow.leads.stream():
            assert not is_outdated(lead, BCM_MODEL)
            assert lead.score == score_lead(lead, BCM_MODEL, at=AT, by=ADA).score
    again = rescore_store(store, BCM_MODEL, at=AT, by=ADA, batch_size=3)
    assert (again.rescored, again.unchanged) == (0, 7)


def test_rescore_store_skips_leads_on_this_version_and_filters_by_query() -> None:
    store = _store(6)
    rescore_store(store, BCM_MODEL, at=AT, by=ADA, query=LeadQuery(text="Son1"))
    done = rescore_store(store, BCM_MODEL, at=AT, by=ADA, only_outdated=True)
    assert (done.seen, done.rescored) == (6, 5)


def test_rescore_store_checks_its_arguments() -> None:
    store = _store(1)
    with pytest.raises(InvalidValue) as naive:
        rescore_store(store, BCM_MODEL, at=datetime(2024, 1, 1), by=ADA)
    assert naive.value.field == "at"
    for size in (0, 100_001, True):
        with pytest.raises(InvalidValue) as caught:
            rescore_store(store, BCM_MODEL, at=AT, by=ADA, batch_size=size)
        assert caught.value.field == "batch_size"


class _RacingStore:
    """A memory store where another writer changes lead L001 right before the first bulk
    save (``conflicts`` times)."""

    def __init__(self, inner: MemoryStore, conflicts: int) -> None:
        self.inner = inner
        self.conflicts = conflicts

    def unit_of_work(self) -> Any:
        outer = self

        class Leads:
            def __init__(self, leads: Any) -> None:
                self._leads = leads

            def __getattr__(self, name: str) -> Any:
                if name == "rescore_page":  # the race is staged in the whole-lead path
                    raise AttributeError(name)
                return getattr(self._leads, name)

            def save_many(self, leads: Sequence[Lead]) -> tuple[Lead, ...]:
                if outer.conflicts:
                    outer.conflicts -= 1
                    with outer.inner.unit_of_work() as other:
                        lead = other.leads.get(LeadId("L001"))
                        other.leads.save(lead.update(LeadPatch(description="x"), at=AT, by=ADA))
                        other.commit()
                result: tuple[Lead, ...] = self._leads.save_many(leads)
                return result

        class Unit:
            def __init__(self) -> None:
                self._uow = outer.inner.unit_of_work()
                self.leads = Leads(self._uow.leads)

            def __enter__(self) -> Unit:
                self._uow.__enter__()
                return self

            def __exit__(self, *exc: object) -> None:
                self._uow.__exit__(None, None, None)

            def commit(self) -> None:
                self._uow.commit()

        return Unit()

    def close(self) -> None:
        self.inner.close()


def test_a_batch_that_meets_a_concurrent_change_is_read_and_scored_again() -> None:
    racing = _RacingStore(_store(3), conflicts=2)
    done = rescore_store(racing, BCM_MODEL, at=AT, by=ADA)
    assert (done.seen, done.rescored) == (3, 3)
    with racing.inner.unit_of_work() as uow:
        assert uow.leads.get(LeadId("L001")).description == "x"
        assert not is_outdated(uow.leads.get(LeadId("L001")), BCM_MODEL)
    stubborn = _RacingStore(_store(3), conflicts=3)
    with pytest.raises(ConcurrencyConflict):
        rescore_store(stubborn, BCM_MODEL, at=AT, by=ADA)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(min_value=0, max_value=12),
    shards=st.integers(min_value=1, max_value=4),
    batch=st.integers(min_value=1, max_value=5),
    outdated=st.booleans(),
)
def test_the_shards_of_a_rescoring_together_equal_one_unsharded_run(
    count: int, shards: int, batch: int, outdated: bool
) -> None:
    whole, parts = _store(count), _store(count)
    if outdated:  # some leads already scored
        for store in (whole, parts):
            rescore_store(store, BCM_MODEL, at=AT, by=ADA, query=LeadQuery(text="Son1"))
    one = rescore_store(whole, BCM_MODEL, at=AT, by=ADA, batch_size=batch, only_outdated=outdated)
    runs = [
        rescore_store(
            parts, BCM_MODEL, at=AT, by=ADA, batch_size=batch, only_outdated=outdated,
            shard=Shard(i, shards),
        )
        for i in range(shards)
    ]  # fmt: skip
    assert sum(r.seen for r in runs) == one.seen == count
    assert sum(r.rescored for r in runs) == one.rescored
    assert _snapshot(parts) == _snapshot(whole)
