"""The batch scan's candidate pairs and comparisons, in one pass over a scan's own index.

:func:`scan_pairs` compares exactly the pairs that looking each record up in a
:class:`~leadkit.duplicates.index.DuplicateIndex` of all the records compares (the blocks of
:meth:`DuplicateIndex.blocks <leadkit.duplicates.index.DuplicateIndex.blocks>`: compound keys
when none is a stop key, else the cheapest condition's live keys; a symmetric rule's pair
compared once), and finds the same evidence. It is faster because a scan knows every record
up front:

- records are numbered in their sorted order and the postings hold those numbers;
- each record's keys are computed once, when it is indexed, and its lookup keys (the same
  values, so the key caches are warm) are kept with it;
- a rule whose matching record type no scanned record has is never looked up;
- the counts of keys are the lengths of the postings, read in place.

The property test ``test_scan_pairs_equal_the_index_lookups`` holds it to the index's pairs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Mapping, Sequence

from leadkit.duplicates.compiled import CompiledRule, CompiledRuleSet, Prepared
from leadkit.duplicates.matches import RuleEvidence
from leadkit.duplicates.record_view import RecordRef, RecordType
from leadkit.duplicates.rules import Operator
from leadkit.duplicates.scan_keys import Key, Wanted, index_form, index_keys, keys_once
from leadkit.duplicates.scan_keys import wanted as wanted_keys
from leadkit.shards import Shard

__all__ = ["ScanPairs", "scan_pairs", "scanned_rules", "shard_key"]

Evidence = dict[tuple[RecordRef, RecordRef], dict[str, RuleEvidence]]


class ScanPairs:
    """What :func:`scan_pairs` found: the evidence per (base, candidate) pair, the rule
    evaluations made and the stop keys (key, records holding it), most shared first."""

    __slots__ = ("comparisons", "evidence", "stop_keys")

    def __init__(
        self, evidence: Evidence, comparisons: int, stop_keys: list[tuple[str, int]]
    ) -> None:
        self.evidence = evidence
        self.comparisons = comparisons
        self.stop_keys = stop_keys


def scanned_rules(
    compiled: CompiledRuleSet, present: Collection[RecordType]
) -> dict[RecordType, tuple[CompiledRule, ...]]:
    """Per base record type, the rules a scan of records of the ``present`` types looks up:
    a rule whose matching type no scanned record has can find no candidate, so its keys are
    never computed (a leads-only scan skips the rules against contacts and accounts)."""
    return {
        record_type: tuple(r for r in rules if r.rule.matching_type in present)
        for record_type, rules in compiled.by_base.items()
    }


def _choose(
    keys: list[list[str]],
    compound: list[Key] | None,
    postings: Mapping[Key, list[int]],
    limit: int,
) -> tuple[list[Key], bool] | None:
    """:func:`~leadkit.duplicates.index.choose_keys` for one rule: the live keys to read and
    whether they are compound keys, or None when the rule cannot match or every key is a
    stop key. The compound keys are looked at first: when none held is a stop key they are
    the choice, and the conditions' counts are never added up."""
    for condition_keys in keys:
        for key in condition_keys:
            if key in postings:
                break
        else:
            return None  # nobody holds a key of this condition
    if compound is not None:
        held = [k for k in compound if k in postings]
        if not held:
            return None  # nobody shares a key in every condition
        for joint in held:
            if len(postings[joint]) > limit:
                break
        else:
            return held, True
    best: list[Key] | None = None
    best_cost = 0
    for condition_keys in keys:
        counts = [(k, len(postings[k])) for k in condition_keys if k in postings]
        live: list[Key] = [k for k, n in counts if n <= limit]
        if not live:
            continue
        cost = sum(n for _, n in counts if n <= limit)
        if best is None or cost < best_cost:
            best, best_cost = live, cost
    return None if best is None else (best, False)


def _refs(live: list[Key], postings: Mapping[Key, list[int]], own: int) -> list[int]:
    if len(live) == 1:
        return [r for r in postings[live[0]] if r != own]
    union: dict[int, None] = {}
    for key in live:
        union.update(dict.fromkeys(postings[key]))
    union.pop(own, None)
    return list(union)


_Order = tuple[tuple[str, ...], ...]


def _order(rule: CompiledRule, record: Prepared, *, matching: bool) -> _Order:
    """Where a record sorts in a windowed block of ``rule``: its values of the rule's
    conditions, the words of a similarity condition's values sorted (swapped names meet)."""
    found: list[tuple[str, ...]] = []
    for c in rule.conditions:
        values = record.values[c.matching if matching else c.base]
        if c.condition is not None and c.condition.operator is Operator.SIMILAR:
            values = tuple(" ".join(sorted(v.split())) for v in values)
        found.append(values)
    return tuple(found)


class _Windows:
    """The sorted neighbourhoods of the compound blocks of more than ``2 * width + 1``
    records: such a block is sorted by the rule's values (:func:`_order`, then the record's
    number) and a record is compared with the ``width`` records on either side of it."""

    __slots__ = ("blocks", "limit", "postings", "records", "width")

    def __init__(
        self, width: int, postings: Mapping[Key, list[int]], records: Sequence[Prepared]
    ) -> None:
        self.width = width
        self.limit = 2 * width + 1
        self.postings = postings
        self.records = records
        self.blocks: dict[Key, tuple[list[int], dict[int, int], list[tuple[_Order, int]]]] = {}

    def _block(
        self, key: Key, rule: CompiledRule
    ) -> tuple[list[int], dict[int, int], list[tuple[_Order, int]]]:
        block = self.blocks.get(key)
        if block is None:
            records = self.records
            ordered = sorted(
                (_order(rule, records[n], matching=True), n) for n in self.postings[key]
            )
            numbers = [n for _, n in ordered]
            block = numbers, {n: i for i, n in enumerate(numbers)}, ordered
            self.blocks[key] = block
        return block

    def position(self, key: Key, rule: CompiledRule, number: int) -> int:
        """Where record ``number`` stands (or would stand) in the sorted block of ``key``."""
        _, positions, ordered = self._block(key, rule)
        found = positions.get(number)
        if found is None:
            mine = _order(rule, self.records[number], matching=False)
            return bisect_left(ordered, (mine, number))
        return found

    def around(self, key: Key, rule: CompiledRule, number: int) -> list[int]:
        """The records of the block of ``key`` within ``width`` of record ``number``."""
        numbers, positions, _ = self._block(key, rule)
        at = self.position(key, rule, number)
        width = self.width
        if number in positions:
            return numbers[max(at - width, 0) : at + width + 1]
        return numbers[max(at - width, 0) : at + width]

    def refs(
        self, live: list[Key], rule: CompiledRule, postings: Mapping[Key, list[int]], own: int
    ) -> list[int]:
        """:func:`_refs` of compound keys, a block of more than ``limit`` records windowed."""
        limit = self.limit
        if all(len(postings[key]) <= limit for key in live):
            return _refs(live, postings, own)
        union: dict[int, None] = {}
        for key in live:
            posting = postings[key]
            union.update(
                dict.fromkeys(posting if len(posting) <= limit else self.around(key, rule, own))
            )
        union.pop(own, None)
        return list(union)

    def met(
        self,
        shared: set[Key],
        rule: CompiledRule,
        postings: Mapping[Key, list[int]],
        one: int,
        other: int,
    ) -> bool:
        """True when two records sharing the compound keys ``shared`` meet in one of their
        blocks: a block of at most ``limit`` records, or a windowed one where they stand
        within ``width`` of each other."""
        limit, width = self.limit, self.width
        for key in shared:
            if len(postings[key]) <= limit:
                return True
            distance = self.position(key, rule, one) - self.position(key, rule, other)
            if abs(distance) <= width:
                return True
        return False


def _one_pass(
    compiled: CompiledRuleSet, by_base: Mapping[RecordType, tuple[CompiledRule, ...]]
) -> frozenset[RecordType]:
    """The record types whose index keys come from the same rules, read on the same
    values, as their lookup keys (every rule that may match them is one they are looked up
    by, field for field): their keys are computed once, for both."""
    same: set[RecordType] = set()
    for record_type, matching in compiled.by_matching.items():
        if matching == by_base.get(record_type) and all(
            c.base == c.matching for rule in matching for c in rule.conditions
        ):
            same.add(record_type)
    return frozenset(same)


def _index(
    compiled: CompiledRuleSet,
    records: Sequence[Prepared],
    by_base: Mapping[RecordType, tuple[CompiledRule, ...]],
    shard: Shard | None,
) -> tuple[dict[Key, list[int]], list[list[Wanted] | None]]:
    """The postings (key -> record numbers, in order) and each looked-up record's keys."""
    postings: dict[Key, list[int]] = {}
    wanted: list[list[Wanted] | None] = []
    once = _one_pass(compiled, by_base)
    for number, record in enumerate(records):
        record_type = record.ref.record_type
        looked_up = shard is None or shard.holds(shard_key(record.ref))
        keys: Collection[Key]
        if record_type in once:
            keys, lookups = keys_once(record, by_base[record_type])
        else:
            keys = index_keys(compiled, record)
            lookups = wanted_keys(record, by_base.get(record_type, ())) if looked_up else []
        for key in keys:
            posting = postings.get(key)
            if posting is None:
                postings[key] = [number]
            else:
                posting.append(number)
        wanted.append(lookups if looked_up else None)
    return postings, wanted


def shard_key(ref: RecordRef) -> str:
    """The text a record's shard is chosen by (``lead:L-1``)."""
    return f"{ref.record_type.value}:{ref.record_id}"


class _Pass:
    """The comparisons of one scan: the records, their postings and the evidence found."""

    def __init__(
        self,
        records: Sequence[Prepared],
        postings: Mapping[Key, list[int]],
        max_block_size: int,
        window: int | None,
    ) -> None:
        self.records = records
        self.postings = postings
        self.limit = max_block_size
        self.windows = None if window is None else _Windows(window, postings, records)
        self.evidence: Evidence = {}
        self.comparisons = 0
        # Per symmetric rule: the live keys each record read, and the records whose blocks
        # were windowed.
        self.chosen: dict[str, tuple[dict[int, list[Key]], set[int]]] = {}

    def look_up(self, number: int, want: Wanted) -> None:
        """Compare record ``number`` with its candidates under one rule."""
        rule, keys, compound = want
        postings = self.postings
        picked = _choose(keys, compound, postings, self.limit)
        if picked is None:
            return
        live, joint = picked
        windows = self.windows if joint else None
        if windows is None:
            refs = _refs(live, postings, number)
        else:
            refs = windows.refs(live, rule, postings, number)
        if not refs:
            return
        records, evidence = self.records, self.evidence
        record = records[number]
        exclude_inactive, symmetric = rule.rule.exclude_inactive, rule.symmetric
        evaluate = rule.evaluate
        mine: set[Key] | None = None
        if symmetric:
            earlier_of, windowed = self.chosen.setdefault(rule.rule.name, ({}, set()))
            earlier_of[number] = live
            if windows is not None:
                windowed.add(number)
        comparisons = 0
        for other_number in refs:
            other = records[other_number]
            if exclude_inactive and not other.active:
                continue
            if symmetric and other_number < number:
                earlier = earlier_of.get(other_number)
                if earlier is not None:
                    if mine is None:
                        mine = {key for part in keys for key in part}
                        mine.update(compound or ())
                    if not mine.isdisjoint(earlier) and self._met(
                        rule, mine, earlier, number, other_number, windowed
                    ):
                        continue  # compared when ``other`` was the record looked up
                base, candidate = other, record
            else:
                base, candidate = record, other
            comparisons += 1
            found = evaluate(base, candidate)
            if found is not None:
                evidence.setdefault((base.ref, candidate.ref), {})[found.rule] = found
        self.comparisons += comparisons

    def _met(
        self,
        rule: CompiledRule,
        mine: set[Key],
        earlier: list[Key],
        number: int,
        other: int,
        windowed: set[int],
    ) -> bool:
        """Whether ``other``'s look-up (``earlier``: the keys it read) reached ``number``,
        given that they share a key: always, unless ``other``'s blocks were windowed."""
        if other not in windowed:
            return True
        assert self.windows is not None
        shared = mine.intersection(earlier)
        return self.windows.met(shared, rule, self.postings, number, other)


def scan_pairs(
    compiled: CompiledRuleSet,
    records: Sequence[Prepared],
    max_block_size: int,
    shard: Shard | None = None,
    window: int | None = None,
) -> ScanPairs:
    """Every matching (base, candidate) pair among ``records`` (distinct, sorted by
    reference), symmetric rules in the (smaller, larger) orientation, as looking each record
    up in an index of all of them finds it; with ``shard``, only the shard's records are
    looked up (each against every record). With ``window``, a compound block of more than
    ``2 * window + 1`` records is searched by sorted neighbourhood (:class:`_Windows`)."""
    by_base = scanned_rules(compiled, {p.ref.record_type for p in records})
    postings, wanted = _index(compiled, records, by_base, shard)
    scan = _Pass(records, postings, max_block_size, window)
    look_up = scan.look_up
    for number, lookups in enumerate(wanted):
        if not lookups:
            continue
        wanted[number] = None  # done with: free it
        for want in lookups:
            look_up(number, want)
    stops = [(index_form(k), len(p)) for k, p in postings.items() if len(p) > max_block_size]
    stops.sort(key=lambda kc: (-kc[1], kc[0]))
    return ScanPairs(scan.evidence, scan.comparisons, stops)
