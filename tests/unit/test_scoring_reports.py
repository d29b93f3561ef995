"""Score reports as data and bulk rescoring through a repository."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest

from leadkit import (
    Budget,
    InvalidValue,
    Lead,
    LeadId,
    LeadPatch,
    LeadSource,
    Money,
    Need,
    NotFound,
    PurchaseTimeframe,
    Rating,
    UserRef,
)
from leadkit.bulk import rescore_repository
from leadkit.events import LeadScored
from leadkit.ports import LeadQuery
from leadkit.scoring import (
    BCM_MODEL,
    NOT_SCORED,
    RescoreProgress,
    ScoreBand,
    ScoringModel,
    is_outdated,
    leads_by_owner,
    leads_by_owner_and_rating,
    leads_by_score_band,
    leads_by_stars,
    rescore,
    score_distribution,
    score_lead,
)

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ADA = UserRef("ada", "Ada")
BOB = UserRef("bob", "Bob")


def make_lead(lead_id: str, owner: UserRef = ADA, **fields: Any) -> Lead:
    fields.setdefault("topic", "Deal")
    fields.setdefault("name", "Ada Lovelace")
    return Lead.create(LeadId(lead_id), LeadPatch(**fields), at=AT, by=ADA, owner=owner)


def scored(lead_id: str, owner: UserRef = ADA, ticks: int = 0, **fields: Any) -> Lead:
    lead = make_lead(lead_id, owner, **fields)
    for criterion in BCM_MODEL.manual_criteria[:ticks]:
        lead = lead.tick_criterion(criterion.id, at=AT, by=ADA)
    return score_lead(lead, BCM_MODEL, at=AT, by=ADA).clear_events()


@pytest.fixture(scope="module")
def leads() -> list[Lead]:
    return [
        scored("a1", ADA, budget=Budget.WILL_BUY, need=Need.MUST_HAVE),  # 6 of 19
        scored("a2", ADA, ticks=4, budget=Budget.WILL_BUY),  # 11 of 19
        scored("a3", ADA),  # 0
        make_lead("a4", ADA),  # not scored
        scored(
            "b1",
            BOB,
            ticks=4,
            company="ACME",
            purchase_timeframe=PurchaseTimeframe.THIS_QUARTER,
            source=LeadSource.PARTNER,
            estimated_value=Money("100", "EUR"),
        ),  # 16 of 19
        scored("b2", BOB, ticks=1),  # 3 of 19
    ]


def test_the_fixture_scores(leads: list[Lead]) -> None:
    assert [(x.score, x.stars, x.score_rating) for x in leads] == [
        (Decimal("31.58"), 2, Rating.COLD),
        (Decimal("57.89"), 3, Rating.WARM),
        (Decimal("0.00"), 0, Rating.COLD),
        (None, None, None),
        (Decimal("84.21"), 4, Rating.HOT),
        (Decimal("15.79"), 1, Rating.COLD),
    ]


def test_the_score_distribution(leads: list[Lead]) -> None:
    d = score_distribution(leads)
    assert (d.scored, d.unscored) == (5, 1)
    assert [b.count for b in d.buckets] == [1, 1, 0, 1, 0, 1, 0, 0, 1, 0]
    assert (d.buckets[0].low, d.buckets[-1].high) == (Decimal(0), Decimal(100))
    assert d.mean == Decimal("37.89")  # 189.47 / 5
    assert d.median == Decimal("31.58")
    assert (d.lowest, d.highest) == (Decimal("0.00"), Decimal("84.21"))
    assert score_distribution(leads[::-1]) == d
    assert score_distribution(leads[:4], width=50).median == Decimal("31.58")
    assert score_distribution(leads[:2], width=25).median == Decimal("44.74")  # 44.735


def test_a_perfect_score_falls_in_the_last_bucket() -> None:
    lead = attrs.evolve(make_lead("p"), score=Decimal("100.00"))
    assert score_distribution([lead], width=20).buckets[-1].count == 1
    empty = score_distribution([])
    assert (empty.mean, empty.median, empty.lowest) == (None, None, None)
    with pytest.raises(InvalidValue):
        score_distribution([], width=30)


def test_leads_by_score_band_best_first_then_not_scored(leads: list[Lead]) -> None:
    rows = leads_by_score_band(leads)
    assert [(r.label, r.count) for r in rows] == [
        ("80-100", 1),
        ("60-80", 0),
        ("40-60", 1),
        ("20-40", 1),
        ("0-20", 2),
        (NOT_SCORED, 1),
    ]
    assert [i.value for i in rows[4].lead_ids] == ["b2", "a3"]
    assert rows[4].mean_score == Decimal("7.90")  # (15.79 + 0) / 2 = 7.895
    assert rows[-1].mean_score is None
    custom = leads_by_score_band(leads, [ScoreBand("top", 50, 100)])
    assert [(r.label, r.count) for r in custom] == [("top", 2), (NOT_SCORED, 4)]
    with pytest.raises(InvalidValue):
        ScoreBand("bad", 50, 40)


def test_leads_by_stars(leads: list[Lead]) -> None:
    rows = leads_by_stars(leads)
    assert [(r.label, r.count) for r in rows] == [
        ("4 stars", 1),
        ("3 stars", 1),
        ("2 stars", 1),
        ("1 star", 1),
        ("0 stars", 1),
        (NOT_SCORED, 1),
    ]


def test_leads_by_owner(leads: list[Lead]) -> None:
    rows = leads_by_owner(leads)
    assert [(r.key, r.label, r.count) for r in rows] == [(("ada",), "Ada", 4), (("bob",), "Bob", 2)]
    assert [i.value for i in rows[0].lead_ids] == ["a2", "a1", "a3", "a4"]
    assert rows[0].mean_score == Decimal("29.82")  # (31.58 + 57.89 + 0) / 3
    assert leads_by_owner(leads[::-1]) == rows


def test_leads_by_owner_and_rating(leads: list[Lead]) -> None:
    rows = leads_by_owner_and_rating(leads)
    assert [(r.key, r.count) for r in rows] == [
        (("ada", "Warm"), 1),
        (("ada", "Cold"), 2),
        (("ada", NOT_SCORED), 1),
        (("bob", "Hot"), 1),
        (("bob", "Cold"), 1),
    ]
    assert rows[0].label == "Ada / Warm"
    assert leads_by_owner_and_rating(reversed(leads)) == rows


# ---------------------------------------------------------------------------------------------
# Bulk rescoring


class FakeLeadRepository:
    """Just enough of LeadRepository for rescoring: stream, count and save with versions."""

    def __init__(self, leads: list[Lead]) -> None:
        self.leads = {x.id: attrs.evolve(x.clear_events(), version=1) for x in leads}
        self.saved: list[Lead] = []
        self.stream_batch_sizes: list[int] = []

    def count(self, query: LeadQuery) -> int:
        return sum(1 for x in self.leads.values() if query.matches(x))

    def stream(self, query: LeadQuery | None = None, *, batch_size: int = 500) -> Iterator[Lead]:
        self.stream_batch_sizes.append(batch_size)
        query = query or LeadQuery()
        for lead in sorted(self.leads.values(), key=lambda x: x.id.value):
            if query.matches(lead):
                yield lead

    def save(self, lead: Lead) -> Lead:
        if lead.id not in self.leads:
            raise NotFound("lead", lead.id)
        assert self.leads[lead.id].version == lead.version
        self.saved.append(lead)
        stored = attrs.evolve(lead, version=lead.version + 1, pending_events=())
        self.leads[lead.id] = stored
        return stored


def test_rescore_yields_only_the_leads_whose_score_changed(leads: list[Lead]) -> None:
    changed = list(rescore(leads, BCM_MODEL, at=AT, by=ADA))
    assert [x.id.value for x in changed] == ["a4"]
    heavier = BCM_MODEL.set_weight("budget_confirmed", 10)
    assert len(list(rescore(leads, heavier, at=AT, by=ADA))) == 6  # a new version: all
    assert list(rescore(leads, heavier, at=AT, by=ADA, only_outdated=True))


def test_bulk_rescoring_streams_saves_changes_and_reports_progress(leads: list[Lead]) -> None:
    repository = FakeLeadRepository(leads)
    model = BCM_MODEL.set_weight("need_confirmed", 1)
    reports: list[RescoreProgress] = []
    final = rescore_repository(
        repository,  # type: ignore[arg-type]
        model,
        at=AT,
        by=ADA,
        batch_size=4,
        progress=reports.append,
    )
    assert reports == [
        RescoreProgress(seen=4, rescored=4, unchanged=0, total=6),
        RescoreProgress(seen=6, rescored=6, unchanged=0, total=6),
    ]
    assert final == reports[-1]
    assert reports[0].fraction == pytest.approx(4 / 6)
    assert repository.stream_batch_sizes == [4]
    assert all(isinstance(x.pending_events[-1], LeadScored) for x in repository.saved)
    assert not any(is_outdated(x, model) for x in repository.leads.values())
    again = rescore_repository(repository, model, at=AT, by=ADA)  # type: ignore[arg-type]
    assert (again.rescored, again.unchanged) == (0, 6)


def test_bulk_rescoring_can_skip_leads_already_on_this_version(leads: list[Lead]) -> None:
    repository = FakeLeadRepository(leads)
    result = rescore_repository(
        repository,  # type: ignore[arg-type]
        BCM_MODEL,
        at=AT,
        by=ADA,
        only_outdated=True,
        query=LeadQuery(owner_id="ada"),
    )
    assert (result.seen, result.rescored, result.total) == (4, 1, 4)
    assert [x.id.value for x in repository.saved] == ["a4"]


def test_bulk_rescoring_checks_its_arguments(leads: list[Lead]) -> None:
    repository = FakeLeadRepository(leads)
    with pytest.raises(InvalidValue):
        rescore_repository(repository, BCM_MODEL, at=AT, by=ADA, batch_size=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        rescore_repository(
            repository,  # type: ignore[arg-type]
            BCM_MODEL,
            at=datetime(2024, 1, 1),
            by=ADA,
        )
    empty: list[RescoreProgress] = []
    rescore_repository(
        FakeLeadRepository([]),  # type: ignore[arg-type]
        BCM_MODEL,
        at=AT,
        by=ADA,
        progress=empty.append,
    )
    assert empty == [RescoreProgress(seen=0, rescored=0, unchanged=0, total=0)]


def test_bulk_rescoring_through_the_memory_store(leads: list[Lead]) -> None:
    memory = pytest.importorskip("leadkit.adapters.memory")
    store = memory.MemoryStore()
    with store.unit_of_work() as uow:
        for lead in leads:
            uow.leads.add(attrs.evolve(lead, version=0))
        uow.commit()
    model: ScoringModel = BCM_MODEL.set_weight("company_known", 4)
    seen: list[RescoreProgress] = []
    with store.unit_of_work() as uow:
        result = rescore_repository(uow.leads, model, at=AT, by=ADA, progress=seen.append)
        events = list(uow.events)
        uow.commit()
    assert (result.seen, result.total) == (6, 6)
    assert result.rescored == 6
    assert len(events) == 6
    assert seen == [result]
    with store.unit_of_work() as uow:
        stored = list(uow.leads.stream())
    assert {x.score_model_version for x in stored} == {2}
