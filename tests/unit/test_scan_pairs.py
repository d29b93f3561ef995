"""The scan's own pass against the index lookups it replaces, on generated leads (with small
block sizes many keys are stop keys, so every branch of the key choice is taken), and the
rules a scan looks up."""

from __future__ import annotations

import pytest

from leadkit.duplicates import DEFAULT_LEAD_RULES, DuplicateIndex, RecordType
from leadkit.duplicates.compiled import compile_rule_set
from leadkit.duplicates.engine import _pair_edges, scan_report
from leadkit.duplicates.record_view import duplicate_record
from leadkit.duplicates.scan_pairs import scanned_rules
from leadkit.testing.dupdata import generate_leads

RECORDS = [row.to_record() for row in generate_leads(400, seed=11).rows]


@pytest.mark.parametrize("block", [2, 3, 5, 1000])
@pytest.mark.parametrize("compound", [True, False])
def test_the_scan_compares_and_finds_what_index_lookups_do(block: int, compound: bool) -> None:
    report = scan_report(RECORDS, DEFAULT_LEAD_RULES, max_block_size=block, compound_keys=compound)
    index = DuplicateIndex(DEFAULT_LEAD_RULES, max_block_size=block, compound_keys=compound)
    prepared = sorted(
        (index.compiled.prepare(duplicate_record(r)) for r in RECORDS), key=lambda p: p.ref
    )
    index.rebuild_prepared(prepared)
    edges, comparisons = _pair_edges(index, prepared)
    assert {(e.record, e.candidate): e for g in report.groups for e in g.edges} == {
        (e.record, e.candidate): e for e in edges
    }
    assert report.comparisons == comparisons
    assert report.matches == len(edges) > 0
    assert report.stop_keys == index.stats().stop_keys


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
