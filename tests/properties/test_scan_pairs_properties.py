"""The scan's own pass (:func:`leadkit.duplicates.scan_pairs.scan_pairs`) compares exactly
the pairs, counts exactly the comparisons and finds exactly the evidence that looking every
record up in a :class:`~leadkit.duplicates.index.DuplicateIndex` of all of them does (the
scan before it, kept as ``engine._scan_by_lookups``): leads, contacts and accounts mixed, active
or not, any block size, compound keys or not, whole or in shards. With a window over its
oversized compound blocks the scan compares a subset of those pairs (the same evidence for
each pair it finds), all of them when no block exceeds the window, and its shards together
find what it finds whole."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from leadkit import Shard
from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    DuplicateRecord,
    DuplicateRuleSet,
    RecordType,
)
from leadkit.duplicates.engine import ScanReport, _scan_by_lookups, merge_scan_reports, scan_report
from leadkit.duplicates.matches import DuplicateMatch, RuleEvidence
from leadkit.duplicates.record_view import RecordRef
from leadkit.testing.dupdata import generate_leads
from support.duplicate_cases import BLANKS_MATCH, colliding_record

RULE_SETS = st.sampled_from([DEFAULT_LEAD_RULES, BLANKS_MATCH])


@st.composite
def _mixed(draw: st.DrawFn) -> list[DuplicateRecord]:
    made = [
        draw(colliding_record(f"R{i}", (RecordType.LEAD, RecordType.LEAD, RecordType.CONTACT)))
        for i in range(draw(st.integers(0, 14)))
    ]
    seed, size = draw(st.integers(0, 500)), draw(st.integers(0, 60))
    generated = [row.to_record() for row in generate_leads(size, seed=seed).rows] if size else []
    return made + generated


@settings(max_examples=60, deadline=None)
@given(
    stored=_mixed(),
    rules=RULE_SETS,
    block=st.sampled_from([1, 2, 3, 5, 40, 1000]),
    compound=st.booleans(),
    count=st.integers(1, 3),
    data=st.data(),
)
def test_scan_pairs_equal_the_index_lookups(
    stored: list[DuplicateRecord],
    rules: DuplicateRuleSet,
    block: int,
    compound: bool,
    count: int,
    data: st.DataObject,
) -> None:
    shard = None if count == 1 else Shard(data.draw(st.integers(0, count - 1)), count)
    report = scan_report(
        stored, rules, max_block_size=block, compound_keys=compound, shard=shard, window=None
    )
    edges, comparisons, stop_keys = _scan_by_lookups(
        stored, rules, max_block_size=block, compound_keys=compound, shard=shard
    )
    found = {(e.record, e.candidate): e for g in report.groups for e in g.edges}
    assert found == {(e.record, e.candidate): e for e in edges}
    assert report.comparisons == comparisons
    assert report.stop_keys == stop_keys


def _evidence(edge: DuplicateMatch) -> dict[str, RuleEvidence]:
    return {
        e.rule: e for e in (RuleEvidence(edge.rule, edge.score, edge.conditions), *edge.other_rules)
    }


def _edges(report: ScanReport) -> dict[tuple[RecordRef, RecordRef], DuplicateMatch]:
    return {(e.record, e.candidate): e for g in report.groups for e in g.edges}


@settings(max_examples=60, deadline=None)
@given(
    stored=_mixed(),
    rules=RULE_SETS,
    block=st.sampled_from([2, 5, 40, 1000]),
    window=st.integers(1, 4),
    count=st.integers(2, 3),
)
def test_a_windowed_scan_finds_a_part_of_the_whole_blocks_and_its_shards_find_it_all(
    stored: list[DuplicateRecord],
    rules: DuplicateRuleSet,
    block: int,
    window: int,
    count: int,
) -> None:
    whole = scan_report(stored, rules, max_block_size=block, window=None)
    windowed = scan_report(stored, rules, max_block_size=block, window=window)
    found, every = _edges(windowed), _edges(whole)
    assert found.keys() <= every.keys()
    for pair, edge in found.items():  # each rule's evidence as the whole blocks give it
        assert _evidence(edge).items() <= _evidence(every[pair]).items()
    assert windowed.comparisons <= whole.comparisons
    assert windowed.stop_keys == whole.stop_keys
    wide = scan_report(stored, rules, max_block_size=block, window=len(stored) + 1)
    assert _edges(wide) == every
    assert wide.comparisons == whole.comparisons
    shards = [
        scan_report(stored, rules, max_block_size=block, window=window, shard=shard)
        for shard in Shard.all(count)
    ]
    assert _edges(merge_scan_reports(shards)) == found
