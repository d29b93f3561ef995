"""The probabilistic (Fellegi-Sunter) rule kind: levels, estimation without labels,
determinism, explanations and the configuration it refuses."""

from __future__ import annotations

import pytest

from leadkit.duplicates.probabilistic import (
    DEFAULT_PROBABILISTIC_RULE,
    Comparison,
    ProbabilisticRule,
    fit,
)
from leadkit.duplicates.records import DuplicateRecord, RecordType
from leadkit.duplicates.rules import Similarity
from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.testing.dupdata import generate_leads


def _record(key: str, **fields: object) -> DuplicateRecord:
    return DuplicateRecord(record_type=RecordType.LEAD, record_id=key, **fields)  # type: ignore[arg-type]


def test_a_comparison_grades_exact_bands_else_and_null() -> None:
    name = Comparison("full_name", bands=(92.0, 85.0), algorithm=Similarity.JARO_WINKLER)
    assert name.levels == ("exact", ">=92", ">=85", "else")
    assert name.level(("anna berg",), ("anna berg",)) == 0
    assert name.level(("anna berg",), ("anna bergh",)) == 1
    assert name.level(("anna berg",), ("zygmunt x",)) == 3
    assert name.level((), ("anna berg",)) is None
    phones = Comparison("phones")
    assert phones.level(("+461", "+462"), ("+462",)) == 0


def test_estimation_is_deterministic_and_learns_that_agreement_means_a_match() -> None:
    records = generate_leads(600, seed=3).records()
    model = fit(DEFAULT_PROBABILISTIC_RULE, records)
    assert fit(DEFAULT_PROBABILISTIC_RULE, list(reversed(records))) == model
    for params in model.parameters:
        assert params.weight(0) > 0 > params.weight(len(params.levels) - 1)
        assert sum(params.m) == pytest.approx(1)
        assert sum(params.u) == pytest.approx(1)
    assert 0 < model.prior < 0.01


def test_the_rule_finds_the_generated_duplicates_with_good_precision_and_recall() -> None:
    dataset = generate_leads(1500, seed=11)
    model = fit(DEFAULT_PROBABILISTIC_RULE, dataset.records())
    matches = model.scan(dataset.records())
    quality = dataset.quality((m.record.record_id, m.candidate.record_id) for m in matches)
    assert quality.precision >= 0.9
    assert quality.recall >= 0.9
    assert all(m.probability >= DEFAULT_PROBABILISTIC_RULE.threshold for m in matches)


def test_a_match_explains_each_fields_contribution() -> None:
    records = generate_leads(600, seed=3).records()
    model = fit(DEFAULT_PROBABILISTIC_RULE, records)
    a = _record("a", full_name="Anna Berg", email="anna@acme.se", company="Acme AB")
    b = _record("b", full_name="Berg Anna", email="anna@acme.se", company="ACME")
    match = model.compare(a, b)
    fields = {c.field: c for c in match.contributions}
    assert fields["email"].level == "exact"
    assert fields["mobile_phone"].level is None
    assert fields["mobile_phone"].weight == 0
    prior = model.prior
    import math

    assert match.weight == pytest.approx(
        math.log2(prior / (1 - prior)) + sum(c.weight for c in match.contributions)
    )
    assert "email exact" in match.explain()
    assert match.probability > 0.99


def test_bad_rules_and_inputs_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        Comparison("full_name", bands=(80.0, 90.0))
    with pytest.raises(ConfigurationError):
        Comparison("created_at", bands=(90.0,))
    with pytest.raises(ConfigurationError):
        Comparison("nonsense")
    with pytest.raises(ConfigurationError):
        ProbabilisticRule("x", ())
    with pytest.raises(ConfigurationError):
        ProbabilisticRule("x", (Comparison("email"), Comparison("email")))
    with pytest.raises(ConfigurationError):
        ProbabilisticRule("x", (Comparison("email"),), threshold=1.5)
    with pytest.raises(ConfigurationError):
        ProbabilisticRule("x", (Comparison("email"),), iterations=0)
    with pytest.raises(InvalidValue):
        fit(DEFAULT_PROBABILISTIC_RULE, [_record("a")])
    with pytest.raises(InvalidValue):
        fit(DEFAULT_PROBABILISTIC_RULE, [_record("a"), _record("a")])


def test_custom_fields_can_be_compared() -> None:
    from datetime import date

    rule = ProbabilisticRule("dob", (Comparison("custom.birth_date:date", block=True),))
    a = _record("a", custom_fields={"birth_date": date(1980, 1, 1)})
    b = _record("b", custom_fields={"birth_date": date(1980, 1, 1)})
    c = _record("c", custom_fields={"birth_date": date(1990, 1, 1)})
    model = fit(rule, [a, b, c])
    assert model.compare(a, b).contributions[0].level == "exact"
    assert model.compare(a, c).contributions[0].level == "else"
