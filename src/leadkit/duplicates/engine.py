"""The duplicate engine: one way to answer "which records is this one a duplicate of, and why".

- :func:`find_duplicates` checks one record against an index (create, update, qualify).
- :func:`check_on_save` wraps it with the rule set's allow / warn / block decision.
- :func:`check_import` checks a batch against the index and within itself.
- :func:`scan` finds every duplicate group in a set of records (batch clean-up).
- :class:`DuplicateFinder` looks up a lead's duplicates; :class:`IndexedFinder` implements it.
  (Qualification's check is :class:`~leadkit.duplicate_checks.engine_check.EngineDuplicateCheck`.)

Every answer is explained: each :class:`~leadkit.duplicates.matches.DuplicateMatch` names the
rule and, per condition, the two normalised values and their similarity. Results are ordered
and never depend on the order records were given or indexed in.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Final, Protocol

import attrs

from leadkit.duplicates.compiled import Prepared, compile_rule_set
from leadkit.duplicates.index import (
    DEFAULT_MAX_BLOCK_SIZE,
    DuplicateIndex,
    StopKey,
    _check_block_size,
    match_order,
    to_match,
)
from leadkit.duplicates.matches import DuplicateGroup, DuplicateMatch, RuleEvidence
from leadkit.duplicates.record_view import (
    DuplicateRecord,
    Matchable,
    RecordRef,
    duplicate_record,
    record_ref,
)
from leadkit.duplicates.rules import CheckMode, DuplicateRuleSet
from leadkit.duplicates.scan_pairs import scan_pairs, scanned_rules, shard_key
from leadkit.errors import DuplicatesUnresolved, InvalidValue
from leadkit.lead import Lead
from leadkit.shards import Shard
from leadkit.values import RecordId

__all__ = [
    "DEFAULT_SCAN_WINDOW",
    "DuplicateFinder",
    "ExhaustiveFinder",
    "ImportCheck",
    "ImportRow",
    "IndexedFinder",
    "SaveCheck",
    "ScanReport",
    "check_import",
    "check_on_save",
    "find_duplicates",
    "merge_scan_reports",
    "scan",
    "scan_report",
]

DEFAULT_SCAN_WINDOW: Final = 10
"""The window a bounded scan is measured with (``scan_report(..., window=DEFAULT_SCAN_WINDOW)``):
a record is compared with at most this many records on either side of it in a compound block
of more than ``2 * window + 1`` records (sorted neighbourhood). Scans are exact unless a
window is given; see :func:`scan_report`."""


def find_duplicates(
    record: Matchable,
    rule_set: DuplicateRuleSet,
    index: DuplicateIndex,
    *,
    limit: int | None = None,
) -> list[DuplicateMatch]:
    """The indexed records ``record`` is a possible duplicate of, best first.

    Runs the rules of ``rule_set`` whose base type is the record's type, against candidates
    that share a blocking key with it; the record itself (same type and id) is never a match,
    so an update can be checked against an index that already holds the old version. Ordered
    by score (descending), then candidate; ``limit`` keeps the best few.

    Raises ConfigurationError when the index was built for a rule set that lacks one of
    ``rule_set``'s rules, InvalidValue for a ``limit`` below 1.
    """
    rules = index.rules_for(rule_set)
    prepared = index.compiled.prepare(duplicate_record(record))
    record_type = prepared.ref.record_type
    mine = [r for r in rules if r.rule.base_type is record_type]
    return index.search(prepared, mine, limit=limit)


class DuplicateFinder(Protocol):
    """Looks up a lead's possible duplicates (explained matches, no unit of work).

    Not qualification's check (:class:`leadkit.conversion.DuplicateCheck`): that one is
    :class:`~leadkit.duplicate_checks.engine_check.EngineDuplicateCheck`, which also sees the
    records of the qualification's unit of work and keeps its index current.
    """

    def find(self, lead: Lead, /) -> list[DuplicateMatch]:
        """The possible duplicates of ``lead`` (stored leads, contacts, accounts), best first."""
        ...


@attrs.frozen
class IndexedFinder:
    """A :class:`DuplicateFinder` over an index: ``rule_set`` defaults to the index's own;
    ``limit`` caps the matches returned per lead."""

    index: DuplicateIndex
    rule_set: DuplicateRuleSet | None = None
    limit: int | None = None

    def find(self, lead: Lead, /) -> list[DuplicateMatch]:
        """The possible duplicates of ``lead``, best first."""
        rules = self.rule_set if self.rule_set is not None else self.index.rule_set
        return find_duplicates(lead, rules, self.index, limit=self.limit)


# --------------------------------------------------------------------------------------------
# Save (create / update)
# --------------------------------------------------------------------------------------------


@attrs.frozen
class SaveCheck:
    """The outcome of :func:`check_on_save`: the mode applied and the matches found.

    In ``WARN`` mode the host shows ``matches`` and lets the user link one or save anyway;
    ``ALLOW`` never looks; ``BLOCK`` raised instead of returning matches.
    """

    record: RecordRef
    mode: CheckMode
    matches: tuple[DuplicateMatch, ...]

    @property
    def has_duplicates(self) -> bool:
        """True when any match was found."""
        return bool(self.matches)

    @property
    def needs_confirmation(self) -> bool:
        """True in WARN mode with matches: the user should confirm before saving."""
        return self.mode is CheckMode.WARN and bool(self.matches)


def check_on_save(
    record: Matchable,
    rule_set: DuplicateRuleSet,
    index: DuplicateIndex,
    *,
    mode: CheckMode | None = None,
    ignore: Collection[RecordRef] = (),
    limit: int | None = None,
) -> SaveCheck:
    """Check a record before it is created or updated.

    ``mode`` defaults to the rule set's. ``ignore`` names candidates the user has already
    reviewed ("not a duplicate"); they are left out in every mode. After saving, the host
    re-indexes the record (``index.update(record)``).

    Raises DuplicatesUnresolved (carrying the matches) in BLOCK mode when matches remain;
    ConfigurationError as :func:`find_duplicates` does.
    """
    chosen = rule_set.mode if mode is None else CheckMode(mode)
    ref = record_ref(duplicate_record(record))
    if chosen is CheckMode.ALLOW:
        return SaveCheck(ref, chosen, ())
    skip = frozenset(ignore)
    found = [m for m in find_duplicates(record, rule_set, index) if m.candidate not in skip]
    if limit is not None:
        found = found[:limit]
    if chosen is CheckMode.BLOCK and found:
        raise DuplicatesUnresolved(found)
    return SaveCheck(ref, chosen, tuple(found))


# --------------------------------------------------------------------------------------------
# Scan (batch clean-up)
# --------------------------------------------------------------------------------------------


@attrs.frozen
class ScanReport:
    """The groups a scan found and what it cost.

    ``comparisons`` counts rule evaluations of candidate pairs (a pair that a symmetric rule
    reaches from both records counts twice); ``all_pairs`` is n(n-1)/2, what comparing every
    record with every other would take per rule.
    """

    groups: tuple[DuplicateGroup, ...]
    records: int
    comparisons: int
    matches: int
    stop_keys: tuple[StopKey, ...]

    @property
    def all_pairs(self) -> int:
        """n(n-1)/2 for the records scanned."""
        return self.records * (self.records - 1) // 2


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[RecordRef, RecordRef] = {}

    def find(self, ref: RecordRef) -> RecordRef:
        parent = self.parent
        root = ref
        while parent.get(root, root) != root:
            root = parent[root]
        while ref != root:  # path compression
            ref, parent[ref] = parent.get(ref, ref), root
        return root

    def union(self, a: RecordRef, b: RecordRef) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            low, high = (ra, rb) if ra < rb else (rb, ra)
            self.parent[high] = low


def _groups(edges: Iterable[DuplicateMatch]) -> tuple[DuplicateGroup, ...]:
    """Union of pairwise matches into groups; members and edges sorted."""
    union = _UnionFind()
    by_root: dict[RecordRef, list[DuplicateMatch]] = {}
    listed = sorted(edges, key=lambda m: (m.record, m.candidate))
    for edge in listed:
        union.union(edge.record, edge.candidate)
    members: dict[RecordRef, set[RecordRef]] = {}
    for edge in listed:
        root = union.find(edge.record)
        by_root.setdefault(root, []).append(edge)
        members.setdefault(root, set()).update((edge.record, edge.candidate))
    groups = [
        DuplicateGroup(tuple(sorted(members[root])), tuple(group_edges))
        for root, group_edges in by_root.items()
    ]
    groups.sort(key=lambda g: g.members[0])
    return tuple(groups)


def _pair_edges(
    index: DuplicateIndex, prepared: Sequence[Prepared], shard: Shard | None = None
) -> tuple[list[DuplicateMatch], int]:
    """Every matching (base, candidate) pair among ``prepared`` (all indexed in ``index``),
    symmetric rules in the (smaller, larger) orientation; and the comparisons made.

    Records are taken in order. A symmetric rule reaches most pairs from both records; the
    second time, the pair is skipped when the earlier record's chosen keys show it was
    already compared. With ``shard``, only the records of the shard are taken (each still
    compared with every record of the index): a pair whose other record is in another shard
    is never skipped, so the shards' edges together hold every edge of the whole scan.
    """
    evidence: dict[tuple[RecordRef, RecordRef], dict[str, RuleEvidence]] = {}
    comparisons = 0
    stored = {p.ref: p for p in prepared}
    chosen: dict[tuple[RecordRef, str], tuple[str, ...]] = {}
    by_base = scanned_rules(index.compiled, {p.ref.record_type for p in prepared})
    for record in prepared:
        if shard is not None and not shard.holds(shard_key(record.ref)):
            continue
        rules = by_base.get(record.ref.record_type, ())
        for block in index.blocks(record, rules):
            rule = block.rule
            name = rule.rule.name
            exclude_inactive = rule.rule.exclude_inactive
            if exclude_inactive and not record.active:
                continue  # in a scan, an inactive record takes no part in such a rule
            symmetric = rule.symmetric
            if symmetric:
                chosen[record.ref, name] = block.chosen
                mine = {key for keys in block.keys for key in keys}
            for ref in block.refs:
                other = stored[ref]
                if exclude_inactive and not other.active:
                    continue
                if symmetric and ref < record.ref:
                    earlier = chosen.get((ref, name))
                    if earlier is not None and not mine.isdisjoint(earlier):
                        continue  # compared when ``ref`` was the record being checked
                    base, candidate = other, record
                else:
                    base, candidate = record, other
                comparisons += 1
                found = rule.evaluate(base, candidate)
                if found is not None:
                    evidence.setdefault((base.ref, candidate.ref), {})[found.rule] = found
    edges = [to_match(a, b, list(found.values())) for (a, b), found in evidence.items()]
    return edges, comparisons


def _scan_by_lookups(
    records: Iterable[Matchable],
    rule_set: DuplicateRuleSet,
    *,
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
    compound_keys: bool = True,
    shard: Shard | None = None,
) -> tuple[list[DuplicateMatch], int, tuple[StopKey, ...]]:
    """The scan as it was before its own pass (:mod:`leadkit.duplicates.scan_pairs`): each
    record looked up in a :class:`DuplicateIndex` of all of them (:func:`_pair_edges`); the
    reference its property test and ``bench_scan.py --lookups`` compare it with. The edges,
    the comparisons and the stop keys."""
    index = DuplicateIndex(rule_set, max_block_size=max_block_size, compound_keys=compound_keys)
    compiled = index.compiled
    prepared = sorted((compiled.prepare(duplicate_record(r)) for r in records), key=_by_ref)
    index.rebuild_prepared(prepared)
    edges, comparisons = _pair_edges(index, prepared, shard)
    return edges, comparisons, index.stats().stop_keys


def _by_ref(prepared: Prepared) -> RecordRef:
    return prepared.ref


def scan_report(
    records: Iterable[Matchable],
    rule_set: DuplicateRuleSet,
    *,
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
    compound_keys: bool = True,
    shard: Shard | None = None,
    window: int | None = None,
) -> ScanReport:
    """:func:`scan`, with what it cost. ``compound_keys=False`` blocks each rule on one
    condition (the blocking before compound keys, for comparisons).

    ``window`` (opt-in, e.g. :data:`DEFAULT_SCAN_WINDOW`) caps the scan's oversized compound
    blocks (a similar name at a company of thousands): in a compound block of more than
    ``2 * window + 1`` records, sorted by the rule's values (the words of a similar name in
    sorted order), a record is compared only with the ``window`` records on either side of
    it, so a pair further apart in such a block can be missed. Smaller blocks, blocks of one
    condition and the index lookups (:func:`find_duplicates`) are not capped. ``window=None``
    (the default) compares whole blocks, exactly as the lookups do.

    With ``shard`` (``Shard(i, n)``) only the records whose reference (``lead:L-1``) hashes
    into the shard are looked up, each against every record: the work of one of ``n``
    workers. :func:`merge_scan_reports` of the ``n`` shards' reports has the groups and
    matches of the unsharded scan.

    Raises InvalidValue if a record appears twice, ``rule_set`` is not a DuplicateRuleSet,
    ``compound_keys`` not a bool, ``shard`` not a Shard or ``window`` not None or an
    integer >= 1."""
    if shard is not None and not isinstance(shard, Shard):
        raise InvalidValue("shard", shard, "must be a Shard or None")
    if not isinstance(rule_set, DuplicateRuleSet):
        raise InvalidValue("rule_set", rule_set, "must be DuplicateRuleSet")
    if not isinstance(compound_keys, bool):
        raise InvalidValue("compound_keys", compound_keys, "must be bool")
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, int) or window < 1
    ):
        raise InvalidValue("window", window, "must be None or an integer >= 1")
    block = _check_block_size(max_block_size)
    compiled = compile_rule_set(rule_set, compound=compound_keys is not False)
    prepared: dict[RecordRef, Prepared] = {}
    for record in records:
        item = compiled.prepare(duplicate_record(record))
        if item.ref in prepared:
            raise InvalidValue("records", str(item.ref), "appears twice")
        prepared[item.ref] = item
    ordered = [prepared[ref] for ref in sorted(prepared)]
    found = scan_pairs(compiled, ordered, block, shard, window)
    edges = [to_match(a, b, list(rules.values())) for (a, b), rules in found.evidence.items()]
    return ScanReport(
        groups=_groups(edges),
        records=len(ordered),
        comparisons=found.comparisons,
        matches=len(edges),
        stop_keys=tuple(StopKey(k, c) for k, c in found.stop_keys),
    )


def merge_scan_reports(reports: Iterable[ScanReport]) -> ScanReport:
    """One report from the reports of the shards of one scan (``Shard(i, n)`` for every
    ``i``): the matches of a pair found in several shards are merged (the evidence of every
    rule), the groups rebuilt, the comparisons added up.

    Raises InvalidValue when no report is given or the reports scanned different numbers of
    records (shards of different scans).
    """
    listed = list(reports)
    if not listed:
        raise InvalidValue("reports", listed, "must hold at least one report")
    records = {r.records for r in listed}
    if len(records) != 1:
        raise InvalidValue("reports", sorted(records), "are of scans of different records")
    evidence: dict[tuple[RecordRef, RecordRef], dict[str, RuleEvidence]] = {}
    for report in listed:
        for group in report.groups:
            for edge in group.edges:
                found = evidence.setdefault((edge.record, edge.candidate), {})
                found[edge.rule] = RuleEvidence(edge.rule, edge.score, edge.conditions)
                for other in edge.other_rules:
                    found[other.rule] = other
    edges = [to_match(a, b, list(found.values())) for (a, b), found in evidence.items()]
    return ScanReport(
        groups=_groups(edges),
        records=listed[0].records,
        comparisons=sum(r.comparisons for r in listed),
        matches=len(edges),
        stop_keys=listed[0].stop_keys,
    )


def scan(
    records: Iterable[Matchable],
    rule_set: DuplicateRuleSet,
    *,
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
    window: int | None = None,
) -> list[DuplicateGroup]:
    """Every group of duplicates among ``records``: the union of pairwise matches.

    Each group lists its members (sorted) and the evidence of every matching pair. Groups are
    ordered by their first member; the outcome does not depend on the order of ``records``.
    ``window`` as in :func:`scan_report`. Raises InvalidValue if a record appears twice.
    """
    found = scan_report(records, rule_set, max_block_size=max_block_size, window=window)
    return list(found.groups)


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------


@attrs.frozen
class ImportRow:
    """One incoming record: its position in the batch, the stored records it duplicates and
    the other incoming records it duplicates (it as the base record)."""

    position: int
    record: RecordRef
    stored: tuple[DuplicateMatch, ...]
    in_batch: tuple[DuplicateMatch, ...]

    @property
    def is_clean(self) -> bool:
        """True when the record duplicates nothing, stored or incoming."""
        return not (self.stored or self.in_batch)


@attrs.frozen
class ImportCheck:
    """The outcome of :func:`check_import`: one row per incoming record, in input order, and
    the duplicate groups within the batch."""

    rows: tuple[ImportRow, ...]
    groups: tuple[DuplicateGroup, ...]

    @property
    def clean(self) -> tuple[RecordRef, ...]:
        """The incoming records that duplicate nothing."""
        return tuple(r.record for r in self.rows if r.is_clean)

    @property
    def flagged(self) -> tuple[ImportRow, ...]:
        """The rows with any match."""
        return tuple(r for r in self.rows if not r.is_clean)


def check_import(
    records: Iterable[Matchable],
    rule_set: DuplicateRuleSet,
    index: DuplicateIndex | None = None,
    *,
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
) -> ImportCheck:
    """Check a batch before it is imported: each record against the stored records in
    ``index`` (when given) and against the other records of the batch.

    Raises InvalidValue if a record appears twice in the batch; ConfigurationError as
    :func:`find_duplicates` does.
    """
    stored_rules = index.rules_for(rule_set) if index is not None else ()
    batch = DuplicateIndex(rule_set, max_block_size=max_block_size)
    compiled = batch.compiled
    # The views are kept only to check them against ``index`` (prepared with its rules).
    views: list[DuplicateRecord] = []
    rows: list[Prepared] = []
    for record in records:
        view = duplicate_record(record)
        rows.append(compiled.prepare(view))
        if index is not None:
            views.append(view)
    batch.rebuild_prepared(rows)
    out: list[ImportRow] = []
    edges: list[DuplicateMatch] = []
    for position, item in enumerate(rows):
        record_type = item.ref.record_type
        in_batch = batch.search(item, compiled.by_base.get(record_type, ()))
        edges += in_batch
        stored: list[DuplicateMatch] = []
        if index is not None:
            mine = [r for r in stored_rules if r.rule.base_type is record_type]
            stored = index.search(index.compiled.prepare(views[position]), mine)
        out.append(ImportRow(position, item.ref, tuple(stored), tuple(in_batch)))
    return ImportCheck(tuple(out), _groups(edges))


# --------------------------------------------------------------------------------------------
# The reference: compare with every record
# --------------------------------------------------------------------------------------------


class ExhaustiveFinder:
    """Compares a record with every record it holds, without blocking.

    The reference an index is measured against (benchmarks, tests): same rules, same
    evidence, but no stop keys and no blocking, so it finds every match a rule allows.
    """

    def __init__(self, rule_set: DuplicateRuleSet, records: Iterable[Matchable] = ()) -> None:
        self._compiled = compile_rule_set(rule_set)
        self._records: dict[RecordRef, Prepared] = {}
        for record in records:
            self.add(record)

    def add(self, record: Matchable) -> None:
        """Hold (or replace) a record."""
        prepared = self._compiled.prepare(duplicate_record(record))
        self._records[prepared.ref] = prepared

    def remove(self, record: Matchable | RecordRef | RecordId) -> None:
        """Forget a record (if held)."""
        self._records.pop(record_ref(record), None)

    def __len__(self) -> int:
        return len(self._records)

    def find(self, record: Matchable, /, *, limit: int | None = None) -> list[DuplicateMatch]:
        """Every held record ``record`` duplicates, best first."""
        prepared = self._compiled.prepare(duplicate_record(record))
        rules = self._compiled.by_base.get(prepared.ref.record_type, ())
        evidence: dict[RecordRef, list[RuleEvidence]] = {}
        for ref, other in self._records.items():
            if ref == prepared.ref:
                continue
            for rule in rules:
                if rule.rule.matching_type is not ref.record_type:
                    continue
                if rule.rule.exclude_inactive and not other.active:
                    continue
                found = rule.evaluate(prepared, other)
                if found is not None:
                    evidence.setdefault(ref, []).append(found)
        matches = [to_match(prepared.ref, ref, found) for ref, found in evidence.items()]
        matches.sort(key=match_order)
        return matches if limit is None else matches[:limit]
