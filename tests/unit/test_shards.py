"""Shard: validation, the stable hash, and each key in exactly one shard."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadkit.errors import InvalidValue
from leadkit.shards import Shard


@pytest.mark.parametrize(
    ("index", "count", "field"),
    [(0, 0, "count"), (0, -1, "count"), (0, True, "count"), (0, 2.0, "count"),
     (2, 2, "index"), (-1, 2, "index"), (False, 2, "index"), ("0", 2, "index")],
)  # fmt: skip
def test_a_bad_index_or_count_is_refused_naming_the_field(
    index: object, count: object, field: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        Shard(index, count)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_the_hash_is_blake2b_of_the_utf8_key_first_eight_bytes_big_endian() -> None:
    key = "D-0000042 åäö"
    number = int.from_bytes(hashlib.blake2b(key.encode("utf-8")).digest()[:8], "big")
    assert Shard(number % 7, 7).contains(key)
    assert not Shard((number + 1) % 7, 7).contains(key)


def test_one_shard_holds_every_key() -> None:
    assert Shard(0, 1).contains("anything")


def test_contains_refuses_a_key_that_is_not_utf8_text() -> None:
    with pytest.raises(InvalidValue) as caught:
        Shard(0, 2).contains(42)  # type: ignore[arg-type]
    assert caught.value.field == "key"
    with pytest.raises(InvalidValue) as surrogate:
        Shard(0, 2).contains("\ud800")
    assert surrogate.value.field == "key"


@given(st.text(), st.integers(min_value=1, max_value=20))
def test_every_key_is_in_exactly_one_shard(key: str, count: int) -> None:
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return
    assert sum(Shard(i, count).contains(key) for i in range(count)) == 1


def test_shards_split_many_keys_roughly_evenly() -> None:
    sizes = [sum(Shard(i, 4).contains(f"D-{n:07d}") for n in range(4000)) for i in range(4)]
    assert sum(sizes) == 4000
    assert min(sizes) > 850
