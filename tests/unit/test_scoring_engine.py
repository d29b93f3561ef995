"""The scoring engine and the lead's scoring commands: formula, rounding, explanation, manual
override, blending, closed leads, events and JSON."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import pytest

from leadkit import (
    Budget,
    InvalidValue,
    Lead,
    LeadClosed,
    LeadEvent,
    LeadId,
    LeadkitConverter,
    LeadPatch,
    Money,
    Need,
    Rating,
    StatusReason,
    UserRef,
    make_converter,
    replay,
)
from leadkit.events import (
    EVENT_TYPES,
    CriterionTicked,
    CriterionUnticked,
    LeadScored,
    ManualScoreCleared,
    ManualScoreSet,
)
from leadkit.scoring import (
    BCM_MODEL,
    Blend,
    Criterion,
    Feature,
    FeatureCounts,
    Importance,
    IsSet,
    ManualScore,
    OneOf,
    PredictiveModel,
    Score,
    ScoreSource,
    ScoringModel,
    StarScale,
    ValueCount,
    is_outdated,
    quick_score,
    quick_scores,
    score,
    score_lead,
)

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LATER = AT + timedelta(days=1)
USER = UserRef("u1", "Ada")

# The worked example of docs/scoring.md.
DEMO = ScoringModel(
    id="demo",
    name="Demo",
    criteria=(
        Criterion(
            id="budget",
            description="Budget confirmed",
            importance=Importance.HIGH,
            rule=OneOf("budget", (Budget.CAN_BUY, Budget.WILL_BUY)),
        ),
        Criterion(id="timeframe", description="Buys this quarter", importance=Importance.NORMAL),
        Criterion(
            id="company",
            description="Company named",
            importance=Importance.LOW,
            rule=IsSet("company"),
        ),
    ),
)


@pytest.fixture(scope="module")
def converter() -> LeadkitConverter:
    return make_converter()


def make_lead(lead_id: str = "l1", **fields: Any) -> Lead:
    fields.setdefault("topic", "Fleet renewal")
    fields.setdefault("name", "Ada Lovelace")
    return Lead.create(LeadId(lead_id), LeadPatch(**fields), at=AT, by=USER)


def tick_all(lead: Lead, model: ScoringModel) -> Lead:
    for c in model.manual_criteria:
        lead = lead.tick_criterion(c.id, at=AT, by=USER)
    return lead


def best_lead() -> Lead:
    lead = make_lead(
        company="ACME",
        email="ada@example.com",
        business_phone="+46812345678",
        budget=Budget.WILL_BUY,
        need=Need.MUST_HAVE,
        purchase_timeframe="This Quarter",
        estimated_close_date=date(2024, 6, 1),
        estimated_value=Money("25000", "EUR"),
        source="Partner",
    )
    return tick_all(lead, BCM_MODEL)


# ---------------------------------------------------------------------------------------------
# The formula


def test_all_criteria_met_scores_100_with_every_star() -> None:
    result = score(best_lead(), BCM_MODEL, AT)
    assert result.value == 100
    assert result.stars == 5 == result.max_stars
    assert result.rating is Rating.HOT
    assert result.source is ScoreSource.CRITERIA
    assert all(c.met for c in result.explanation.contributions)


def test_no_criterion_met_scores_0_with_no_stars() -> None:
    result = score(make_lead(), BCM_MODEL, AT)
    assert result.value == 0
    assert result.stars == 0
    assert result.rating is Rating.COLD
    assert not any(c.met for c in result.explanation.contributions)


def test_the_worked_example_of_the_docs() -> None:
    lead = make_lead(budget=Budget.CAN_BUY, company="ACME")
    result = score(lead, DEMO, AT)
    # Met weight 3 + 1 = 4 of 6: 100 * 4 / 6 = 66.666... -> 66.67 (half up).
    assert result.value == Decimal("66.67")
    assert (result.stars, result.rating) == (3, Rating.WARM)
    explanation = result.explanation
    assert (explanation.met_weight, explanation.total_weight) == (Decimal(4), Decimal(6))
    points = {c.criterion_id: c.points for c in explanation.contributions}
    # Exact shares +25, -16.666..., +8.333...; the one hundredth left over goes to the larger
    # remainder, a tie broken by the smaller id ("company" < "timeframe").
    assert points == {
        "budget": Decimal("25.00"),
        "timeframe": Decimal("-16.67"),
        "company": Decimal("8.34"),
    }
    assert explanation.base == 50
    assert explanation.points_total == result.value == explanation.criteria_value
    assert [c.signed_weight for c in explanation.contributions] == [3, -2, 1]


def test_the_left_over_unit_goes_to_the_largest_remainder_not_the_smallest() -> None:
    weights = DEMO.set_weight("budget", 1).set_weight("timeframe", 2).set_weight("company", 4)
    lead = make_lead(budget=Budget.CAN_BUY, company="ACME").tick_criterion(
        "timeframe", at=AT, by=USER
    )
    result = score(lead, weights, AT)
    # Shares of 50 over weight 7: 7.1428..., 14.2857..., 28.5714...; rounded down they add up
    # to 49.99, and the one hundredth left goes to the largest remainder (timeframe, .57), not
    # to the smallest (company, .14) nor by id order (budget).
    points = {c.criterion_id: c.points for c in result.explanation.contributions}
    assert points == {
        "budget": Decimal("7.14"),
        "timeframe": Decimal("14.29"),
        "company": Decimal("28.57"),
    }
    assert result.value == 100


def test_the_score_is_a_hundred_times_the_met_share_of_the_weight() -> None:
    lead = make_lead(budget=Budget.CAN_BUY)
    for decimals, expected in [(0, "50"), (1, "50.0"), (4, "50.0000")]:
        m = DEMO.edit(decimals=decimals)
        assert str(score(lead, m, AT).value) == expected
    thirds = DEMO.set_weight("budget", 1).set_weight("company", 1).set_weight("timeframe", 1)
    assert score(lead, thirds, AT).value == Decimal("33.33")
    assert score(lead.tick_criterion("timeframe", at=AT, by=USER), thirds, AT).value == Decimal(
        "66.67"
    )


def test_half_a_unit_rounds_up() -> None:
    m = ScoringModel(
        id="m",
        name="m",
        decimals=0,
        criteria=tuple(Criterion(id=f"c{i}", description=f"c{i}") for i in range(8)),
    )
    lead = make_lead().tick_criterion("c0", at=AT, by=USER)
    assert score(lead, m, AT).value == 13  # 12.5 -> 13


def test_contributions_stay_within_one_unit_of_their_exact_share() -> None:
    m = BCM_MODEL.set_weight("reachable", "0.7").edit(decimals=1)
    lead = make_lead(budget=Budget.WILL_BUY, company="x").tick_criterion(
        "met_in_person", at=AT, by=USER
    )
    explanation = score(lead, m, AT).explanation
    total = Fraction(explanation.total_weight)
    for c in explanation.contributions:
        exact = Fraction(50) * Fraction(c.signed_weight) / total
        assert abs(Fraction(c.points) - exact) < Fraction(1, 10)
    assert explanation.points_total == explanation.criteria_value


def test_ticked_ids_no_model_knows_are_ignored() -> None:
    lead = make_lead().tick_criterion("not_in_any_model", at=AT, by=USER)
    assert score(lead, BCM_MODEL, AT).value == 0


def test_scoring_needs_an_aware_time() -> None:
    naive = datetime(2024, 5, 1)
    for run in (
        lambda: score(make_lead(), BCM_MODEL, naive),
        lambda: quick_score(make_lead(), BCM_MODEL, naive),
        lambda: list(quick_scores([make_lead()], BCM_MODEL, naive)),
    ):
        with pytest.raises(InvalidValue) as caught:
            run()
        assert (caught.value.field, caught.value.value) == ("at", naive)


def test_quick_scores_match_full_scores() -> None:
    leads = [
        make_lead(),
        best_lead(),
        make_lead(budget=Budget.CAN_BUY, company="x"),
        make_lead(need=Need.SHOULD_HAVE).set_manual_score(2, at=AT, by=USER),
    ]
    quick = list(quick_scores(leads, BCM_MODEL, AT))
    for lead, fast in zip(leads, quick, strict=True):
        full = score(lead, BCM_MODEL, AT)
        assert fast == (full.value, full.stars, full.rating, full.source)
        assert quick_score(lead, BCM_MODEL, AT) == fast


def test_the_explanation_reads_as_text() -> None:
    lines = score(make_lead(budget=Budget.CAN_BUY, company="ACME"), DEMO, AT).explanation.lines()
    assert lines[0] == "[x] Budget confirmed (rule, weight 3): +25.00"
    assert lines[1] == "[ ] Buys this quarter (ticked, weight 2): -16.67"
    assert lines[-1] == "criteria: 50.00 + contributions = 66.67 (met weight 4 of 6)"
    assert score(best_lead(), BCM_MODEL, AT).star_text == "\u2605" * 5


# ---------------------------------------------------------------------------------------------
# Manual override


def test_a_manual_override_wins_and_the_explanation_says_so() -> None:
    lead = best_lead().set_manual_score(1, at=AT, by=USER, reason="Budget frozen")
    result = score(lead, BCM_MODEL, LATER)
    assert result.source is ScoreSource.MANUAL
    assert (result.stars, result.value, result.rating) == (1, Decimal("20.00"), Rating.COLD)
    assert result.explanation.manual == lead.manual_score
    assert result.explanation.criteria_value == 100
    assert "manual override by Ada: 1 star: Budget frozen" in result.explanation.lines()[0]


def test_a_manual_override_wins_until_it_expires() -> None:
    expires = AT + timedelta(days=7)
    lead = make_lead().set_manual_score(5, at=AT, by=USER, expires_at=expires)
    assert score(lead, BCM_MODEL, expires - timedelta(microseconds=1)).stars == 5
    after = score(lead, BCM_MODEL, expires)
    assert after.source is ScoreSource.CRITERIA
    assert after.stars == 0
    assert after.explanation.manual is None
    assert after.explanation.expired_manual == lead.manual_score
    assert "expired" in after.explanation.lines()[0]


def test_a_quick_score_also_drops_an_expired_override() -> None:
    expires = AT + timedelta(days=7)
    lead = make_lead().set_manual_score(5, at=AT, by=USER, expires_at=expires)

    assert quick_score(lead, BCM_MODEL, expires - timedelta(microseconds=1)).stars == 5
    assert quick_score(lead, BCM_MODEL, expires) == quick_score(make_lead(), BCM_MODEL, expires)


def test_clearing_the_override_hands_the_score_back_to_the_criteria() -> None:
    lead = best_lead().set_manual_score(0, at=AT, by=USER)
    assert score(lead, BCM_MODEL, AT).value == 0
    cleared = lead.clear_manual_score(at=LATER, by=USER)
    assert cleared.manual_score is None
    assert score(cleared, BCM_MODEL, LATER).value == 100
    assert cleared.clear_manual_score(at=LATER, by=USER) is cleared


def test_manual_stars_beyond_the_model_scale_count_as_full_stars() -> None:
    m = BCM_MODEL.set_star_scale(StarScale.even(3))
    lead = make_lead().set_manual_score(5, at=AT, by=USER)
    result = score(lead, m, AT)
    assert (result.stars, result.max_stars, result.value) == (3, 3, Decimal(100))
    assert result.explanation.manual is not None
    assert result.explanation.manual.stars == 5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stars": -1},
        {"stars": 11},
        {"stars": True},
        {"stars": 3, "expires_at": AT},
        {"stars": 3, "expires_at": datetime(2025, 1, 1)},
        {"stars": 3, "reason": "x" * 501},
    ],
)
def test_a_bad_manual_score_is_refused(kwargs: dict[str, Any]) -> None:
    # A copy: parametrize shares the dict between runs, so the test must not change it.
    rest = dict(kwargs)
    stars = rest.pop("stars")
    with pytest.raises(InvalidValue):
        make_lead().set_manual_score(stars, at=AT, by=USER, **rest)


def test_setting_the_same_manual_score_again_changes_nothing() -> None:
    lead = make_lead().set_manual_score(3, at=AT, by=USER, reason="call went well")
    assert lead.set_manual_score(3, at=LATER, by=USER, reason="call went well") is lead
    changed = lead.set_manual_score(4, at=LATER, by=USER)
    event = changed.pending_events[-1]
    assert isinstance(event, ManualScoreSet)
    assert event.previous == lead.manual_score


# ---------------------------------------------------------------------------------------------
# Blending with a predictive probability


def coin_flip() -> PredictiveModel:
    return PredictiveModel(
        name="coin",
        features=(Feature("budget", "budget"),),
        alpha=1,
        won=1,
        lost=1,
        tables=(FeatureCounts("budget", (ValueCount("", 1, 1),)),),
    )


def test_a_blended_model_mixes_the_criteria_score_with_the_probability() -> None:
    m = DEMO.set_blend(Blend(3, 1))
    lead = make_lead(budget=Budget.CAN_BUY, company="x")  # criteria 66.666..., P = 0.5
    result = score(lead, m, AT, predictive=coin_flip())
    # (3 * 200/3 + 1 * 50) / 4 = 62.5
    assert result.value == Decimal("62.50")
    assert result.source is ScoreSource.BLENDED
    assert result.explanation.criteria_value == Decimal("66.67")
    assert result.explanation.predictive is not None
    assert result.explanation.predictive.probability == 0.5
    assert quick_score(lead, m, AT, predictive=coin_flip()).value == Decimal("62.50")
    assert any(line.startswith("blend:") for line in result.explanation.lines())


def test_a_blended_score_rounds_half_a_unit_up() -> None:
    m = DEMO.set_blend(Blend(1, 2))
    lead = make_lead(budget=Budget.CAN_BUY, company="x")  # criteria 200/3, P = 0.5
    # (1 * 200/3 + 2 * 50) / 3 = 500/9 = 55.555...
    assert score(lead, m, AT, predictive=coin_flip()).value == Decimal("55.56")
    assert quick_score(lead, m, AT, predictive=coin_flip()).value == Decimal("55.56")


def test_quick_scores_match_quick_score_with_or_without_a_blend() -> None:
    expires = AT + timedelta(days=1)
    leads = [
        make_lead(need=Need.SHOULD_HAVE).set_manual_score(2, at=AT, by=USER),
        make_lead(budget=Budget.CAN_BUY, company="x"),
        make_lead().set_manual_score(5, at=AT, by=USER, expires_at=expires),
        best_lead(),
    ]
    blended = DEMO.set_blend(Blend(1, 2))
    for model, predictive, at in (
        (DEMO, None, AT),
        (DEMO, None, expires),
        (blended, coin_flip(), AT),
        (blended, coin_flip(), expires),
    ):
        bulk = list(quick_scores(leads, model, at, predictive=predictive))
        assert bulk == [quick_score(lead, model, at, predictive=predictive) for lead in leads]
    assert [q.source for q in quick_scores(leads, blended, AT, predictive=coin_flip())] == [
        ScoreSource.MANUAL,
        ScoreSource.BLENDED,
        ScoreSource.MANUAL,
        ScoreSource.BLENDED,
    ]


def test_quick_scores_of_a_blend_need_the_predictive_model() -> None:
    with pytest.raises(InvalidValue) as caught:
        list(quick_scores([make_lead()], DEMO.set_blend(Blend(1, 1)), AT))

    assert caught.value.field == "predictive"


def test_a_blend_needs_a_predictive_model_and_only_a_blend_takes_one() -> None:
    blended = DEMO.set_blend(Blend(1, 1))
    with pytest.raises(InvalidValue) as missing:
        score(make_lead(), blended, AT)
    with pytest.raises(InvalidValue) as unexpected:
        score(make_lead(), DEMO, AT, predictive=coin_flip())

    assert (missing.value.field, missing.value.value, missing.value.reason) == (
        "predictive",
        None,
        f"model {blended.key} blends a predictive probability; pass the trained model",
    )
    assert (unexpected.value.field, unexpected.value.value, unexpected.value.reason) == (
        "predictive",
        coin_flip().id,
        f"model {DEMO.key} does not blend a predictive score",
    )


def test_a_manual_override_wins_over_a_blend() -> None:
    lead = make_lead().set_manual_score(4, at=AT, by=USER)
    result = score(lead, DEMO.set_blend(Blend(1, 1)), AT, predictive=coin_flip())
    assert (result.source, result.stars) == (ScoreSource.MANUAL, 4)


# ---------------------------------------------------------------------------------------------
# The lead's scoring commands and events


def test_ticking_is_recorded_and_ticking_twice_changes_nothing() -> None:
    lead = make_lead()
    ticked = lead.tick_criterion("met_in_person", at=AT, by=USER)
    assert ticked.ticked_criteria == {"met_in_person"}
    assert isinstance(ticked.pending_events[-1], CriterionTicked)
    assert ticked.tick_criterion("met_in_person", at=LATER, by=USER) is ticked
    unticked = ticked.untick_criterion("met_in_person", at=LATER, by=USER)
    assert unticked.ticked_criteria == frozenset()
    assert isinstance(unticked.pending_events[-1], CriterionUnticked)
    assert unticked.untick_criterion("met_in_person", at=LATER, by=USER) is unticked
    assert unticked.modified_at == LATER


def test_a_malformed_criterion_id_is_refused() -> None:
    with pytest.raises(InvalidValue):
        make_lead().tick_criterion("Not An Id", at=AT, by=USER)


def test_score_lead_records_the_full_result_and_is_idempotent() -> None:
    lead = make_lead(budget=Budget.CAN_BUY, company="x")
    scored = score_lead(lead, DEMO, at=LATER, by=USER)
    event = scored.pending_events[-1]
    assert isinstance(event, LeadScored)
    assert event.score == score(lead, DEMO, LATER)
    assert event.previous is None
    assert (scored.score, scored.stars, scored.score_rating) == (
        Decimal("66.67"),
        3,
        Rating.WARM,
    )
    assert (scored.score_model, scored.score_model_version) == ("demo", 1)
    assert scored.modified_at == AT  # a score is derived data, not an edit
    assert score_lead(scored, DEMO, at=LATER, by=USER) is scored
    assert not is_outdated(scored, DEMO)
    assert is_outdated(scored, DEMO.set_weight("company", 2))
    assert is_outdated(lead, DEMO)


def test_a_score_of_another_lead_is_refused() -> None:
    other = score(make_lead("l2"), DEMO, AT)
    with pytest.raises(InvalidValue, match="not a score of lead l1"):
        make_lead("l1").record_score(other, at=AT, by=USER)


def test_closed_leads_are_scored_but_their_criteria_and_overrides_are_read_only() -> None:
    lead = make_lead(budget=Budget.CAN_BUY).tick_criterion("timeframe", at=AT, by=USER)
    lost = lead.disqualify(StatusReason.LOST, at=AT, by=USER)
    rescored = score_lead(lost, DEMO, at=LATER, by=USER)
    assert rescored.score == Decimal("83.33")
    won = lead.mark_qualified(at=AT, by=USER)
    assert score_lead(won, DEMO, at=LATER, by=USER).stars == 4
    edits: list[Callable[[Lead], Lead]] = [
        lambda x: x.tick_criterion("company", at=LATER, by=USER),
        lambda x: x.untick_criterion("timeframe", at=LATER, by=USER),
        lambda x: x.set_manual_score(3, at=LATER, by=USER),
        lambda x: x.clear_manual_score(at=LATER, by=USER),
    ]
    for edit in edits:
        with pytest.raises(LeadClosed):
            edit(lost)


def test_every_scoring_event_is_registered_and_replays() -> None:
    for kind in (
        CriterionTicked,
        CriterionUnticked,
        ManualScoreSet,
        ManualScoreCleared,
        LeadScored,
    ):
        assert EVENT_TYPES[kind.__name__] is kind
    lead = make_lead(budget=Budget.CAN_BUY)
    lead = lead.tick_criterion("timeframe", at=AT, by=USER)
    lead = lead.tick_criterion("company", at=AT, by=USER)
    lead = lead.untick_criterion("company", at=AT, by=USER)
    lead = lead.set_manual_score(2, at=AT, by=USER, expires_at=LATER)
    lead = score_lead(lead, DEMO, at=AT, by=USER)
    lead = lead.clear_manual_score(at=LATER, by=USER)
    lead = score_lead(lead, DEMO, at=LATER, by=USER)
    lead = lead.disqualify(StatusReason.LOST, at=LATER, by=USER)
    lead = score_lead(lead, DEMO.set_weight("budget", 1), at=LATER, by=USER)
    assert replay(lead.pending_events) == lead.clear_events()
    assert lead.score_model_version == 2


def test_scoring_events_and_leads_survive_a_json_round_trip(converter: LeadkitConverter) -> None:
    lead = best_lead().set_manual_score(4, at=AT, by=USER, reason="gut feeling", expires_at=LATER)
    lead = score_lead(lead, BCM_MODEL, at=AT, by=USER)
    lead = lead.clear_manual_score(at=LATER, by=USER)
    blended = score_lead(
        lead, DEMO.set_blend(Blend("0.8", "0.2")), at=LATER, by=USER, predictive=coin_flip()
    )
    for event in blended.pending_events:
        assert converter.loads(converter.dumps(event), LeadEvent) == event
    stored = blended.clear_events()
    assert converter.loads(converter.dumps(stored), Lead) == stored
    data = converter.unstructure(stored)
    assert data["ticked_criteria"] == sorted(stored.ticked_criteria)
    assert data["score"] == "63.33"  # (0.8 * 200/3 + 0.2 * 50)
    last = blended.pending_events[-1]
    assert isinstance(last, LeadScored)
    assert converter.loads(converter.dumps(last.score), Score) == last.score
    assert (
        converter.loads(converter.dumps(lead.pending_events[-1]), LeadEvent)
        == (lead.pending_events[-1])
    )


def test_a_malformed_score_is_refused_when_read(converter: LeadkitConverter) -> None:
    result = score(best_lead(), BCM_MODEL, AT)
    data = converter.unstructure(result)
    data["value"] = "100.5"
    with pytest.raises(InvalidValue):
        converter.structure(data, Score)
    with pytest.raises(InvalidValue):
        attrs.evolve(result, stars=6)


def test_manual_scores_survive_a_json_round_trip(converter: LeadkitConverter) -> None:
    manual = ManualScore(stars=3, author=USER, at=AT, reason="x", expires_at=LATER)
    assert converter.loads(converter.dumps(manual), ManualScore) == manual
