"""Scoring properties: bounds, monotone ticks, order independence, exact explanations, manual
overrides, replay and JSON round trips, order-independent training."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

import attrs
from hypothesis import given
from hypothesis import strategies as st

from leadkit import (
    Budget,
    Lead,
    LeadEvent,
    LeadId,
    LeadPatch,
    LeadSource,
    Money,
    Need,
    StatusReason,
    UserRef,
    make_converter,
    replay,
)
from leadkit.scoring import (
    AllOf,
    AnyOf,
    AtLeast,
    AtMost,
    Contains,
    Criterion,
    Equals,
    Importance,
    ImportanceWeights,
    IsSet,
    Not,
    OneOf,
    Predicate,
    PredictiveModel,
    RatingThresholds,
    Score,
    ScoreSource,
    ScoringModel,
    StarScale,
    Ticked,
    Window,
    WithinDays,
    quick_scores,
    score,
    score_lead,
    train,
)

AT: Final = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
USER: Final = UserRef("u1", "Ada")
IDS: Final = tuple(f"c{i}" for i in range(8))
CONVERTER: Final = make_converter()

RULES: Final[tuple[Predicate, ...]] = (
    Ticked(),
    Ticked(),
    IsSet("email"),
    IsSet("company"),
    OneOf("budget", (Budget.CAN_BUY, Budget.WILL_BUY)),
    Equals("need", Need.MUST_HAVE),
    AtLeast("estimated_value", 5000, currency="EUR"),
    AtMost("estimated_value", 15000),
    WithinDays("estimated_close_date", 90, Window.AHEAD),
    Contains("company", "ac"),
    OneOf("source", (LeadSource.PARTNER, LeadSource.WEB)),
    AnyOf((Ticked(), IsSet("email"))),
    AllOf((IsSet("company"), Ticked())),
    Not(IsSet("email")),
)

weights = st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal(1000), places=3, allow_nan=False
)


@st.composite
def models(draw: st.DrawFn) -> ScoringModel:
    count = draw(st.integers(1, len(IDS)))
    criteria = tuple(
        Criterion(
            id=IDS[i],
            description=f"Criterion {i}",
            importance=draw(st.sampled_from(Importance)),
            rule=draw(st.sampled_from(RULES)),
            weight=draw(st.none() | weights),
        )
        for i in range(count)
    )
    hot = draw(st.integers(0, 100))
    return ScoringModel(
        id="prop",
        name="Property model",
        criteria=criteria,
        weights=ImportanceWeights(draw(weights), draw(weights), draw(weights)),
        stars=StarScale.even(draw(st.integers(1, 10))),
        ratings=RatingThresholds(hot=hot, warm=draw(st.integers(0, hot))),
        decimals=draw(st.integers(0, 4)),
    )


@st.composite
def leads(draw: st.DrawFn, lead_id: str | None = None) -> Lead:
    days = st.integers(-200, 200).map(lambda d: AT.date() + timedelta(days=d))
    amounts = st.builds(Money, st.integers(0, 20000), st.sampled_from(["EUR", "USD"]))
    fields: dict[str, Any] = {
        "topic": "Deal",
        "name": "Ada Lovelace",
        "budget": draw(st.none() | st.sampled_from(Budget)),
        "need": draw(st.none() | st.sampled_from(Need)),
        "source": draw(st.none() | st.sampled_from(LeadSource)),
        "company": draw(st.sampled_from(["", "ACME", "Globex", "Acorn Ltd"])),
        "email": draw(st.sampled_from([None, "ada@example.com"])),
        "estimated_value": draw(st.none() | amounts),
        "estimated_close_date": draw(st.none() | days),
    }
    ident = lead_id or draw(st.sampled_from(["l1", "l2", "l3"]))
    lead = Lead.create(LeadId(ident), LeadPatch(**fields), at=AT, by=USER)
    for criterion_id in sorted(draw(st.sets(st.sampled_from(IDS)))):
        lead = lead.tick_criterion(criterion_id, at=AT, by=USER)
    return lead


times = st.integers(0, 400).map(lambda d: AT + timedelta(days=d, hours=d % 7))


def unit(model: ScoringModel) -> Fraction:
    return Fraction(1, 10**model.decimals)


# ---------------------------------------------------------------------------------------------


@given(lead=leads(), model=models(), at=times)
def test_a_score_is_within_bounds_and_consistent(
    lead: Lead, model: ScoringModel, at: datetime
) -> None:
    result = score(lead, model, at)
    assert 0 <= result.value <= 100
    assert result.value.as_tuple().exponent == -model.decimals
    assert 0 <= result.stars <= result.max_stars == model.max_stars
    assert result.stars == model.stars.stars_for(result.value)
    assert result.rating is model.ratings.rating_for(result.value)
    assert (result.model_id, result.model_version) == (model.id, model.version)


@given(lead=leads(), model=models(), criterion_id=st.sampled_from(IDS), at=times)
def test_ticking_a_criterion_never_lowers_the_score(
    lead: Lead, model: ScoringModel, criterion_id: str, at: datetime
) -> None:
    lead = lead.untick_criterion(criterion_id, at=AT, by=USER)
    before = score(lead, model, at)
    after = score(lead.tick_criterion(criterion_id, at=AT, by=USER), model, at)
    assert after.value >= before.value
    assert after.stars >= before.stars


@given(lead=leads(), model=models(), order=st.randoms(use_true_random=False), at=times)
def test_the_score_does_not_depend_on_the_order_of_the_criteria(
    lead: Lead, model: ScoringModel, order: Any, at: datetime
) -> None:
    criteria = list(model.criteria)
    order.shuffle(criteria)
    shuffled = attrs.evolve(model, criteria=tuple(criteria))
    a, b = score(lead, model, at), score(lead, shuffled, at)
    assert (a.value, a.stars, a.rating) == (b.value, b.stars, b.rating)
    by_id = {c.criterion_id: c for c in a.explanation.contributions}
    assert all(by_id[c.criterion_id] == c for c in b.explanation.contributions)


@given(lead=leads(), model=models(), at=times)
def test_the_contributions_add_up_to_the_score_exactly(
    lead: Lead, model: ScoringModel, at: datetime
) -> None:
    result = score(lead, model, at)
    explanation = result.explanation
    assert result.source is ScoreSource.CRITERIA
    assert explanation.points_total == explanation.criteria_value == result.value
    assert [c.criterion_id for c in explanation.contributions] == [c.id for c in model.criteria]
    total = Fraction(model.total_weight)
    assert Fraction(explanation.total_weight) == total
    exact_value = 100 * Fraction(explanation.met_weight) / total
    assert abs(Fraction(result.value) - exact_value) <= unit(model) / 2
    for c in explanation.contributions:
        assert c.weight == model.weight_of(model.criterion(c.criterion_id))
        exact = 50 * Fraction(c.signed_weight) / total
        assert abs(Fraction(c.points) - exact) <= unit(model)
        assert c.points >= 0 if c.met else c.points <= 0


@given(
    lead=leads(),
    model=models(),
    stars=st.integers(0, 10),
    lifetime=st.none() | st.integers(1, 100),
    at=times,
)
def test_a_manual_override_always_wins_until_cleared_or_expired(
    lead: Lead, model: ScoringModel, stars: int, lifetime: int | None, at: datetime
) -> None:
    expires = None if lifetime is None else AT + timedelta(days=lifetime)
    overridden = lead.set_manual_score(stars, at=AT, by=USER, expires_at=expires)
    result = score(overridden, model, at)
    plain = score(lead, model, at)
    if expires is None or at < expires:
        assert result.source is ScoreSource.MANUAL
        assert result.stars == min(stars, model.max_stars)
        assert result.explanation.manual == overridden.manual_score
    else:
        assert (result.value, result.source) == (plain.value, ScoreSource.CRITERIA)
        assert result.explanation.expired_manual == overridden.manual_score
    cleared = overridden.clear_manual_score(at=AT, by=USER)
    assert score(cleared, model, at) == plain


@given(
    batch=st.lists(leads(), min_size=1, max_size=6),
    model=models(),
    order=st.randoms(use_true_random=False),
    at=times,
)
def test_scores_do_not_depend_on_the_order_leads_are_scored_in(
    batch: list[Lead], model: ScoringModel, order: Any, at: datetime
) -> None:
    batch = [attrs.evolve(lead, id=LeadId(f"l{i}")) for i, lead in enumerate(batch)]
    shuffled = list(batch)
    order.shuffle(shuffled)
    forward = {lead.id: score(lead, model, at) for lead in batch}
    backward = {lead.id: score(lead, model, at) for lead in shuffled}
    assert forward == backward
    quick = dict(zip((x.id for x in shuffled), quick_scores(shuffled, model, at), strict=True))
    assert all(quick[i] == (s.value, s.stars, s.rating, s.source) for i, s in forward.items())


@given(lead=leads(), model=models(), at=times)
def test_models_scores_and_scoring_events_survive_a_json_round_trip(
    lead: Lead, model: ScoringModel, at: datetime
) -> None:
    assert CONVERTER.loads(CONVERTER.dumps(model), ScoringModel) == model
    result = score(lead, model, at)
    assert CONVERTER.loads(CONVERTER.dumps(result), Score) == result
    scored = score_lead(lead, model, at=at, by=USER)
    for event in scored.pending_events:
        assert CONVERTER.loads(CONVERTER.dumps(event), LeadEvent) == event
    assert CONVERTER.loads(CONVERTER.dumps(scored), Lead) == scored.clear_events()


Step = Callable[[Lead, ScoringModel, datetime], Lead]

steps = st.sampled_from(IDS).flatmap(
    lambda cid: st.sampled_from(
        [
            lambda x, m, t: x.tick_criterion(cid, at=t, by=USER),
            lambda x, m, t: x.untick_criterion(cid, at=t, by=USER),
        ]
    )
) | st.sampled_from(
    [
        lambda x, m, t: x.set_manual_score(3, at=t, by=USER, expires_at=t + timedelta(days=2)),
        lambda x, m, t: x.clear_manual_score(at=t, by=USER),
        lambda x, m, t: score_lead(x, m, at=t, by=USER),
    ]
)


@given(lead=leads(), model=models(), program=st.lists(steps, max_size=12), close=st.booleans())
def test_replaying_scoring_events_rebuilds_the_lead(
    lead: Lead, model: ScoringModel, program: list[Step], close: bool
) -> None:
    for day, step in enumerate(program, start=1):
        lead = step(lead, model, AT + timedelta(days=day))
    if close:
        lead = lead.disqualify(StatusReason.LOST, at=AT + timedelta(days=50), by=USER)
        lead = score_lead(lead, model, at=AT + timedelta(days=51), by=USER)
    assert replay(lead.pending_events) == lead.clear_events()


BUDGETS: Final = (None, Budget.NO_COMMITTED_BUDGET, Budget.CAN_BUY, Budget.WILL_BUY)
SOURCES: Final = (None, LeadSource.WEB, LeadSource.PARTNER, LeadSource.SEMINAR)


def closed_lead(i: int, row: tuple[int, int, bool, bool, bool]) -> Lead:
    budget, source, email, company, won = row
    fields: dict[str, Any] = {
        "topic": "Deal",
        "name": "Ada Lovelace",
        "budget": BUDGETS[budget],
        "source": SOURCES[source],
        "email": "ada@example.com" if email else None,
        "company": "ACME" if company else "",
    }
    lead = Lead.create(LeadId(f"h{i}"), LeadPatch(**fields), at=AT, by=USER)
    if won or i < 40:  # at least 40 won and (below) 40 lost
        return lead.mark_qualified(at=AT, by=USER)
    return lead.disqualify(StatusReason.LOST, at=AT, by=USER)


rows = st.tuples(st.integers(0, 3), st.integers(0, 3), st.booleans(), st.booleans(), st.booleans())
histories = st.lists(rows, min_size=40, max_size=60).map(
    lambda drawn: (
        [closed_lead(i, row) for i, row in enumerate(drawn)]
        + [closed_lead(100 + i, (i % 4, i % 3, i % 2 == 0, i % 5 == 0, False)) for i in range(40)]
    )
)


@given(history=histories, order=st.randoms(use_true_random=False), probe=leads())
def test_training_does_not_depend_on_the_order_of_the_leads(
    history: list[Lead], order: Any, probe: Lead
) -> None:
    shuffled = list(history)
    order.shuffle(shuffled)
    model, again = train(history), train(shuffled)
    assert model == again
    assert model.id == again.id
    assert model.explain(probe) == again.explain(probe)
    assert 0.01 <= model.probability(probe) <= 0.99
    assert CONVERTER.loads(CONVERTER.dumps(model), PredictiveModel) == model
