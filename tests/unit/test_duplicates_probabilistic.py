"""The probabilistic (Fellegi-Sunter) rule kind: levels, estimation without labels,
determinism, explanations and the configuration it refuses."""

from __future__ import annotations

import pytest

from leadkit.adapters.memory import MemoryStore
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    CheckMode,
    DuplicateIndex,
    DuplicateRuleSet,
    check_on_save,
    find_duplicates,
    scan,
)
from leadkit.duplicates.probabilistic import (
    DEFAULT_PROBABILISTIC_RULE,
    Comparison,
    FittedRule,
    ProbabilisticRule,
    fit,
)
from leadkit.duplicates.record_view import DuplicateRecord, RecordType
from leadkit.duplicates.rules import Similarity
from leadkit.errors import ConfigurationError, DuplicatesUnresolved, InvalidValue
from leadkit.serialization import make_converter
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


# The optional rule kind: a fitted rule in a DuplicateRuleSet, wherever rules are used --------


def _fitted_set(count: int = 600, seed: int = 3) -> tuple[list[DuplicateRecord], DuplicateRuleSet]:
    records = generate_leads(count, seed=seed).records()
    model = fit(DEFAULT_PROBABILISTIC_RULE, records)
    return records, DuplicateRuleSet(name="with-fs", rules=(*DEFAULT_LEAD_RULES.rules, model))


def test_a_fitted_rule_is_a_rule_of_a_rule_set_and_anything_else_is_refused() -> None:
    _, rule_set = _fitted_set()
    fitted = rule_set.fitted("lead-probabilistic")
    assert isinstance(fitted, FittedRule)
    with pytest.raises(ConfigurationError, match="is a probabilistic rule"):
        rule_set.rule("lead-probabilistic")
    with pytest.raises(ConfigurationError, match="not a probabilistic rule"):
        rule_set.fitted(DEFAULT_LEAD_RULES.rules[0].name)
    assert rule_set.only("lead-probabilistic").rules == (fitted,)
    assert fitted.base_type is fitted.matching_type is RecordType.LEAD
    assert "Fellegi-Sunter over full_name, email" in fitted.describe()
    assert rule_set.for_base(RecordType.LEAD)[-1] is fitted
    with pytest.raises(ConfigurationError, match="DuplicateRule or FittedRule"):
        DuplicateRuleSet(name="x", rules=(DEFAULT_PROBABILISTIC_RULE,))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="unique"):
        DuplicateRuleSet(name="x", rules=(fitted, fitted))
    with pytest.raises(ConfigurationError, match="needs a name"):
        ProbabilisticRule(" ", (Comparison("email"),))


def test_the_engine_scan_with_the_rule_finds_what_the_rule_finds_on_its_own() -> None:
    records = generate_leads(900, seed=5).records()
    model = fit(DEFAULT_PROBABILISTIC_RULE, records)
    alone = DuplicateRuleSet(name="fs", rules=(model,))
    edges = {(e.record, e.candidate) for g in scan(records, alone) for e in g.edges}
    assert edges == {(m.record, m.candidate) for m in model.scan(records)}
    assert edges  # the generated set holds duplicates
    assert scan(list(reversed(records)), alone) == scan(records, alone)  # deterministic


def test_find_duplicates_and_the_save_check_use_the_rule_and_explain_each_field() -> None:
    records, rule_set = _fitted_set()
    index = DuplicateIndex(rule_set)
    index.rebuild(records)
    model = rule_set.fitted("lead-probabilistic")
    assert isinstance(model, FittedRule)
    pairs = model.scan(records)
    record = next(r for r in records if r.ref == pairs[0].record)
    found = [m for m in find_duplicates(record, rule_set, index) if "lead-probabilistic" in m.rules]
    assert pairs[0].candidate in {m.candidate for m in found}
    match = next(m for m in found if m.candidate == pairs[0].candidate)
    evidence = (
        (match.rule, match.score, match.conditions)
        if match.rule == "lead-probabilistic"
        else next(
            (e.rule, e.score, e.conditions)
            for e in match.other_rules
            if e.rule == "lead-probabilistic"
        )
    )
    _, score, conditions = evidence
    assert [c.condition.base_field for c in conditions] == [
        c.field for c in DEFAULT_PROBABILISTIC_RULE.comparisons
    ]
    expected = model.compare(record, next(r for r in records if r.ref == pairs[0].candidate))
    assert [c.weight for c in conditions] == [round(w.weight, 3) for w in expected.contributions]
    assert score == round(expected.probability * 100, 2)
    assert all(c.level for c in conditions)
    assert f"{conditions[0].condition.base_field} {conditions[0].level}" in conditions[0].explain()
    with pytest.raises(DuplicatesUnresolved):
        check_on_save(record, rule_set.with_mode(CheckMode.BLOCK), index)


def test_below_the_threshold_the_rule_gives_no_evidence() -> None:
    _, rule_set = _fitted_set()
    model = rule_set.fitted("lead-probabilistic")
    assert isinstance(model, FittedRule)
    readers = model.readers()
    a = _record("a", full_name="Anna Berg", company="Acme AB")
    b = _record("b", full_name="Zygmunt Nowak", company="Other Oy")
    assert model.evidence([r(a) for r in readers], [r(b) for r in readers]) is None


def test_the_qualification_check_finds_lead_duplicates_through_the_rule() -> None:
    dataset = generate_leads(300, seed=4)
    model = fit(DEFAULT_PROBABILISTIC_RULE, dataset.records())
    rule_set = DuplicateRuleSet(name="fs-only", rules=(model,))
    pairs = model.scan(dataset.records())
    first, second = pairs[0].record.record_id, pairs[0].candidate.record_id
    leads = {lead.id.value: lead for lead in dataset.leads()}
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.leads.add(leads[second])
        uow.commit()
    check = EngineDuplicateCheck.from_store(store, rule_set, leads=True)
    with check.store.unit_of_work() as uow:
        found = check.find(leads[first], uow)
    assert [c.record_id for c in found] == [second]
    assert found[0].score == round(pairs[0].probability * 100, 2)


def test_a_rule_set_with_a_fitted_rule_round_trips_through_json() -> None:
    _, rule_set = _fitted_set(300)
    converter = make_converter()
    assert converter.loads(converter.dumps(rule_set), DuplicateRuleSet) == rule_set
