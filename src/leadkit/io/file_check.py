"""The duplicate check within an import's file, in memory that grows by a few hundred bytes a
row: :func:`file_duplicate_groups` finds the groups
:func:`~leadkit.duplicates.engine.check_import` finds among the rows to create (the same
members, the same evidence), without an in-memory index of their keys as text and their
prepared values as objects.

How: each row is prepared once, as the engine prepares it; what is kept of it is its
normalised values in one ``marshal`` blob and the keys it is indexed under as 64-bit hashes in
one flat array. Once every row is in, the hashes are counted in two bit sets (seen once,
seen again): only the keys two rows share (or seem to: a bit set has collisions) get an exact
posting list. Each row is then looked up as the engine's index looks it up -- its keys
counted (a key that no two rows share is held by the row itself or by nobody), the keys
chosen by :func:`~leadkit.duplicates.index.choose_keys` with those counts, the candidates
read from the posting lists -- and compared with its candidates by the same rules.

A key is named by Python's 64-bit ``hash`` of its text in this process (the engine's own
compound keys are 64-bit digests already): two keys sharing a hash (about one chance in
10**12 for a file of a million keys) are taken as one, which can only change which keys a
row is looked up by; the rules still decide every match.
"""

from __future__ import annotations

import marshal
from array import array
from collections.abc import Iterable
from typing import Final

from leadkit.duplicates.compiled import CompiledRule, Prepared, compile_rule_set
from leadkit.duplicates.engine import _groups
from leadkit.duplicates.index import (
    DEFAULT_MAX_BLOCK_SIZE,
    _check_block_size,
    assemble_blocks,
    choose_keys,
    evaluate_blocks,
    wanted_keys,
)
from leadkit.duplicates.matches import DuplicateGroup, DuplicateMatch
from leadkit.duplicates.record_view import (
    DuplicateRecord,
    RecordRef,
    RecordType,
    duplicate_record,
)
from leadkit.duplicates.rules import DuplicateRuleSet
from leadkit.errors import InvalidValue

__all__ = ["FileDuplicateCheck", "file_duplicate_groups"]

_BITS_PER_KEY: Final = 32
"""Bits of each of the two bit sets per key counted: about 3 % of the keys no two rows share
get a posting list all the same."""


def file_duplicate_groups(
    records: Iterable[DuplicateRecord],
    rule_set: DuplicateRuleSet,
    *,
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
) -> tuple[DuplicateGroup, ...]:
    """The duplicate groups among ``records`` (leads): ``check_import(records, rule_set,
    max_block_size=max_block_size).groups``, in bounded memory (see the module docs).

    Raises InvalidValue for a record that is not a lead or appears twice, ConfigurationError
    for a bad ``max_block_size``."""
    check = FileDuplicateCheck(rule_set, max_block_size=max_block_size)
    for record in records:
        check.add(record)
    return check.groups()


class FileDuplicateCheck:
    """The rows of a file, added one by one (:meth:`add`), then grouped (:meth:`groups`)."""

    def __init__(
        self, rule_set: DuplicateRuleSet, *, max_block_size: int = DEFAULT_MAX_BLOCK_SIZE
    ) -> None:
        self._limit = _check_block_size(max_block_size)
        self._compiled = compile_rule_set(rule_set)
        # Leads are looked up among leads: rules towards contacts and accounts find nothing.
        self._rules: tuple[CompiledRule, ...] = tuple(
            r
            for r in self._compiled.by_base.get(RecordType.LEAD, ())
            if r.rule.matching_type is RecordType.LEAD
        )
        # A rule whose conditions read the same feature on both sides looks a row up by keys
        # it is indexed under, but for its overflow key: only the other rules' are made.
        same = [r for r in self._rules if all(c.base == c.matching for c in r.conditions)]
        self._other = tuple(r for r in self._rules if r not in same)
        self._overflow = frozenset(
            hash(r.overflow_key) for r in same if r.compound and len(r.conditions) > 1
        )
        self._refs: list[RecordRef] = []
        self._seen: set[RecordRef] = set()
        self._values: list[bytes] = []
        self._active = bytearray()
        self._keys = array("q")  # every row's index keys (hashes), row after row
        self._ends = array("Q")  # where each row's keys end in _keys
        self._extra = array("q")  # the keys a row looks up but is not indexed under
        self._extra_ends = array("Q")

    def add(self, record: DuplicateRecord) -> None:
        """Take one row (its draft record). Raises InvalidValue for a record that is not a
        lead or was added before."""
        view = duplicate_record(record)
        if view.record_type is not RecordType.LEAD:
            raise InvalidValue("records", str(view.ref), "must be leads")
        prepared = self._compiled.prepare(view)
        ref = prepared.ref
        if ref in self._seen:
            raise InvalidValue("records", str(ref), "appears twice")
        self._seen.add(ref)
        own = {hash(k) for k in self._compiled.index_keys(prepared)}
        looked_up = set(self._overflow)  # a superset of the keys looked up but not indexed
        if self._other:
            wanted = wanted_keys(prepared, self._other)
            looked_up.update(hash(k) for w in wanted for k in w.every_key())
        self._refs.append(ref)
        self._values.append(marshal.dumps(prepared.values))
        self._active.append(prepared.active)
        self._keys.extend(own)
        self._ends.append(len(self._keys))
        self._extra.extend(looked_up - own)
        self._extra_ends.append(len(self._extra))

    def _prepared(self, position: int) -> Prepared:
        values = marshal.loads(self._values[position])
        return Prepared(self._refs[position], bool(self._active[position]), values)

    def _own(self, position: int) -> array[int]:
        start = self._ends[position - 1] if position else 0
        return self._keys[start : self._ends[position]]

    def _shared(self) -> dict[int, list[int]]:
        """The keys two rows (or more) index or look up, each with the rows indexed under
        it (in row order); a few keys only one row touches are among them (bit set
        collisions), each with its one row or none."""
        total = len(self._keys) + len(self._extra)
        bits = 1 << max(16, (total * _BITS_PER_KEY).bit_length())
        mask = bits - 1
        once, again = bytearray(bits >> 3), bytearray(bits >> 3)
        for keys in (self._keys, self._extra):
            for h in keys:
                slot = h & mask
                byte, bit = slot >> 3, 1 << (slot & 7)
                if once[byte] & bit:
                    again[byte] |= bit
                else:
                    once[byte] |= bit
        del once
        shared: dict[int, list[int]] = {}
        ends = self._ends
        start = 0
        for position, end in enumerate(ends):
            for h in self._keys[start:end]:
                slot = h & mask
                if again[slot >> 3] & (1 << (slot & 7)):
                    shared.setdefault(h, []).append(position)
            start = end
        for h in self._extra:
            slot = h & mask
            if again[slot >> 3] & (1 << (slot & 7)):
                shared.setdefault(h, [])
        return shared

    def groups(self) -> tuple[DuplicateGroup, ...]:
        """The duplicate groups of the rows added (as ``check_import(...).groups``)."""
        shared = self._shared()
        refs = self._refs
        edges: list[DuplicateMatch] = []
        for position in range(len(refs)):
            prepared = self._prepared(position)
            edges += self._search(position, prepared, shared)
        return _groups(edges)

    def _search(
        self, position: int, prepared: Prepared, shared: dict[int, list[int]]
    ) -> list[DuplicateMatch]:
        """The matches of one row among the rows (``DuplicateIndex.search`` of it)."""
        wanted = wanted_keys(prepared, self._rules)
        if not wanted:
            return []
        own = set(self._own(position))
        counts: dict[str, int] = {}
        for want in wanted:
            for key in want.every_key():
                h = hash(key)
                held = shared.get(h)
                count = len(held) if held is not None else int(h in own)
                if count:
                    counts[key] = count
        chosen = choose_keys(wanted, counts, self._limit)
        if not chosen:
            return []
        refs = self._refs
        postings: dict[str, list[RecordRef]] = {}
        rows: set[int] = set()
        for choice in chosen:
            for key in choice.live:
                held = shared.get(hash(key))
                if held is not None:  # else held by this row alone: no candidate
                    postings[key] = [refs[i] for i in held]
                    rows.update(held)
        rows.discard(position)
        blocks = assemble_blocks(chosen, postings, prepared.ref)
        if not blocks:
            return []
        stored = {refs[i]: self._prepared(i) for i in rows}
        return evaluate_blocks(prepared, blocks, stored)
