"""Predictive scoring: naive Bayes training, smoothing, the minimum sample, clamping,
explanations, order independence, the backtest and JSON."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from leadkit import (
    Address,
    Budget,
    ConfigurationError,
    InvalidValue,
    Lead,
    LeadId,
    LeadkitConverter,
    LeadPatch,
    LeadSource,
    Need,
    OptionValue,
    PurchaseTimeframe,
    Rating,
    StatusReason,
    UserRef,
    make_converter,
)
from leadkit.scoring import (
    DEFAULT_FEATURES,
    Feature,
    FeatureKind,
    InsufficientTrainingData,
    PredictiveModel,
    auc,
    backtest,
    holdout_bucket,
    outcome,
    train,
)

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
USER = UserRef("u1", "Ada")


def make_lead(lead_id: str, **fields: Any) -> Lead:
    fields.setdefault("topic", "Deal")
    fields.setdefault("name", "Ada Lovelace")
    return Lead.create(LeadId(lead_id), LeadPatch(**fields), at=AT, by=USER)


def won(lead: Lead) -> Lead:
    return lead.mark_qualified(at=AT, by=USER)


def lost(lead: Lead) -> Lead:
    return lead.disqualify(StatusReason.LOST, at=AT, by=USER)


def history(n_won: int = 60, n_lost: int = 60) -> list[Lead]:
    """Won leads mostly have a budget and come from partners; lost ones mostly not."""
    leads = []
    for i in range(n_won):
        leads.append(
            won(
                make_lead(
                    f"w{i}",
                    budget=Budget.WILL_BUY if i % 4 else Budget.MAY_BUY,
                    source=LeadSource.PARTNER if i % 3 else LeadSource.WEB,
                    email="a@example.com" if i % 2 else None,
                )
            )
        )
    for i in range(n_lost):
        leads.append(
            lost(
                make_lead(
                    f"x{i}",
                    budget=Budget.NO_COMMITTED_BUDGET if i % 4 else Budget.WILL_BUY,
                    source=LeadSource.WEB if i % 3 else LeadSource.PARTNER,
                    email="a@example.com" if i % 5 == 0 else None,
                )
            )
        )
    return leads


@pytest.fixture(scope="module")
def leads() -> list[Lead]:
    return history()


@pytest.fixture(scope="module")
def model(leads: list[Lead]) -> PredictiveModel:
    return train(leads)


# ---------------------------------------------------------------------------------------------
# Training


def test_won_is_qualified_lost_is_disqualified_and_open_teaches_nothing() -> None:
    lead = make_lead("a")
    assert outcome(lead) is None
    assert outcome(won(lead)) is True
    assert outcome(lost(lead)) is False


def test_training_refuses_fewer_than_40_won_or_lost_leads() -> None:
    with pytest.raises(InsufficientTrainingData) as caught:
        train(history(39, 50))
    assert (caught.value.won, caught.value.lost, caught.value.minimum) == (39, 50, 40)
    assert "at least 40 won" in str(caught.value)
    with pytest.raises(InsufficientTrainingData):
        train(history(40, 39))
    with pytest.raises(InsufficientTrainingData):
        train([make_lead(f"o{i}") for i in range(100)])
    assert isinstance(train(history(40, 40)), PredictiveModel)


def test_the_minimum_may_be_raised_but_not_lowered(leads: list[Lead]) -> None:
    with pytest.raises(ConfigurationError):
        train(leads, minimum=39)
    with pytest.raises(InsufficientTrainingData):
        train(leads, minimum=61)


def test_open_leads_are_skipped(leads: list[Lead], model: PredictiveModel) -> None:
    assert train([*leads, make_lead("open1"), make_lead("open2")]) == model
    assert (model.won, model.lost) == (60, 60)


def test_training_does_not_depend_on_the_order_of_the_leads(
    leads: list[Lead], model: PredictiveModel
) -> None:
    shuffled = leads[::-1]
    interleaved = leads[::2] + leads[1::2]
    for order in (shuffled, interleaved):
        again = train(order)
        assert again == model
        assert again.id == model.id
        assert [again.probability(x) for x in leads] == [model.probability(x) for x in leads]


def test_laplace_smoothing_gives_the_documented_log_odds(model: PredictiveModel) -> None:
    # Budget among won: WILL_BUY 45, MAY_BUY 15; among lost: NO_COMMITTED 45, WILL_BUY 15.
    table = next(t for t in model.tables if t.feature == "budget")
    counts = {c.value: (c.won, c.lost) for c in table.counts}
    assert counts == {"MAY_BUY": (15, 0), "NO_COMMITTED_BUDGET": (0, 45), "WILL_BUY": (45, 15)}
    k = 3
    expected = math.log((45 + 1) / (60 + k)) - math.log((15 + 1) / (60 + k))
    assert model.log_odds("budget", "WILL_BUY") == pytest.approx(expected, rel=1e-15)
    assert model.log_odds("budget", "CAN_BUY") is None
    with pytest.raises(InvalidValue):
        model.log_odds("nope", "x")


def test_the_explanation_gives_each_field_its_log_odds(model: PredictiveModel) -> None:
    lead = make_lead("n1", budget=Budget.CAN_BUY, source=LeadSource.PARTNER)
    explanation = model.explain(lead)
    assert [c.feature for c in explanation.contributions] == [f.name for f in DEFAULT_FEATURES]
    budget = explanation.contributions[2]
    assert (budget.value, budget.seen, budget.log_odds) == ("CAN_BUY", False, 0.0)
    source = explanation.contributions[0]
    assert source.seen
    assert source.log_odds == model.log_odds("source", "PARTNER")
    assert explanation.prior_log_odds == model.prior_log_odds == 0.0
    raw = 1 / (1 + math.exp(-explanation.log_odds))
    assert explanation.probability == pytest.approx(raw)
    assert model.probability(lead) == explanation.probability


def test_probabilities_are_clamped_to_one_and_ninety_nine_percent() -> None:
    def typical(lead_id: str, good: bool) -> Lead:
        return make_lead(
            lead_id,
            budget=Budget.WILL_BUY if good else Budget.NO_COMMITTED_BUDGET,
            need=Need.MUST_HAVE if good else Need.NO_NEED,
            source=LeadSource.PARTNER if good else LeadSource.WEB,
            rating=Rating.HOT if good else Rating.COLD,
            purchase_timeframe=PurchaseTimeframe.IMMEDIATE if good else PurchaseTimeframe.UNKNOWN,
            address=Address(country="Sweden" if good else "Nowhere"),
            email="a@example.com" if good else None,
            business_phone="+46812345678" if good else None,
        )

    data = [won(typical(f"w{i}", True)) for i in range(40)]
    data += [lost(typical(f"x{i}", False)) for i in range(40)]
    model = train(data)
    assert model.probability(typical("g", True)) == 0.99
    assert model.probability(typical("b", False)) == 0.01
    assert model.explain(typical("g", True)).log_odds > 20


def test_custom_and_text_features(leads: list[Lead]) -> None:
    segment = Feature("segment", "custom_fields.segment")
    country = Feature("country", "address.country")
    extra = [
        won(make_lead(f"cw{i}", custom_fields={"segment": OptionValue(1, "SMB")}))
        for i in range(40)
    ]
    extra += [lost(make_lead(f"cl{i}", address=Address(country=" sweden "))) for i in range(40)]
    model = train(extra, features=(segment, country))
    assert {c.value for c in model.tables[0].counts} == {"", "1"}
    assert {c.value for c in model.tables[1].counts} == {"", "sweden"}
    probe = make_lead("p", address=Address(country="SWEDEN"))
    assert model.explain(probe).contributions[1].value == "sweden"


@pytest.mark.parametrize(
    "build",
    [
        lambda: Feature("Bad Name", "budget"),
        lambda: Feature("x", ()),
        lambda: Feature("x", "nowhere"),
        lambda: Feature("x", ("budget", "need")),
        lambda: Feature("x", "estimated_value"),
        lambda: Feature("x", "estimated_close_date"),
    ],
)
def test_a_bad_feature_is_refused(build: Any) -> None:
    with pytest.raises(ConfigurationError):
        build()
    assert Feature("x", ("email", "estimated_value"), FeatureKind.PRESENT).paths == (
        "email",
        "estimated_value",
    )


def test_features_must_be_unique_and_alpha_positive(leads: list[Lead]) -> None:
    with pytest.raises(ConfigurationError):
        train(leads, features=(Feature("a", "budget"), Feature("a", "need")))
    with pytest.raises(ConfigurationError):
        train(leads, alpha=0)
    with pytest.raises(ConfigurationError):
        train(leads, features=())
    assert train(leads, alpha="0.5").alpha == 0.5


# ---------------------------------------------------------------------------------------------
# Backtest and AUC


def test_auc_counts_ties_half_and_needs_both_outcomes() -> None:
    assert auc([(0.1, False), (0.9, True)]) == 1.0
    assert auc([(0.9, False), (0.1, True)]) == 0.0
    assert auc([(0.5, False), (0.5, True)]) == 0.5
    assert auc([(0.2, False), (0.5, True), (0.5, False), (0.7, True)]) == 0.875
    assert auc([(0.5, True)]) is None
    assert auc([]) is None


def test_the_holdout_split_is_a_stable_hash_of_the_lead_id() -> None:
    buckets = [holdout_bucket(f"lead-{i}") for i in range(2000)]
    assert buckets == [holdout_bucket(f"lead-{i}") for i in range(2000)]
    assert all(0 <= b < 100 for b in buckets)
    assert 400 < sum(1 for b in buckets if b < 25) < 600


def test_the_backtest_reports_auc_and_calibration_on_held_out_leads() -> None:
    data = history(160, 160)
    result = backtest(data)
    assert result.test_won + result.test_lost + result.train_won + result.train_lost == 320
    assert 40 < result.test_won + result.test_lost < 120
    assert result.auc is not None
    assert result.auc > 0.8
    assert 0 <= result.brier < 0.25
    assert len(result.calibration) == 10
    assert sum(b.count for b in result.calibration) == result.test_won + result.test_lost
    for b in result.calibration:
        if b.count:
            assert b.low <= b.mean_predicted <= b.high
            assert 0 <= b.observed_rate <= 1
    assert backtest(data[::-1]) == result
    assert any("AUC" in line for line in result.lines())


def test_the_backtest_checks_its_arguments(leads: list[Lead]) -> None:
    with pytest.raises(InvalidValue):
        backtest(leads, holdout_percent=0)
    with pytest.raises(InvalidValue):
        backtest(leads, bins=0)
    with pytest.raises(InsufficientTrainingData):
        backtest(leads, holdout_percent=90)


# ---------------------------------------------------------------------------------------------
# JSON


@pytest.fixture(scope="module")
def converter() -> LeadkitConverter:
    return make_converter()


def test_a_trained_model_survives_a_json_round_trip(
    model: PredictiveModel, converter: LeadkitConverter, leads: list[Lead]
) -> None:
    back = converter.loads(converter.dumps(model), PredictiveModel)
    assert back == model
    assert back.id == model.id
    assert [back.probability(x) for x in leads] == [model.probability(x) for x in leads]


def test_counts_that_do_not_add_up_are_refused(
    model: PredictiveModel, converter: LeadkitConverter
) -> None:
    data = converter.unstructure(model)
    data["tables"][0]["counts"][0]["won"] += 1
    with pytest.raises(InvalidValue, match="do not add up"):
        converter.structure(data, PredictiveModel)
    data = converter.unstructure(model)
    data["tables"] = data["tables"][1:]
    with pytest.raises(InvalidValue, match="one count table per feature"):
        converter.structure(data, PredictiveModel)
