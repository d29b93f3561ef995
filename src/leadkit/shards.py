"""Shards: one part of a bulk job, so that a host can spread the job over worker processes
(``leadkit dedupe --workers N``) or over machines in its own job system.

A :class:`Shard` is ``index`` of ``count``: the items whose stable hash of their key (a lead
id, a record reference, a row number) falls in that part. The hash is the first eight bytes
of BLAKE2b of the key's UTF-8 text, so the same key lands in the same shard in every process,
on every machine and in every Python (unlike ``hash()``, which is salted per process).
"""

from __future__ import annotations

import hashlib

import attrs

from leadkit.errors import InvalidValue

__all__ = ["Shard", "shard_of"]


def shard_of(key: str, count: int) -> int:
    """The shard (0 to ``count`` - 1) that ``key`` falls in among ``count`` shards.

    Raises InvalidValue for a ``count`` below 1 or a ``key`` that is not a string.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InvalidValue("shard.count", count, "must be an integer >= 1")
    if not isinstance(key, str):
        raise InvalidValue("shard key", key, "must be a string")
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def _check_count(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValue("shard.count", value, "must be an integer >= 1")


@attrs.frozen
class Shard:
    """Part ``index`` (from 0) of ``count`` parts of a job.

    Raises InvalidValue naming ``shard.count`` for a count below 1 and ``shard.index`` for an
    index below 0 or not below the count.
    """

    index: int
    count: int

    def __attrs_post_init__(self) -> None:
        _check_count(self.count)
        index = self.index
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise InvalidValue("shard.index", index, "must be an integer >= 0")
        if index >= self.count:
            raise InvalidValue("shard.index", index, f"must be below the shard count {self.count}")

    def holds(self, key: str) -> bool:
        """True when ``key`` falls in this shard. Raises InvalidValue for a non-string key."""
        return shard_of(key, self.count) == self.index

    contains = holds

    @classmethod
    def all(cls, count: int) -> tuple[Shard, ...]:
        """Every shard of ``count`` (``count`` of them, in order). Raises InvalidValue for a
        count below 1."""
        _check_count(count)
        return tuple(cls(i, count) for i in range(count))

    @classmethod
    def parse(cls, text: str) -> Shard:
        """A shard from ``"i/n"`` (``"0/4"``: the first of four). Raises InvalidValue naming
        ``shard`` for text of another form, or as the constructor does."""
        head, sep, tail = str(text).partition("/")
        if not sep or not head.strip().isdigit() or not tail.strip().isdigit():
            raise InvalidValue("shard", text, "must be 'index/count', such as '0/4'")
        return cls(int(head), int(tail))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
