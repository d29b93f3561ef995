"""Shards: the value type, its typed refusals and the stable hash."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadkit import InvalidValue, Shard, shard_of
from leadkit.duplicates import DEFAULT_LEAD_RULES, merge_scan_reports, scan_report
from leadkit.testing.dupdata import generate_leads


def test_a_shard_is_index_of_count() -> None:
    shard = Shard(1, 4)
    assert (shard.index, shard.count) == (1, 4)
    assert str(shard) == "1/4"
    assert Shard.parse(" 1/4") == shard
    assert Shard.all(3) == (Shard(0, 3), Shard(1, 3), Shard(2, 3))


@pytest.mark.parametrize(
    ("index", "count", "field"),
    [(0, 0, "shard.count"), (0, -2, "shard.count"), (0, True, "shard.count"),
     (-1, 2, "shard.index"), (2, 2, "shard.index"), (True, 2, "shard.index"),
     ("0", 2, "shard.index")],
)  # fmt: skip
def test_a_bad_shard_is_refused_naming_the_field(index: object, count: object, field: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        Shard(index, count)  # type: ignore[arg-type]
    assert raised.value.field == field


@pytest.mark.parametrize("text", ["", "1", "a/b", "1/", "/2", "1-2"])
def test_shard_text_of_another_form_is_refused(text: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        Shard.parse(text)
    assert raised.value.field == "shard"


def test_all_refuses_a_count_below_one() -> None:
    with pytest.raises(InvalidValue) as raised:
        Shard.all(0)
    assert raised.value.field == "shard.count"


def test_shard_of_refuses_a_bad_count_or_key() -> None:
    with pytest.raises(InvalidValue):
        shard_of("lead:L-1", 0)
    with pytest.raises(InvalidValue):
        shard_of(7, 2)  # type: ignore[arg-type]


def test_the_hash_is_stable_across_processes() -> None:
    # BLAKE2b, not the salted hash(): fixed values that any process must reproduce.
    assert [shard_of(f"lead:L-{i}", 7) for i in range(8)] == [
        shard_of(f"lead:L-{i}", 7) for i in range(8)
    ]
    assert shard_of("lead:L-1", 1) == 0
    spread = {shard_of(f"lead:L-{i}", 4) for i in range(200)}
    assert spread == {0, 1, 2, 3}


def test_a_scan_refuses_a_shard_that_is_not_a_shard() -> None:
    with pytest.raises(InvalidValue) as raised:
        scan_report([], DEFAULT_LEAD_RULES, shard=(0, 2))  # type: ignore[arg-type]
    assert raised.value.field == "shard"


def test_a_shard_looks_up_only_its_records() -> None:
    records = [row.to_record() for row in generate_leads(300, seed=3).rows]
    whole = scan_report(records, DEFAULT_LEAD_RULES)
    parts = [scan_report(records, DEFAULT_LEAD_RULES, shard=s) for s in Shard.all(3)]
    assert all(p.comparisons < whole.comparisons for p in parts)
    assert merge_scan_reports(parts).groups == whole.groups


def test_merging_refuses_no_reports_or_reports_of_other_scans() -> None:
    records = [row.to_record() for row in generate_leads(20, seed=1).rows]
    with pytest.raises(InvalidValue):
        merge_scan_reports([])
    with pytest.raises(InvalidValue):
        merge_scan_reports(
            [scan_report(records, DEFAULT_LEAD_RULES), scan_report(records[:5], DEFAULT_LEAD_RULES)]
        )


def test_the_hash_is_an_eight_byte_blake2b_of_the_utf8_key_big_endian() -> None:
    key = "D-0000042 åäö"
    number = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")
    assert Shard(number % 7, 7).contains(key)
    assert not Shard((number + 1) % 7, 7).contains(key)


def test_one_shard_holds_every_key() -> None:
    assert Shard(0, 1).contains("anything")


def test_contains_refuses_a_key_that_is_not_text() -> None:
    with pytest.raises(InvalidValue) as caught:
        Shard(0, 2).contains(42)  # type: ignore[arg-type]
    assert caught.value.field == "shard key"


@given(st.text(), st.integers(min_value=1, max_value=20))
def test_every_key_is_in_exactly_one_shard(key: str, count: int) -> None:
    assert sum(Shard(i, count).contains(key) for i in range(count)) == 1


def test_shards_split_many_keys_roughly_evenly() -> None:
    sizes = [sum(Shard(i, 4).contains(f"D-{n:07d}") for n in range(4000)) for i in range(4)]
    assert sum(sizes) == 4000
    assert min(sizes) > 850
