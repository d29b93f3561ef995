"""What each operator matches, with blanks, several values and normalisers
(leadkit.duplicates.compiled through the public engine)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from leadkit.duplicates import (
    Blocking,
    Condition,
    DuplicateIndex,
    DuplicateRecord,
    DuplicateRule,
    DuplicateRuleSet,
    ExhaustiveFinder,
    Phonetic,
    RecordType,
    Similarity,
    find_duplicates,
)
from leadkit.duplicates.compiled import (
    person_name_similarity,
    phonetic_code,
    similarity,
    word_similarity,
)

LEAD = RecordType.LEAD


def rec(record_id: str, **fields: object) -> DuplicateRecord:
    return DuplicateRecord(record_type=LEAD, record_id=record_id, **fields)  # type: ignore[arg-type]


def matches(
    condition: Condition, a: DuplicateRecord, b: DuplicateRecord, *, ignore_blank: bool = True
) -> bool:
    """Whether ``b`` is found as a duplicate of ``a`` by a one-condition rule, through the
    index and through the exhaustive reference (which must agree)."""
    rule = DuplicateRule(
        name="r",
        base_type=LEAD,
        matching_type=LEAD,
        conditions=[condition],
        ignore_blank=ignore_blank,
    )
    rules = DuplicateRuleSet(name="s", rules=[rule])
    index = DuplicateIndex(rules)
    index.add(b)
    indexed = [m.candidate.record_id for m in find_duplicates(a, rules, index)]
    exhaustive = [m.candidate.record_id for m in ExhaustiveFinder(rules, [b]).find(a)]
    assert indexed == exhaustive
    return indexed == [b.record_id]


def test_exact_compares_normalised_values() -> None:
    condition = Condition.exact("email")
    assert matches(condition, rec("a", email=" Anna@Acme.SE"), rec("b", email="anna@acme.se"))
    assert not matches(condition, rec("a", email="anna@acme.se"), rec("b", email="ann@acme.se"))


def test_exact_may_be_case_sensitive() -> None:
    sensitive = Condition.exact("city", case_sensitive=True)
    assert not matches(sensitive, rec("a", city="Lund"), rec("b", city="LUND"))
    assert matches(Condition.exact("city"), rec("a", city="Lund"), rec("b", city="LUND"))


def test_exact_on_phones_matches_any_shared_number() -> None:
    condition = Condition.exact("phones")
    a = rec("a", phones=("+46701234567", "+46812345678"))
    assert matches(condition, a, rec("b", phones=("+46812345678",)))
    assert not matches(condition, a, rec("b", phones=("+46812345679",)))


def test_phones_typed_in_any_format_are_compared_in_e164() -> None:
    condition = Condition.exact("business_phone")
    assert matches(
        condition,
        rec("a", business_phone="+1 (202) 555-0143"),
        rec("b", business_phone="+12025550143"),
    )


def test_a_base_field_may_be_compared_with_another_matching_field() -> None:
    swapped = Condition.exact("first_name", "last_name", normalizer="person_name")
    assert matches(swapped, rec("a", first_name="Berg"), rec("b", last_name="BERG"))
    assert not matches(swapped, rec("a", last_name="Berg"), rec("b", last_name="Berg"))


@pytest.mark.parametrize(
    ("n", "a", "b", "expected"),
    [
        (3, "123 45", "12399", True),
        (3, "123 45", "124 45", False),
        (5, "SE-1", "SE-19", False),
        (2, "AB", "ABC", True),
    ],
)
def test_same_first_characters(n: int, a: str, b: str, expected: bool) -> None:
    condition = Condition.first_characters("postal_code", n)
    assert matches(condition, rec("a", postal_code=a), rec("b", postal_code=b)) is expected


@pytest.mark.parametrize(
    ("n", "a", "b", "expected"),
    [
        (7, "+46701234567", "+4670 1234567", True),
        (7, "+46701234567", "+1555 1234567", True),
        (7, "+46701234567", "+46701234568", False),
    ],
)
def test_same_last_characters(n: int, a: str, b: str, expected: bool) -> None:
    condition = Condition.last_characters("phones", n, normalizer="none")
    assert matches(condition, rec("a", phones=(a,)), rec("b", phones=(b,))) is expected


def test_same_date_compares_calendar_days_in_utc() -> None:
    condition = Condition.same_date("created_at")
    morning = datetime(2024, 5, 6, 8, 0, tzinfo=UTC)
    evening_cet = datetime(2024, 5, 6, 23, 30, tzinfo=timezone(timedelta(hours=2)))  # 21:30 UTC
    next_day_cet = datetime(2024, 5, 7, 1, 30, tzinfo=timezone(timedelta(hours=2)))  # 23:30 UTC
    after = datetime(2024, 5, 7, 0, 30, tzinfo=UTC)
    assert matches(condition, rec("a", created_at=morning), rec("b", created_at=evening_cet))
    assert matches(condition, rec("a", created_at=morning), rec("b", created_at=next_day_cet))
    assert not matches(condition, rec("a", created_at=morning), rec("b", created_at=after))


def test_same_date_may_compare_a_date_with_a_date_time() -> None:
    condition = Condition.same_date("created_at", "estimated_close_date")
    a = rec("a", created_at=datetime(2024, 9, 1, 10, tzinfo=UTC))
    assert matches(condition, a, rec("b", estimated_close_date=date(2024, 9, 1)))
    assert not matches(condition, a, rec("b", estimated_close_date=date(2024, 9, 2)))


def test_same_date_and_time_is_to_the_second() -> None:
    condition = Condition.same_date_and_time("created_at")
    at = datetime(2024, 5, 6, 8, 0, 0, tzinfo=UTC)
    same = at.astimezone(timezone(timedelta(hours=-5))) + timedelta(microseconds=400)
    assert matches(condition, rec("a", created_at=at), rec("b", created_at=same))
    assert not matches(
        condition, rec("a", created_at=at), rec("b", created_at=at + timedelta(seconds=1))
    )


def test_same_option_compares_codes() -> None:
    condition = Condition.same_option("source")
    assert matches(condition, rec("a", source=8), rec("b", source=8))
    assert not matches(condition, rec("a", source=8), rec("b", source=7))


def test_similar_applies_the_threshold() -> None:
    condition = Condition.similar(
        "company", 90, Similarity.RATIO, blocking=Blocking.token_prefixes(3)
    )
    assert matches(
        condition, rec("a", company="Nordic Logistics"), rec("b", company="Nordic Logistic")
    )
    assert not matches(
        condition, rec("a", company="Nordic Logistics"), rec("b", company="Nordic Lumber")
    )


def test_similar_only_finds_candidates_that_share_a_blocking_key() -> None:
    prefix = Condition.similar("company", 50, Similarity.RATIO, blocking=Blocking.prefix(3))
    # Similar enough, but the first three letters differ: the index never compares them.
    a, b = rec("a", company="Acme Nordic"), rec("b", company="Xcme Nordic")
    rules = DuplicateRuleSet(
        name="s",
        rules=[DuplicateRule(name="r", base_type=LEAD, matching_type=LEAD, conditions=[prefix])],
    )
    index = DuplicateIndex(rules)
    index.add(b)
    assert find_duplicates(a, rules, index) == []
    assert [m.candidate.record_id for m in ExhaustiveFinder(rules, [b]).find(a)] == ["b"]


@pytest.mark.parametrize(
    "blocking",
    [
        Blocking.tokens(),
        Blocking.sorted_tokens(),
        Blocking.token_prefixes(3),
        Blocking.phonetic_tokens(Phonetic.NYSIIS),
        Blocking(Blocking.tokens().method.__class__("value")),
    ],
)
def test_every_blocking_method_finds_a_swapped_or_equal_name(blocking: Blocking) -> None:
    condition = Condition.similar("full_name", 95, Similarity.TOKEN_SORT_RATIO, blocking=blocking)
    name = "Anna Berg" if blocking.method.value == "value" else "Berg Anna"
    assert matches(condition, rec("a", full_name="Anna Berg"), rec("b", full_name=name))


def test_sounds_like_compares_phonetic_codes_in_any_word_order() -> None:
    condition = Condition.sounds_like("full_name", Phonetic.METAPHONE)
    assert matches(condition, rec("a", full_name="Smith John"), rec("b", full_name="Jon Smyth"))
    assert not matches(
        condition, rec("a", full_name="John Smith"), rec("b", full_name="John Brown")
    )


def test_blank_values_never_match_when_blanks_are_ignored() -> None:
    condition = Condition.exact("email")
    assert not matches(condition, rec("a"), rec("b"))
    assert not matches(condition, rec("a", email="x@y.se"), rec("b"))


def test_blank_equals_blank_when_blanks_count() -> None:
    condition = Condition.exact("email")
    assert matches(condition, rec("a"), rec("b"), ignore_blank=False)
    assert not matches(condition, rec("a", email="x@y.se"), rec("b"), ignore_blank=False)
    assert not matches(condition, rec("a"), rec("b", email="x@y.se"), ignore_blank=False)


def test_a_value_that_normalises_to_blank_is_blank() -> None:
    condition = Condition.exact("email", normalizer="personal_email")
    assert not matches(condition, rec("a", email="info@acme.se"), rec("b", email="info@acme.se"))


# --------------------------------------------------------------------------------------------
# Similarity functions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        ("anna berg", "anna berg", 100, 100),
        ("anna berg", "berg anna", 100, 100),  # swapped
        ("anna maria berg", "anna berg", 100, 100),  # a middle name
        ("a berg", "anna berg", 90, 90),  # an initial
        ("katarzyna rabowska", "katarzyna grabowska", 90, 100),  # a slip in the first letter
        ("peter bork", "peter bjork", 90, 100),
        ("lars eriksson", "lars persson", 0, 89),  # different people: under 90
        ("krzysztof kwiatkowski", "krzysztof kaminski", 0, 85),
        ("anna", "", 0, 0),
    ],
)
def test_person_name_similarity(a: str, b: str, low: float, high: float) -> None:
    assert low <= person_name_similarity(a, b) <= high
    assert person_name_similarity(a, b) == person_name_similarity(b, a)


def test_person_name_similarity_handles_long_names_greedily() -> None:
    long = "jan maria jozef karol piotr nowak"
    assert person_name_similarity("jan nowak", long) == 100
    assert person_name_similarity(long, long.replace("nowak", "nowk")) >= 90


def test_word_similarity_treats_initials() -> None:
    assert word_similarity("a", "anna") == 90
    assert word_similarity("b", "anna") == 0
    assert word_similarity("anna", "anna") == 100


@pytest.mark.parametrize("algorithm", list(Similarity))
def test_every_similarity_algorithm_scores_0_to_100_and_equal_texts_100(
    algorithm: Similarity,
) -> None:
    assert similarity(algorithm, "acme nordic", "acme nordic") == pytest.approx(100)
    assert 0 <= similarity(algorithm, "acme nordic", "zeta") <= 100


def test_phonetic_codes_are_per_word_and_sorted() -> None:
    assert phonetic_code(Phonetic.METAPHONE, "anna berg") == phonetic_code(
        Phonetic.METAPHONE, "berg anna"
    )
    assert phonetic_code(Phonetic.SOUNDEX, "") == ""
    assert phonetic_code(Phonetic.MATCH_RATING, "123 o'brien").startswith("#")
