"""The score range filter of ``LeadQuery`` and the score sort's key (``leadkit.ports``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadkit.errors import InvalidValue
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery, LeadSort, score_sort_value, sort_key
from leadkit.values import LeadId, PersonName, UserRef

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def lead(key: str, score: Decimal | None) -> Lead:
    made = Lead.create(
        LeadId(key), LeadPatch(topic="Solar", name=PersonName(last="Doe")), at=T0, by=UserRef("a")
    )
    return attrs.evolve(made, score=score, pending_events=())


# ---------------------------------------------------------------------------------------------
# score_sort_value

finite_decimals = st.decimals(allow_nan=False, allow_infinity=False) | st.builds(
    lambda digits, exponent, negative: Decimal((int(negative), digits, exponent)),
    st.tuples(*[st.integers(0, 9)] * 3) | st.lists(st.integers(0, 9), max_size=40).map(tuple),
    st.integers(-(10**18) + 50, 10**18 - 50),
    st.booleans(),
)


@given(a=finite_decimals, b=finite_decimals)
def test_the_score_text_orders_exactly_as_the_decimals(a: Decimal, b: Decimal) -> None:
    text_a, text_b = score_sort_value(a), score_sort_value(b)
    assert (text_a < text_b) == (a < b)
    assert (text_a == text_b) == (a == b)


@given(value=finite_decimals)
def test_an_unscored_lead_sorts_after_every_score_ascending_and_before_descending(
    value: Decimal,
) -> None:
    text = score_sort_value(value)
    assert score_sort_value(None) > text > score_sort_value(None, descending=True)
    assert score_sort_value(value, descending=True) == text  # only None depends on it


@pytest.mark.parametrize(
    ("smaller", "larger"),
    [
        ("-Infinity", "-1E+30"),
        ("-7.5", "-7.4999"),
        ("-0.05", "0"),
        ("0", "1E-30"),
        ("9.5", "42.5"),
        ("42.5", "100"),
        ("99.9999", "100"),
        ("1E+30", "Infinity"),
    ],
)
def test_examples_of_the_score_order(smaller: str, larger: str) -> None:
    assert score_sort_value(Decimal(smaller)) < score_sort_value(Decimal(larger))


def test_equal_scores_written_otherwise_give_one_text() -> None:
    texts = {score_sort_value(Decimal(v)) for v in ["85", "85.0", "85.000", "8.5E+1"]}
    assert len(texts) == 1
    assert score_sort_value(Decimal("-0")) == score_sort_value(Decimal("0.00")) == "N"


@pytest.mark.parametrize("nan", [Decimal("NaN"), Decimal("sNaN")])
def test_nan_has_no_score_text(nan: Decimal) -> None:
    with pytest.raises(InvalidValue):
        score_sort_value(nan)


def test_sort_key_of_the_score_sort_places_unscored_leads_last_both_ways() -> None:
    leads = [lead("a", None), lead("b", Decimal(10)), lead("c", Decimal("9.9")), lead("d", None)]
    for descending in (False, True):
        ordered = sorted(
            leads,
            key=lambda x: sort_key(x, LeadSort.SCORE, descending=descending),
            reverse=descending,
        )
        ids = [x.id.value for x in ordered]
        assert ids == (["b", "c", "d", "a"] if descending else ["c", "b", "a", "d"])
    assert sort_key(leads[1], LeadSort.SCORE) == (score_sort_value(Decimal(10)), "b")
    # every other sort ignores ``descending``
    for sort in LeadSort:
        if sort is not LeadSort.SCORE:
            assert sort_key(leads[0], sort) == sort_key(leads[0], sort, descending=True)


# ---------------------------------------------------------------------------------------------
# LeadQuery: the bounds


def test_bounds_are_inclusive_and_unscored_leads_never_match() -> None:
    query = LeadQuery(score_min=Decimal("42.5"), score_max=85)
    assert query.matches(lead("low", Decimal("42.50")))
    assert query.matches(lead("high", Decimal("85.000")))
    assert not query.matches(lead("below", Decimal("42.49999")))
    assert not query.matches(lead("above", Decimal("85.00001")))
    assert not query.matches(lead("none", None))
    assert not LeadQuery(score_max=100).matches(lead("none", None))
    assert LeadQuery().matches(lead("none", None))  # no bound, no demand


def test_a_nan_score_matches_no_bound() -> None:
    assert not LeadQuery(score_min=0).matches(lead("nan", Decimal("NaN")))


def test_ints_become_decimals() -> None:
    query = LeadQuery(score_min=0, score_max=100)
    assert (query.score_min, query.score_max) == (Decimal(0), Decimal(100))
    assert all(isinstance(v, Decimal) for v in (query.score_min, query.score_max))


@pytest.mark.parametrize("field", ["score_min", "score_max"])
@pytest.mark.parametrize(
    "bound", [0.5, 50.0, "50", True, False, Decimal("NaN"), Decimal("Infinity"), [50]]
)
def test_bounds_other_than_finite_decimals_and_ints_are_refused(field: str, bound: Any) -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadQuery(**{field: bound})
    assert caught.value.field == field


def test_min_above_max_is_refused_naming_score_max() -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadQuery(score_min=Decimal("10.000001"), score_max=10)
    assert caught.value.field == "score_max"
    assert LeadQuery(score_min=10, score_max=Decimal("10.0")).score_min == 10


def test_evolving_a_query_checks_the_bounds_again() -> None:
    query = LeadQuery(score_min=50)
    with pytest.raises(InvalidValue):
        attrs.evolve(query, score_max=49)
    with pytest.raises(InvalidValue):
        attrs.evolve(query, score_min=50.0)  # type: ignore[arg-type]  # refused at run time too


# ---------------------------------------------------------------------------------------------
# Date sort keys

aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


@given(aware_datetimes, aware_datetimes)
def test_created_at_sort_keys_order_like_the_instants(a: datetime, b: datetime) -> None:
    # Years below 1000 included: the text must be zero-padded to sort like the datetime.
    first, second = (
        attrs.evolve(lead("a", None), created_at=a),
        attrs.evolve(lead("a", None), created_at=b),
    )
    key_a, key_b = sort_key(first, LeadSort.CREATED_AT)[0], sort_key(second, LeadSort.CREATED_AT)[0]
    assert (key_a < key_b) == (a < b)
    assert (key_a == key_b) == (a == b)


def test_a_year_below_1000_sorts_before_later_years() -> None:
    early = attrs.evolve(lead("a", None), created_at=datetime(999, 5, 1, tzinfo=UTC))
    assert sort_key(early, LeadSort.CREATED_AT)[0] == "0999-05-01T00:00:00.000000"
    assert sort_key(early, LeadSort.CREATED_AT) < sort_key(lead("a", None), LeadSort.CREATED_AT)
