"""Scoring models: validation when built, versioned edits, star scales, ratings, the BCM preset."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from leadkit import ConfigurationError, InvalidValue, LeadkitConverter, Rating, make_converter
from leadkit.scoring import (
    BCM_MODEL,
    Blend,
    Criterion,
    Equals,
    Importance,
    ImportanceWeights,
    IsSet,
    RatingThresholds,
    ScoringModel,
    StarScale,
    Ticked,
)
from leadkit.scoring.predicates import Predicate
from leadkit.scoring.result import check_slug


@pytest.fixture(scope="module")
def converter() -> LeadkitConverter:
    return make_converter()


def criterion(cid: str, importance: Importance = Importance.NORMAL, **kw: Any) -> Criterion:
    return Criterion(id=cid, description=cid.replace("_", " ").title(), importance=importance, **kw)


def model(*criteria: Criterion, **kw: Any) -> ScoringModel:
    return ScoringModel(id="m", name="Model", criteria=criteria or (criterion("a"),), **kw)


# ---------------------------------------------------------------------------------------------
# Refused when built


def test_a_model_without_criteria_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="at least one criterion"):
        ScoringModel(id="m", name="Model", criteria=())


def test_a_duplicate_criterion_id_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="duplicate criterion id 'a'"):
        model(criterion("a"), criterion("a", Importance.HIGH))


@pytest.mark.parametrize("weight", [0, -1, "-0.5", Decimal("0"), "NaN", "Infinity", 1.5, True])
def test_a_non_positive_or_non_decimal_weight_is_refused(weight: object) -> None:
    with pytest.raises(ConfigurationError):
        criterion("a", weight=weight)
    with pytest.raises(ConfigurationError):
        ImportanceWeights(low=weight)  # type: ignore[arg-type]


def test_a_weight_with_more_than_six_decimals_or_above_a_million_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        criterion("a", weight="0.0000001")
    with pytest.raises(ConfigurationError):
        criterion("a", weight=1_000_001)
    assert criterion("a", weight="0.000001").weight == Decimal("0.000001")


@pytest.mark.parametrize(
    "build",
    [
        lambda: criterion("Bad Id"),
        lambda: Criterion(id="a", description=""),
        lambda: Criterion(id="a", description="x", rule="ticked"),  # type: ignore[arg-type]
        lambda: Criterion(id="a", description="x", importance="high"),  # type: ignore[arg-type]
        lambda: ScoringModel(id="m", name="", criteria=(criterion("a"),)),
        lambda: ScoringModel(id="M M", name="x", criteria=(criterion("a"),)),
        lambda: model(version=0),
        lambda: model(decimals=5),
        lambda: model(decimals=-1),
        lambda: model(blend="half"),
        lambda: model(stars=(10, 20)),
        lambda: RatingThresholds(hot=40, warm=70),
        lambda: RatingThresholds(hot=101),
        lambda: StarScale((10, 10)),
        lambda: StarScale((0, 50)),
        lambda: StarScale(()),
        lambda: StarScale(tuple(range(1, 12))),
        lambda: StarScale.even(0),
        lambda: StarScale.even(11),
        lambda: Blend(0, 1),
        lambda: Blend(1, "x"),
        # A band too narrow to hold any score with no decimals:
        lambda: model(stars=StarScale((Decimal("10.2"), Decimal("10.7"))), decimals=0),
    ],
)
def test_a_bad_model_part_is_refused_when_built(build: Any) -> None:
    with pytest.raises(ConfigurationError):
        build()


# ---------------------------------------------------------------------------------------------
# Weights and queries


def test_importance_weights_default_to_one_two_three_and_may_be_any_positive_number() -> None:
    m = model(
        criterion("low", Importance.LOW),
        criterion("normal"),
        criterion("high", Importance.HIGH),
        criterion("own", Importance.HIGH, weight="0.5"),
    )
    assert [m.weight_of(c) for c in m.criteria] == [1, 2, 3, Decimal("0.5")]
    assert m.total_weight == Decimal("6.5")
    heavier = m.set_importance_weights(ImportanceWeights(low="0.25", normal=4, high=10))
    assert [heavier.weight_of(c) for c in heavier.criteria] == [
        Decimal("0.25"),
        4,
        10,
        Decimal("0.5"),
    ]


def test_manual_criteria_are_those_a_tick_decides() -> None:
    m = model(
        criterion("box"),
        criterion("rule", rule=IsSet("email")),
        criterion("either", rule=Equals("budget", "Will Buy")),
    )
    assert [c.id for c in m.manual_criteria] == ["box"]
    assert criterion("x").rule == Ticked()


def test_criterion_lookup_names_the_missing_id() -> None:
    with pytest.raises(InvalidValue) as caught:
        model().criterion("zzz")

    assert (caught.value.field, caught.value.value, caught.value.reason) == (
        "criterion_id",
        "zzz",
        "model m has no such criterion",
    )


# ---------------------------------------------------------------------------------------------
# Edits make versions


def test_every_edit_yields_a_new_version_and_leaves_the_old_one_alone() -> None:
    m1 = model(criterion("a"), criterion("b"))
    m2 = m1.add_criterion(criterion("c", Importance.HIGH))
    m3 = m2.set_weight("c", 5)
    m4 = m3.set_importance("a", Importance.LOW)
    m5 = m4.replace_criterion(criterion("b", rule=IsSet("email")))
    m6 = m5.remove_criterion("a")
    m7 = m6.set_star_scale(StarScale.even(3)).set_rating_thresholds(RatingThresholds(80, 50))
    m8 = m7.set_blend(Blend(3, 1))
    assert [m.version for m in (m1, m2, m3, m4, m5, m6, m8)] == [1, 2, 3, 4, 5, 6, 9]
    assert [c.id for c in m1.criteria] == ["a", "b"]
    assert m3.criterion("c").weight == 5
    assert m6.key == "m@6"
    assert m8.max_stars == 3


def test_an_edit_that_changes_nothing_keeps_the_version() -> None:
    m = model(criterion("a", weight=2))
    assert m.set_weight("a", 2) is m
    assert m.edit(name="Model") is m
    assert m.edit(name="Renamed").version == 2


def test_removing_the_last_criterion_or_adding_a_duplicate_is_refused() -> None:
    m = model(criterion("a"))
    with pytest.raises(ConfigurationError):
        m.remove_criterion("a")
    with pytest.raises(ConfigurationError):
        m.add_criterion(criterion("a"))
    with pytest.raises(ConfigurationError) as version:
        m.edit(version=7)
    assert (version.value.what, version.value.reason) == (
        "scoring model 'm'",
        "versions are not edited",
    )
    with pytest.raises(InvalidValue):
        m.replace_criterion(criterion("zzz"))


def test_a_new_version_compiles_afresh() -> None:
    m1 = model(criterion("a"), criterion("b"))
    m2 = m1.set_weight("a", 6)
    assert m1.compiled is m1.compiled
    assert m1.compiled.total == 4
    assert m2.compiled.total == 8


# ---------------------------------------------------------------------------------------------
# Stars and ratings


def test_the_default_star_scale_is_five_stars_rounded_half_up() -> None:
    scale = StarScale()
    assert scale == StarScale.even(5)
    assert scale.thresholds == tuple(Decimal(t) for t in (10, 30, 50, 70, 90))
    expected = {
        "0": 0,
        "9.99": 0,
        "10": 1,
        "29.99": 1,
        "30": 2,
        "50": 3,
        "69.99": 3,
        "70": 4,
        "89.99": 4,
        "90": 5,
        "100": 5,
    }
    for value, stars in expected.items():
        assert scale.stars_for(Decimal(value)) == stars, value


def test_an_even_scale_of_three_stars() -> None:
    assert StarScale.even(3).thresholds == (Decimal("16.67"), Decimal(50), Decimal("83.33"))
    assert StarScale.even(1).thresholds == (Decimal(50),)


@pytest.mark.parametrize("max_stars", range(1, 11))
@pytest.mark.parametrize("decimals", range(5))
def test_a_manual_star_count_stands_for_a_score_with_that_many_stars(
    max_stars: int, decimals: int
) -> None:
    scale = StarScale.even(max_stars)
    for stars in range(max_stars + 1):
        assert scale.stars_for(scale.value_for(stars, decimals)) == stars
    assert scale.value_for(max_stars, decimals) == 100
    assert scale.value_for(0, decimals) == 0
    assert scale.value_for(max_stars + 3, decimals) == 100


def test_manual_values_move_into_custom_bands() -> None:
    scale = StarScale((50, 60, 70, 80, 100))
    assert scale.value_for(1, 2) == 50  # 20 would earn no stars: moved up into [50, 60)
    assert scale.value_for(4, 2) == 80  # already in [80, 100)
    assert scale.value_for(5, 2) == 100
    low = StarScale((10, 20, 30, 40, 50))
    assert low.value_for(1, 2) == Decimal("19.99")  # 20 would earn 2 stars: moved down
    assert low.value_for(1, 0) == 19


def test_rating_thresholds_include_their_limit() -> None:
    ratings = RatingThresholds()
    assert ratings.rating_for(Decimal(70)) is Rating.HOT
    assert ratings.rating_for(Decimal("69.99")) is Rating.WARM
    assert ratings.rating_for(Decimal(40)) is Rating.WARM
    assert ratings.rating_for(Decimal("39.99")) is Rating.COLD
    everything_hot = RatingThresholds(hot=0, warm=0)
    assert everything_hot.rating_for(Decimal(0)) is Rating.HOT


# ---------------------------------------------------------------------------------------------
# The BCM preset and JSON


def test_the_bcm_preset_has_sensible_ticked_and_field_criteria() -> None:
    ids = [c.id for c in BCM_MODEL.criteria]
    for expected in (
        "budget_confirmed",
        "decision_maker_identified",
        "need_confirmed",
        "timeframe_this_quarter",
    ):
        assert expected in ids
    assert {c.id for c in BCM_MODEL.manual_criteria} >= {
        "decision_maker_identified",
        "met_in_person",
    }
    assert any(not c.is_manual for c in BCM_MODEL.criteria)
    assert BCM_MODEL.version == 1
    assert BCM_MODEL.total_weight == 19
    assert BCM_MODEL.max_stars == 5


def test_models_survive_a_json_round_trip(converter: LeadkitConverter) -> None:
    edited = (
        BCM_MODEL.set_weight("reachable", "2.5")
        .set_importance_weights(ImportanceWeights(1, 3, 5))
        .set_star_scale(StarScale((5, 25, 45)))
        .set_blend(Blend("0.7", "0.3"))
        .edit(decimals=1, description="tuned")
    )
    for m in (BCM_MODEL, edited):
        assert converter.loads(converter.dumps(m), ScoringModel) == m


def test_a_malformed_model_is_an_invalid_value_naming_the_path(
    converter: LeadkitConverter,
) -> None:
    data = converter.unstructure(BCM_MODEL)
    data["criteria"][1]["rule"] = {"op": "is_set", "field": "nowhere"}
    with pytest.raises(InvalidValue) as caught:
        converter.structure(data, ScoringModel)
    assert caught.value.field == "criteria[1].rule.field"
    data = converter.unstructure(BCM_MODEL)
    data["criteria"].append(data["criteria"][0])
    with pytest.raises(InvalidValue, match="duplicate criterion id"):
        converter.structure(data, ScoringModel)


# ---------------------------------------------------------------------------------------------
# Every refusal names what was refused and why


@pytest.mark.parametrize(
    ("build", "what", "reason"),
    [
        (
            lambda: ImportanceWeights(low=1.5),  # type: ignore[arg-type]
            "weights.low",
            "a weight must be a Decimal, an int or a decimal string (not 1.5)",
        ),
        (lambda: ImportanceWeights(normal="lots"), "weights.normal", "'lots' is not a number"),
        (lambda: ImportanceWeights(high=0), "weights.high", "a weight must be positive, not 0"),
        (
            lambda: ImportanceWeights(high="Infinity"),
            "weights.high",
            "a weight must be positive, not Infinity",
        ),
        (
            lambda: criterion("a", weight=1_000_001),
            "criterion.weight",
            "a weight must be at most 1000000, not 1000001",
        ),
        (
            lambda: criterion("a", weight="0.0000001"),
            "criterion.weight",
            "a weight has at most 6 decimals",
        ),
        (
            lambda: RatingThresholds(hot=True),
            "ratings.hot",
            "must be a Decimal, an int or a decimal string: True",
        ),
        (lambda: RatingThresholds(warm="warm"), "ratings.warm", "'warm' is not a number"),
        (
            lambda: RatingThresholds(hot="100.01"),
            "ratings.hot",
            "must be on the 0-100 score scale, not 100.01",
        ),
        (
            lambda: RatingThresholds(warm=-1),
            "ratings.warm",
            "must be on the 0-100 score scale, not -1",
        ),
        (lambda: RatingThresholds(hot=50, warm=60), "ratings", "warm (60) is above hot (50)"),
        (
            lambda: Criterion(id="a", description=" "),
            "criterion.description",
            "must be 1-200 characters of text",
        ),
        (
            lambda: Criterion(id="a", description="x" * 201),
            "criterion.description",
            "must be 1-200 characters of text",
        ),
        (
            lambda: Criterion(id="a", description="A", importance="high"),  # type: ignore[arg-type]
            "criterion a",
            "importance must be an Importance: 'high'",
        ),
        (
            lambda: Criterion(id="a", description="A", rule="budget"),  # type: ignore[arg-type]
            "criterion a",
            "rule must be a predicate: 'budget'",
        ),
        (lambda: StarScale(()), "stars", "a star scale has 1 to 10 stars"),
        (lambda: StarScale(range(1, 12)), "stars", "a star scale has 1 to 10 stars"),
        (
            lambda: StarScale((0, 50)),
            "stars",
            "thresholds must be strictly increasing and above 0 (0 stars needs none)",
        ),
        (
            lambda: StarScale((50, 50)),
            "stars",
            "thresholds must be strictly increasing and above 0 (0 stars needs none)",
        ),
        (lambda: StarScale.even(2.0), "stars", "max_stars must be a whole number: 2.0"),  # type: ignore[arg-type]
        (lambda: StarScale.even(0), "stars", "a star scale has 1 to 10 stars"),
        (lambda: StarScale.even(11), "stars", "a star scale has 1 to 10 stars"),
        (lambda: model(version=0), "scoring model 'm'", "version must be a whole number from 1: 0"),
        (
            lambda: model(version=True),
            "scoring model 'm'",
            "version must be a whole number from 1: True",
        ),
        (
            lambda: ScoringModel(id="m", name="Model", criteria=()),
            "scoring model 'm'",
            "a model needs at least one criterion",
        ),
        (
            lambda: ScoringModel(id="m", name="Model", criteria=("a",)),  # type: ignore[arg-type]
            "scoring model 'm'",
            "not a criterion: 'a'",
        ),
        (
            lambda: model(criterion("a"), criterion("a")),
            "scoring model 'm'",
            "duplicate criterion id 'a'",
        ),
        (
            lambda: model(weights=(1, 2, 3)),
            "scoring model 'm'",
            "weights must be a ImportanceWeights",
        ),
        (lambda: model(stars=5), "scoring model 'm'", "stars must be a StarScale"),
        (lambda: model(ratings=None), "scoring model 'm'", "ratings must be a RatingThresholds"),
        (lambda: model(blend=(1, 1)), "scoring model 'm'", "blend must be a Blend or None"),
        (lambda: model(decimals=1.0), "scoring model 'm'", "decimals must be a whole number: 1.0"),
        (lambda: model(decimals=5), "scoring model 'm'", "decimals must be from 0 to 4"),
        (lambda: model(decimals=-1), "scoring model 'm'", "decimals must be from 0 to 4"),
        (
            lambda: model(stars=StarScale(("0.5", 1)), decimals=0),
            "scoring model 'm'",
            "no score with 0 decimals earns 1 stars on this scale",
        ),
        (
            lambda: ScoringModel(id="m", name=" ", criteria=(criterion("a"),)),
            "scoring model",
            "a name is 1-200 characters of text",
        ),
        (
            lambda: ScoringModel(id="m", name="x" * 201, criteria=(criterion("a"),)),
            "scoring model",
            "a name is 1-200 characters of text",
        ),
        (
            lambda: model(description="x" * 2001),
            "scoring model",
            "a description is text of at most 2000",
        ),
    ],
)
def test_a_refused_part_of_a_model_names_itself_and_the_rule(
    build: Any, what: str, reason: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build()

    assert (caught.value.what, caught.value.reason) == (what, reason)


def test_the_boundaries_of_weights_limits_and_texts_are_accepted() -> None:
    assert ImportanceWeights(low="0.000001", high=1_000_000).high == 1_000_000
    assert RatingThresholds(hot=100, warm=0) == RatingThresholds(hot=Decimal(100), warm=Decimal(0))
    assert RatingThresholds(hot=50, warm=50).warm == 50
    assert Criterion(id="a", description="x" * 200).description == "x" * 200
    assert len(StarScale(range(1, 11)).thresholds) == 10
    assert StarScale.even(10).max_stars == 10
    assert model(decimals=4).decimals == 4
    assert model(decimals=0).decimals == 0
    assert ScoringModel(id="m", name="x" * 200, criteria=(criterion("a"),)).name == "x" * 200
    assert model(description=" d " + "x" * 1997).description == "d " + "x" * 1997


@pytest.mark.parametrize(
    ("build", "what"),
    [
        (lambda: Criterion(id="Bad Id", description="A"), "criterion.id"),
        (
            lambda: ScoringModel(id="Bad Id", name="Model", criteria=(criterion("a"),)),
            "scoring model id",
        ),
    ],
)
def test_a_bad_id_is_refused_with_the_slug_rule(build: Any, what: str) -> None:
    with pytest.raises(InvalidValue) as rule:
        check_slug(what, "Bad Id")
    with pytest.raises(ConfigurationError) as caught:
        build()

    assert (caught.value.what, caught.value.reason) == (what, f"{rule.value.reason} (got 'Bad Id')")


def test_a_rule_must_be_a_real_predicate_and_a_threshold_a_number() -> None:
    with pytest.raises(ConfigurationError) as base:
        Criterion(id="a", description="A", rule=Predicate())
    with pytest.raises(ConfigurationError) as threshold:
        StarScale((10, "x"))

    assert (base.value.what, base.value.reason) == (
        "criterion a",
        "rule must be a predicate: Predicate()",
    )
    assert (threshold.value.what, threshold.value.reason) == (
        "stars.thresholds",
        "'x' is not a number",
    )


def test_a_model_may_be_given_a_single_criterion() -> None:
    assert ScoringModel(id="m", name="Model", criteria=criterion("a")).criteria == (criterion("a"),)


def test_an_even_scale_rounds_each_threshold_half_up_to_the_cent() -> None:
    # 100 * (2s - 1) / 14 for s = 1..7: 7.142..., 21.428..., 35.714..., 50, 64.285..., ...
    assert StarScale.even(7).thresholds == tuple(
        Decimal(t) for t in ("7.14", "21.43", "35.71", "50.00", "64.29", "78.57", "92.86")
    )
