"""The scan's own pass against the index lookups it replaces, on generated leads (with small
block sizes many keys are stop keys, so every branch of the key choice is taken), and the
rules a scan looks up."""

from __future__ import annotations

import pytest

from leadkit import Shard
from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    Condition,
    DuplicateRecord,
    DuplicateRule,
    DuplicateRuleSet,
    RecordType,
)
from leadkit.duplicates.compiled import MAX_COMPOUND_KEYS, compile_rule_set
from leadkit.duplicates.engine import (
    DEFAULT_SCAN_WINDOW,
    _scan_by_lookups,
    merge_scan_reports,
    scan,
    scan_report,
)
from leadkit.duplicates.scan_keys import Key, Wanted, index_form, index_keys, keys_once, wanted
from leadkit.duplicates.scan_pairs import scanned_rules
from leadkit.errors import InvalidValue
from leadkit.scan_workers import scan_in_processes
from leadkit.testing.dupdata import generate_leads

RECORDS = [row.to_record() for row in generate_leads(400, seed=11).rows]


@pytest.mark.parametrize("block", [2, 3, 5, 1000])
@pytest.mark.parametrize("compound", [True, False])
def test_the_scan_compares_and_finds_what_index_lookups_do(block: int, compound: bool) -> None:
    report = scan_report(
        RECORDS, DEFAULT_LEAD_RULES, max_block_size=block, compound_keys=compound, window=None
    )
    edges, comparisons, stop_keys = _scan_by_lookups(
        RECORDS, DEFAULT_LEAD_RULES, max_block_size=block, compound_keys=compound
    )
    assert {(e.record, e.candidate): e for g in report.groups for e in g.edges} == {
        (e.record, e.candidate): e for e in edges
    }
    assert report.comparisons == comparisons
    assert report.matches == len(edges) > 0
    assert report.stop_keys == stop_keys


def test_a_scan_of_leads_looks_up_only_the_rules_against_leads() -> None:
    compiled = compile_rule_set(DEFAULT_LEAD_RULES)
    leads_only = scanned_rules(compiled, {RecordType.LEAD})[RecordType.LEAD]
    assert [r.rule.name for r in leads_only] == [
        r.name for r in DEFAULT_LEAD_RULES.rules if r.matching_type is RecordType.LEAD
    ]
    with_contacts = scanned_rules(compiled, {RecordType.LEAD, RecordType.CONTACT})
    assert len(with_contacts[RecordType.LEAD]) == len(leads_only) + 4
    accounts_only = scanned_rules(compiled, {RecordType.ACCOUNT})[RecordType.LEAD]
    assert [r.rule.name for r in accounts_only] == [
        "lead-account-same-company",
        "lead-account-same-website",
    ]


def test_keys_made_once_are_the_index_keys_and_the_lookup_keys() -> None:
    phones = tuple(f"+4670123{i:04d}" for i in range(MAX_COMPOUND_KEYS + 1))
    many = DuplicateRecord(
        record_type=RecordType.LEAD, record_id="L-many", phones=phones, full_name="Anna Berg"
    )
    blank = DuplicateRecord(record_type=RecordType.LEAD, record_id="L-blank", active=False)
    rules = DuplicateRuleSet(
        name="phones at a company",
        rules=[
            DuplicateRule(
                name="phone-name",
                base_type=RecordType.LEAD,
                matching_type=RecordType.LEAD,
                conditions=(Condition.exact("phones"), Condition.exact("full_name")),
                ignore_blank=False,
            ),
            *DEFAULT_LEAD_RULES.rules,
        ],
    )
    compiled = compile_rule_set(rules)
    scanned = scanned_rules(compiled, {RecordType.LEAD})[RecordType.LEAD]
    for record in [many, blank, *RECORDS[:50]]:
        prepared = compiled.prepare(record)
        keys, lookups = keys_once(prepared, scanned)
        assert keys == index_keys(compiled, prepared)
        assert _in_index_form(keys) == compiled.index_keys(prepared)
        assert lookups == wanted(prepared, scanned)
        assert [_wanted_in_index_form(w) for w in lookups] == [
            (rule, keys, rule.compound_keys(prepared, matching=False)) for rule, keys, _ in lookups
        ]
    overflow = compiled.rules[0].overflow_key
    assert overflow in keys_once(compiled.prepare(many), scanned)[0]


def _in_index_form(keys: set[Key]) -> frozenset[str]:
    return frozenset(index_form(k) for k in keys)


def _wanted_in_index_form(
    want: Wanted,
) -> tuple[object, list[list[str]], list[str] | None]:
    """A scan's lookup keys of one rule as the index makes them (compound keys hashed, the
    overflow key left out: the index appends it when it looks up)."""
    rule, keys, compound = want
    if compound is None:
        return rule, keys, None
    assert compound[-1] == rule.overflow_key
    return rule, keys, [index_form(k) for k in compound[:-1]]


def test_a_condition_shared_by_rules_against_one_record_type_is_compiled_once() -> None:
    compiled = compile_rule_set(DEFAULT_LEAD_RULES)
    by_name = {r.rule.name: r for r in compiled.rules}
    name_at_company = by_name["lead-similar-name-same-company"].conditions[0]
    assert by_name["lead-similar-name-same-postal-code"].conditions[0] is name_at_company
    assert by_name["lead-similar-name-same-email-domain"].conditions[0] is name_at_company
    against_contacts = by_name["lead-contact-similar-name-same-company"].conditions[0]
    assert against_contacts is not name_at_company  # another matching type: other keys
    assert against_contacts.namespace != name_at_company.namespace


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"rule_set": None}, "rule_set"),
        ({"rule_set": list(DEFAULT_LEAD_RULES.rules)}, "rule_set"),
        ({"rule_set": DEFAULT_LEAD_RULES, "compound_keys": "no"}, "compound_keys"),
        ({"rule_set": DEFAULT_LEAD_RULES, "window": 0}, "window"),
        ({"rule_set": DEFAULT_LEAD_RULES, "window": True}, "window"),
        ({"rule_set": DEFAULT_LEAD_RULES, "window": 2.5}, "window"),
    ],
)
def test_scan_report_refuses_bad_arguments_naming_the_field(
    options: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        scan_report([], **options)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize("window", [1, 2])
def test_a_window_compares_fewer_pairs_in_big_compound_blocks_and_shards_find_the_same(
    window: int,
) -> None:
    whole = scan_report(RECORDS, DEFAULT_LEAD_RULES, window=None)
    windowed = scan_report(RECORDS, DEFAULT_LEAD_RULES, window=window)
    assert windowed.comparisons < whole.comparisons
    edges = {(e.record, e.candidate) for g in windowed.groups for e in g.edges}
    assert 0 < len(edges) <= whole.matches
    assert edges <= {(e.record, e.candidate) for g in whole.groups for e in g.edges}
    shards = [
        scan_report(RECORDS, DEFAULT_LEAD_RULES, window=window, shard=shard)
        for shard in Shard.all(3)
    ]
    merged = merge_scan_reports(shards)
    assert {(e.record, e.candidate) for g in merged.groups for e in g.edges} == edges
    assert merged.groups == windowed.groups


def test_scans_are_exact_unless_a_window_is_asked_for() -> None:
    exact = scan_report(RECORDS, DEFAULT_LEAD_RULES, window=None)
    assert scan_report(RECORDS, DEFAULT_LEAD_RULES) == exact
    assert scan_in_processes(RECORDS, DEFAULT_LEAD_RULES, workers=1) == exact
    assert tuple(scan(RECORDS, DEFAULT_LEAD_RULES)) == tuple(exact.groups)
    windowed = scan_report(RECORDS, DEFAULT_LEAD_RULES, window=DEFAULT_SCAN_WINDOW // 10)
    assert windowed.comparisons < exact.comparisons  # the records hold an oversized block
