"""Properties of shards: every key falls in exactly one shard, and the shards of a scan
together find exactly what the whole scan finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from leadkit import Shard, shard_of
from leadkit.duplicates import DEFAULT_LEAD_RULES, merge_scan_reports, scan_report
from leadkit.testing.dupdata import generate_leads


@given(st.text(max_size=30), st.integers(min_value=1, max_value=64))
def test_a_key_falls_in_exactly_one_shard(key: str, count: int) -> None:
    holders = [shard for shard in Shard.all(count) if shard.holds(key)]
    assert holders == [Shard(shard_of(key, count), count)]


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    size=st.integers(min_value=2, max_value=400),
    count=st.integers(min_value=1, max_value=5),
    compound=st.booleans(),
)
def test_the_union_of_the_shards_of_a_scan_is_the_whole_scan(
    seed: int, size: int, count: int, compound: bool
) -> None:
    records = [row.to_record() for row in generate_leads(size, seed=seed).rows]
    whole = scan_report(records, DEFAULT_LEAD_RULES, compound_keys=compound)
    parts = [
        scan_report(records, DEFAULT_LEAD_RULES, compound_keys=compound, shard=shard)
        for shard in Shard.all(count)
    ]
    merged = merge_scan_reports(parts)
    assert merged.groups == whole.groups
    assert merged.matches == whole.matches
    assert merged.records == whole.records
    assert merged.comparisons >= whole.comparisons
