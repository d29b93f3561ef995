"""Shards: ``i of n`` slices of a bulk job, so that a host can spread it over processes or
machines (rescoring, a duplicate scan, an import plan).

A key (a lead id, a blocking key) belongs to exactly one shard of ``n``: the first 8 bytes of
its BLAKE2b digest (UTF-8), read big-endian, modulo ``n``. The hash is stable across
processes, machines and Python versions (unlike ``hash()``), so every worker agrees::

    jobs = [Shard(i, 4) for i in range(4)]      # one per worker
    mine = [lead for lead in leads if jobs[0].contains(lead.id.value)]
"""

from __future__ import annotations

import hashlib

import attrs

from leadkit.errors import InvalidValue

__all__ = ["Shard"]


def _whole(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(field, value, "must be a whole number")
    return value


@attrs.frozen
class Shard:
    """Shard ``index`` of ``count`` (``0 <= index < count``).

    Raises InvalidValue naming ``count`` for a count that is not a whole number of at least 1,
    naming ``index`` for an index that is not a whole number in ``0..count-1``.
    """

    index: int
    count: int

    def __attrs_post_init__(self) -> None:
        count = _whole("count", self.count)
        if count < 1:
            raise InvalidValue("count", count, "must be at least 1")
        index = _whole("index", self.index)
        if not 0 <= index < count:
            raise InvalidValue("index", index, f"must be between 0 and {count - 1}")

    def contains(self, key: str) -> bool:
        """True when ``key`` falls in this shard (a stable hash of its UTF-8 text).

        Raises InvalidValue naming ``key`` when it is not text (or not encodable as UTF-8)."""
        if not isinstance(key, str):
            raise InvalidValue("key", key, "must be text")
        try:
            encoded = key.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidValue("key", key, "holds an unpaired surrogate (not UTF-8)") from None
        digest = hashlib.blake2b(encoded).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index
