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

from collections.abc import Collection, Mapping, Sequence

from leadkit.duplicates.compiled import CompiledRule, CompiledRuleSet, Prepared
from leadkit.duplicates.matches import RuleEvidence
from leadkit.duplicates.record_view import RecordRef, RecordType
from leadkit.shards import Shard

__all__ = ["ScanPairs", "scan_pairs", "scanned_rules"]

# A rule's lookup keys for one record: per condition, and the compound keys with the rule's
# overflow key (None for a rule of one condition or a record without compound keys).
_Wanted = tuple[CompiledRule, list[list[str]], list[str] | None]
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


def _wanted(record: Prepared, rules: Sequence[CompiledRule]) -> list[_Wanted]:
    """:func:`~leadkit.duplicates.index.wanted_keys`, as plain tuples; a rule that excludes
    inactive records is left out for an inactive record (a scan gives it no part)."""
    found: list[_Wanted] = []
    for rule in rules:
        if rule.rule.exclude_inactive and not record.active:
            continue
        keys = rule.query_keys(record)
        if keys is not None:
            compound = rule.compound_keys(record, matching=False)
            if compound is not None:
                compound.append(rule.overflow_key)
            found.append((rule, keys, compound))
    return found


def _choose(
    keys: list[list[str]],
    compound: list[str] | None,
    postings: Mapping[str, list[int]],
    limit: int,
) -> tuple[list[str], list[list[str]]] | None:
    """:func:`~leadkit.duplicates.index.choose_keys` for one rule: the live keys to read and
    every key looked up, or None when the rule cannot match or every key is a stop key."""
    best: list[str] | None = None
    best_cost = 0
    for condition_keys in keys:
        counts = [(k, len(postings[k])) for k in condition_keys if k in postings]
        if not counts:
            return None
        live = [k for k, n in counts if n <= limit]
        if not live:
            continue
        cost = sum(n for _, n in counts if n <= limit)
        if best is None or cost < best_cost:
            best, best_cost = live, cost
    if compound is not None:
        held = [k for k in compound if k in postings]
        if not held:
            return None  # nobody shares a key in every condition
        live = [k for k in held if len(postings[k]) <= limit]
        if live and len(live) == len(held):
            return live, [*keys, compound]
        keys = [*keys, compound]
    return None if best is None else (best, keys)


def _refs(live: list[str], postings: Mapping[str, list[int]], own: int) -> list[int]:
    if len(live) == 1:
        return [r for r in postings[live[0]] if r != own]
    union: dict[int, None] = {}
    for key in live:
        union.update(dict.fromkeys(postings[key]))
    union.pop(own, None)
    return list(union)


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


def _keys_once(record: Prepared, rules: Sequence[CompiledRule]) -> tuple[set[str], list[_Wanted]]:
    """:meth:`CompiledRuleSet.index_keys` and :func:`_wanted` of a record whose index and
    lookup keys are of the same rules on the same values (:func:`_one_pass`), each key made
    once."""
    index: set[str] = set()
    found: list[_Wanted] = []
    values_of = record.values
    for rule in rules:
        ignore_blank = rule.rule.ignore_blank
        keys: list[list[str]] | None = []
        for c in rule.conditions:
            values = values_of[c.matching]
            if values:
                condition_keys = c.keys(values)
                index.update(condition_keys)
            elif ignore_blank:
                keys = None
                continue
            else:
                condition_keys = [c.blank_key]
                index.add(c.blank_key)
            if keys is not None:
                keys.append(condition_keys)
        if keys is None:  # a blank the rule ignores: it cannot match the record
            continue
        compound = rule.compound_keys(record, matching=True)
        if rule.compound and len(rule.conditions) > 1:
            index.update(compound if compound is not None else (rule.overflow_key,))
        if rule.rule.exclude_inactive and not record.active:
            continue
        if compound is not None:
            compound.append(rule.overflow_key)
        found.append((rule, keys, compound))
    return index, found


def _index(
    compiled: CompiledRuleSet,
    records: Sequence[Prepared],
    by_base: Mapping[RecordType, tuple[CompiledRule, ...]],
    shard: Shard | None,
) -> tuple[dict[str, list[int]], list[list[_Wanted] | None]]:
    """The postings (key -> record numbers, in order) and each looked-up record's keys."""
    postings: dict[str, list[int]] = {}
    wanted: list[list[_Wanted] | None] = []
    index_keys = compiled.index_keys
    once = _one_pass(compiled, by_base)
    for number, record in enumerate(records):
        record_type = record.ref.record_type
        looked_up = shard is None or shard.holds(shard_key(record.ref))
        keys: Collection[str]
        if record_type in once:
            keys, lookups = _keys_once(record, by_base[record_type])
        else:
            keys = index_keys(record)
            lookups = _wanted(record, by_base.get(record_type, ())) if looked_up else []
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


def scan_pairs(
    compiled: CompiledRuleSet,
    records: Sequence[Prepared],
    max_block_size: int,
    shard: Shard | None = None,
) -> ScanPairs:
    """Every matching (base, candidate) pair among ``records`` (distinct, sorted by
    reference), symmetric rules in the (smaller, larger) orientation, as looking each record
    up in an index of all of them finds it; with ``shard``, only the shard's records are
    looked up (each against every record)."""
    by_base = scanned_rules(compiled, {p.ref.record_type for p in records})
    postings, wanted = _index(compiled, records, by_base, shard)
    evidence: Evidence = {}
    comparisons = 0
    chosen: dict[str, dict[int, list[str]]] = {}
    for number, record in enumerate(records):
        lookups = wanted[number]
        if not lookups:
            continue
        wanted[number] = None  # done with: free it
        for rule, keys, compound in lookups:
            picked = _choose(keys, compound, postings, max_block_size)
            if picked is None:
                continue
            live, looked_up = picked
            refs = _refs(live, postings, number)
            if not refs:
                continue
            exclude_inactive, symmetric = rule.rule.exclude_inactive, rule.symmetric
            evaluate = rule.evaluate
            if symmetric:
                earlier_of = chosen.setdefault(rule.rule.name, {})
                earlier_of[number] = live
                mine = {key for part in looked_up for key in part}
            for other_number in refs:
                other = records[other_number]
                if exclude_inactive and not other.active:
                    continue
                if symmetric and other_number < number:
                    earlier = earlier_of.get(other_number)
                    if earlier is not None and not mine.isdisjoint(earlier):
                        continue  # compared when ``other`` was the record looked up
                    base, candidate = other, record
                else:
                    base, candidate = record, other
                comparisons += 1
                found = evaluate(base, candidate)
                if found is not None:
                    evidence.setdefault((base.ref, candidate.ref), {})[found.rule] = found
    stops = [(k, len(p)) for k, p in postings.items() if len(p) > max_block_size]
    stops.sort(key=lambda kc: (-kc[1], kc[0]))
    return ScanPairs(evidence, comparisons, stops)
