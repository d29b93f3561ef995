"""Compound blocking keys (key format 2): a rule of several conditions looks up only the
records that share a key in every condition; records with too many combinations take the
rule's overflow key; persisted keys of another key format are rebuilt."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadkit.adapters.sql import SqlStore
from leadkit.adapters.sql.duplicate_keys import SqlKeyStore
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    Condition,
    DuplicateIndex,
    DuplicateRecord,
    DuplicateRule,
    DuplicateRuleSet,
    RecordRef,
    RecordType,
    candidates,
    scan_report,
)
from leadkit.duplicates.candidates import keys_fingerprint
from leadkit.duplicates.compiled import MAX_COMPOUND_KEYS, compile_rule_set

LEAD = RecordType.LEAD


def _lead_rules(name: str, *conditions: Condition) -> DuplicateRuleSet:
    """A rule set of one lead-to-lead rule."""
    rule = DuplicateRule(name=name, base_type=LEAD, matching_type=LEAD, conditions=conditions)
    return DuplicateRuleSet(name=name, rules=(rule,))


NAME_AT_COMPANY = _lead_rules(
    "same-last-name-same-company", Condition.exact("last_name"), Condition.exact("company")
)


def rec(record_id: str, **fields: object) -> DuplicateRecord:
    return DuplicateRecord(record_type=LEAD, record_id=record_id, **fields)  # type: ignore[arg-type]


def _company(n: int) -> list[DuplicateRecord]:
    """Twenty surnames at 25 companies: a record shares its surname with n/20 records, its
    company with n/25, both with n/100."""
    return [rec(f"L-{i}", last_name=f"name{i % 20}", company=f"firm{i % 25}") for i in range(n)]


def test_a_two_condition_rule_looks_up_only_records_sharing_both_keys() -> None:
    records = _company(500)
    index = DuplicateIndex(NAME_AT_COMPANY)
    index.rebuild(records)
    rules = index.compiled.by_base[LEAD]
    blocks = index.blocks(index.compiled.prepare(records[0]), rules)
    assert len(blocks) == 1
    assert sorted(blocks[0].refs) == sorted(RecordRef(LEAD, f"L-{i}") for i in range(100, 500, 100))
    assert all(key.startswith("&") for key in blocks[0].chosen)


def test_without_compound_keys_the_block_is_the_cheapest_condition() -> None:
    records = _company(500)
    index = DuplicateIndex(NAME_AT_COMPANY, compound_keys=False)
    index.rebuild(records)
    blocks = index.blocks(index.compiled.prepare(records[0]), index.compiled.by_base[LEAD])
    assert len(blocks[0].refs) == 19  # the company: 20 records, the surname 25
    assert not any(k.startswith("&") for k in index.keys_of(records[0]))


def test_compound_and_single_blocking_find_the_same_groups_here() -> None:
    records = _company(300)
    compound = scan_report(records, NAME_AT_COMPANY)
    single = scan_report(records, NAME_AT_COMPANY, compound_keys=False)
    assert compound.groups == single.groups
    assert compound.comparisons < single.comparisons / 3


def test_a_record_with_too_many_combinations_takes_the_overflow_key_and_is_still_found() -> None:
    rules = _lead_rules("phone-name", Condition.exact("phones"), Condition.exact("company"))
    phones = tuple(f"+4670123{i:04d}" for i in range(MAX_COMPOUND_KEYS + 1))
    many = rec("L-many", phones=phones, company="acme")
    one = rec("L-one", phones=(phones[3],), company="acme")
    index = DuplicateIndex(rules)
    index.rebuild([many, one])
    rule = index.compiled.rules[0]
    assert rule.overflow_key in index.keys_of(many)
    assert rule.overflow_key not in index.keys_of(one)
    found = index.find(one)
    assert [m.candidate.record_id for m in found] == ["L-many"]
    assert [m.candidate.record_id for m in index.find(many)] == ["L-one"]


def test_a_rule_that_ignores_blanks_gives_a_record_with_a_blank_no_compound_key() -> None:
    compiled = compile_rule_set(NAME_AT_COMPANY)
    keys = compiled.index_keys(compiled.prepare(rec("L-1", last_name="berg")))
    assert not any(k.startswith("&") for k in keys)


def test_the_key_format_is_part_of_the_fingerprint(monkeypatch: pytest.MonkeyPatch) -> None:
    now = keys_fingerprint(DEFAULT_LEAD_RULES, leads=True)
    monkeypatch.setattr(candidates, "KEY_FORMAT_VERSION", 1)
    assert keys_fingerprint(DEFAULT_LEAD_RULES, leads=True) != now


def test_persisted_keys_of_the_previous_key_format_are_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SqlStore.open(path=tmp_path / "keys.db") as store:
        keys = SqlKeyStore(store.engine)
        with monkeypatch.context() as patched:
            patched.setattr(candidates, "KEY_FORMAT_VERSION", 1)
            old = EngineDuplicateCheck.from_store(store, key_store=keys, leads=True)
            old_fingerprint = keys.fingerprint()
            assert old_fingerprint == old.fingerprint
        check = EngineDuplicateCheck.from_store(store, key_store=keys, rebuild=False, leads=True)
        assert check.fingerprint != old_fingerprint
        assert check.refresh() is True
        assert keys.fingerprint() == check.fingerprint
