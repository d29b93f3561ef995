"""The blocking index: stored records by blocking key, so a lookup never scans every record.

Every condition of a rule yields blocking keys for a record (:mod:`leadkit.duplicates.compiled`
explains their form). :class:`DuplicateIndex` keeps, for one rule set, the keys of every
stored record in a :class:`DuplicateKeyStore` (in memory by default; ``sql_keys.SqlKeyStore``
persists them) and answers "which stored records share a key with this one".

A key shared by more than ``max_block_size`` records says little (every lead at a big
company, every "Anna") and would make each lookup compare thousands of records: such a *stop
key* is skipped at lookup time and reported by :meth:`DuplicateIndex.stats`. Its postings
stay stored, so that the index never depends on the order records were added or removed
(a record that leaves brings a key back under the limit).

The index is not thread-safe: a host that shares one between threads guards it with a lock.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Final, Protocol

import attrs

from leadkit.duplicates.compiled import (
    CompiledRule,
    CompiledRuleSet,
    Prepared,
    compile_rule_set,
    sort_evidence,
)
from leadkit.duplicates.matches import DuplicateMatch, RuleEvidence
from leadkit.duplicates.record_view import (
    Matchable,
    RecordRef,
    duplicate_record,
    record_ref,
)
from leadkit.duplicates.rules import DuplicateRuleSet
from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.values import RecordId

__all__ = [
    "DEFAULT_MAX_BLOCK_SIZE",
    "CandidateLoader",
    "DuplicateIndex",
    "DuplicateKeyStore",
    "IndexStats",
    "MemoryKeyStore",
    "StopKey",
]

DEFAULT_MAX_BLOCK_SIZE: Final = 1000
"""A key shared by more records than this is a stop key (skipped at lookup)."""

_Entry = tuple[RecordRef, frozenset[str], Prepared | None]
"""What the index hands its key store per record: the keys and, to a store that keeps them,
the normalised values (None: a record forgotten)."""


@attrs.frozen
class StopKey:
    """A blocking key shared by more than ``max_block_size`` records, and how many."""

    key: str
    count: int


@attrs.frozen
class IndexStats:
    """How big an index is: records holding keys, distinct keys and the stop keys (most
    shared first)."""

    records: int
    keys: int
    max_block_size: int
    stop_keys: tuple[StopKey, ...]


@attrs.frozen
class Block:
    """The candidates of one rule for one record (internal to the engine): the stored
    records, the keys chosen to find them and every key the record looked up, per condition."""

    rule: CompiledRule
    refs: list[RecordRef]
    chosen: tuple[str, ...]
    keys: list[list[str]]


class DuplicateKeyStore(Protocol):
    """Blocking keys of stored records: ``key -> records`` and ``record -> keys``.

    A record is named by its :class:`RecordRef`; a record with no keys is not stored.
    Implementations: :class:`MemoryKeyStore`, ``leadkit.adapters.sql.duplicate_keys.SqlKeyStore``.
    """

    def put(self, ref: RecordRef, keys: Collection[str]) -> None:
        """Replace the keys of ``ref`` with ``keys`` (no keys: forget the record)."""
        ...

    def put_many(self, entries: Iterable[tuple[RecordRef, Collection[str]]]) -> None:
        """:meth:`put` for many records at once (a rebuild)."""
        ...

    def remove(self, ref: RecordRef) -> bool:
        """Forget the keys of ``ref``; False if it had none."""
        ...

    def keys_of(self, ref: RecordRef) -> frozenset[str]:
        """The keys of ``ref`` (empty if it is not stored)."""
        ...

    def counts(self, keys: Collection[str]) -> Mapping[str, int]:
        """How many records hold each key; keys nobody holds may be left out."""
        ...

    def refs(self, keys: Collection[str]) -> Mapping[str, Sequence[RecordRef]]:
        """The records holding each key; keys nobody holds may be left out."""
        ...

    def stop_keys(self, max_block_size: int) -> list[tuple[str, int]]:
        """Every key held by more than ``max_block_size`` records, with its count."""
        ...

    def record_count(self) -> int:
        """How many records hold at least one key."""
        ...

    def key_count(self) -> int:
        """How many distinct keys are held."""
        ...

    def clear(self) -> None:
        """Forget every key."""
        ...


class MemoryKeyStore:
    """A :class:`DuplicateKeyStore` in two dictionaries. Not thread-safe."""

    def __init__(self) -> None:
        self._postings: dict[str, list[RecordRef]] = {}
        self._keys: dict[RecordRef, tuple[str, ...]] = {}

    def put(self, ref: RecordRef, keys: Collection[str]) -> None:
        """Replace the keys of ``ref`` with ``keys`` (no keys: forget the record)."""
        old = self._keys.get(ref, ())
        new = tuple(keys)
        postings = self._postings
        if old:
            kept = set(new)
            for key in old:
                if key not in kept:
                    self._unlink(key, ref)
            fresh = set(old)
            added = [key for key in new if key not in fresh]
        else:
            added = list(new)
        for key in added:
            posting = postings.get(key)
            if posting is None:
                postings[key] = [ref]
            else:
                posting.append(ref)
        if new:
            self._keys[ref] = new
        else:
            self._keys.pop(ref, None)

    def put_many(self, entries: Iterable[tuple[RecordRef, Collection[str]]]) -> None:
        """:meth:`put` for many records at once."""
        for ref, keys in entries:
            self.put(ref, keys)

    def _unlink(self, key: str, ref: RecordRef) -> None:
        posting = self._postings[key]
        posting.remove(ref)
        if not posting:
            del self._postings[key]

    def remove(self, ref: RecordRef) -> bool:
        """Forget the keys of ``ref``; False if it had none."""
        old = self._keys.pop(ref, None)
        if old is None:
            return False
        for key in old:
            self._unlink(key, ref)
        return True

    def keys_of(self, ref: RecordRef) -> frozenset[str]:
        """The keys of ``ref`` (empty if it is not stored)."""
        return frozenset(self._keys.get(ref, ()))

    def counts(self, keys: Collection[str]) -> dict[str, int]:
        """How many records hold each key; keys nobody holds are left out."""
        postings = self._postings
        return {key: len(postings[key]) for key in keys if key in postings}

    def refs(self, keys: Collection[str]) -> dict[str, Sequence[RecordRef]]:
        """The records holding each key (the stored lists: read, do not change them)."""
        postings = self._postings
        return {key: postings[key] for key in keys if key in postings}

    def stop_keys(self, max_block_size: int) -> list[tuple[str, int]]:
        """Every key held by more than ``max_block_size`` records, with its count."""
        return [(k, len(p)) for k, p in self._postings.items() if len(p) > max_block_size]

    def record_count(self) -> int:
        """How many records hold at least one key."""
        return len(self._keys)

    def key_count(self) -> int:
        """How many distinct keys are held."""
        return len(self._postings)

    def clear(self) -> None:
        """Forget every key."""
        self._postings.clear()
        self._keys.clear()

    def __len__(self) -> int:
        return len(self._keys)


CandidateLoader = Callable[[Sequence[RecordRef]], Iterable[Matchable]]
"""Loads stored records by reference (from the repositories) for an index whose keys live
outside memory; records it does not return are skipped (deleted since they were indexed)."""


def _check_block_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError("max_block_size", f"must be an integer >= 1 (got {value!r})")
    return value


class DuplicateIndex:
    """Stored records indexed by the blocking keys of one rule set.

    ``compound_keys=False`` blocks each rule on one condition only (key format 1: for
    comparisons; the keys of a persisted store must be built with the same setting).
    ``store`` holds the keys (a fresh :class:`MemoryKeyStore` by default). Without a
    ``loader`` the index also keeps each record's normalised values in memory, so the store
    must start empty; with one (for a persistent store such as ``SqlKeyStore``) it keeps
    nothing and loads candidates through it.

    Raises ConfigurationError for ``max_block_size`` < 1 or a non-empty store without a
    loader.
    """

    def __init__(
        self,
        rule_set: DuplicateRuleSet,
        *,
        store: DuplicateKeyStore | None = None,
        loader: CandidateLoader | None = None,
        max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
        compound_keys: bool = True,
    ) -> None:
        self._max_block_size = _check_block_size(max_block_size)
        self._compiled = compile_rule_set(rule_set, compound=compound_keys is not False)
        self._store: DuplicateKeyStore = MemoryKeyStore() if store is None else store
        self._loader = loader
        self._prepared: dict[RecordRef, Prepared] | None = None
        # Rule sets already checked against this index, by identity (a few at most).
        self._accepted: dict[int, tuple[DuplicateRuleSet, tuple[CompiledRule, ...]]] = {}
        if loader is None:
            if self._store.record_count():
                raise ConfigurationError(
                    "duplicate index",
                    "the key store already holds keys: pass a loader to read the stored "
                    "records, or clear the store and rebuild",
                )
            self._prepared = {}

    def with_store(self, store: DuplicateKeyStore, loader: CandidateLoader) -> DuplicateIndex:
        """The same index (rule set, compiled rules, block size) over another key store and
        loader: the keys seen inside one database transaction, say. Nothing is copied; the
        two indexes share what they compiled."""
        other = copy.copy(self)
        other._store = store
        other._loader = loader
        other._prepared = None
        return other

    # Properties ---------------------------------------------------------------------------

    @property
    def rule_set(self) -> DuplicateRuleSet:
        """The rule set whose keys the index holds."""
        return self._compiled.rule_set

    @property
    def compiled(self) -> CompiledRuleSet:
        """The compiled rule set (internal to the engine)."""
        return self._compiled

    @property
    def store(self) -> DuplicateKeyStore:
        """Where the keys are kept."""
        return self._store

    @property
    def max_block_size(self) -> int:
        """Keys shared by more records than this are skipped at lookup."""
        return self._max_block_size

    # Changes ------------------------------------------------------------------------------

    def add(self, record: Matchable) -> bool:
        """Index ``record`` (a record already indexed is re-indexed). Returns False when
        it has no key (no rule may match it: blank fields, or a type no rule looks for)."""
        return self._put(self._compiled.prepare(duplicate_record(record)))

    def update(self, record: Matchable) -> bool:
        """Re-index a changed record (the same as :meth:`add`)."""
        return self.add(record)

    def remove(self, record: Matchable | RecordRef | RecordId) -> bool:
        """Forget a record; False if it was not indexed."""
        ref = record_ref(record)
        if self._prepared is not None:
            self._prepared.pop(ref, None)
        return self._store.remove(ref)

    def update_many(
        self,
        records: Iterable[Matchable],
        removed: Iterable[Matchable | RecordRef | RecordId] = (),
    ) -> None:
        """Re-index ``records`` and forget ``removed`` in one call to the key store (one
        transaction for ``SqlKeyStore``): what a committed unit of work changed.

        A record with no key is forgotten, as :meth:`add` does. Raises InvalidValue if a
        record appears twice (also once in each argument); the key store's error (such as
        StorageUnavailable) when it fails, and then nothing is changed.
        """
        compiled = self._compiled
        entries: list[_Entry] = []
        kept: list[Prepared] = []
        seen: set[RecordRef] = set()
        for record in records:
            prepared = compiled.prepare(duplicate_record(record))
            if prepared.ref in seen:
                raise InvalidValue("records", str(prepared.ref), "appears twice")
            seen.add(prepared.ref)
            keys = compiled.index_keys(prepared)
            entries.append((prepared.ref, keys, prepared))
            if keys:
                kept.append(prepared)
        for gone in removed:
            ref = record_ref(gone)
            if ref in seen:
                raise InvalidValue("removed", str(ref), "appears twice")
            seen.add(ref)
            entries.append((ref, frozenset(), None))
        if not entries:
            return
        self._write(entries)
        memory = self._prepared
        if memory is not None:
            for ref, keys, _ in entries:
                if not keys:
                    memory.pop(ref, None)
            memory.update((prepared.ref, prepared) for prepared in kept)

    def rebuild(self, records: Iterable[Matchable]) -> IndexStats:
        """Forget everything and index ``records`` (a repository ``stream()``, say).

        Raises InvalidValue if a record appears twice.
        """
        self._store.clear()
        if self._prepared is not None:
            self._prepared.clear()
        self._write(self._entries(records))
        return self.stats()

    def rebuild_prepared(self, records: Sequence[Prepared]) -> None:
        """Forget everything and index records already prepared with :attr:`compiled`
        (internal to the engine). Raises InvalidValue if a record appears twice."""
        self._store.clear()
        if self._prepared is not None:
            self._prepared.clear()
        self._write(self._prepared_entries(records))

    def _write(self, entries: Iterable[_Entry]) -> None:
        """Hand ``entries`` to the key store: with their values to one that keeps them
        (``put_prepared``: see ``SqlKeyStore``), else the keys alone."""
        put_prepared = getattr(self._store, "put_prepared", None)
        if callable(put_prepared):
            put_prepared(entries)
        else:
            self._store.put_many((ref, keys) for ref, keys, _ in entries)

    def _entries(self, records: Iterable[Matchable]) -> Iterator[_Entry]:
        prepare = self._compiled.prepare
        return self._prepared_entries(prepare(duplicate_record(r)) for r in records)

    def _prepared_entries(self, records: Iterable[Prepared]) -> Iterator[_Entry]:
        seen: set[RecordRef] = set()
        index_keys = self._compiled.index_keys
        for prepared in records:
            if prepared.ref in seen:
                raise InvalidValue("records", str(prepared.ref), "appears twice")
            seen.add(prepared.ref)
            keys = index_keys(prepared)
            if keys:
                if self._prepared is not None:
                    self._prepared[prepared.ref] = prepared
                yield prepared.ref, keys, prepared

    def _put(self, prepared: Prepared) -> bool:
        keys = self._compiled.index_keys(prepared)
        if self._prepared is not None:
            if keys:
                self._prepared[prepared.ref] = prepared
            else:
                self._prepared.pop(prepared.ref, None)
        if callable(getattr(self._store, "put_prepared", None)):
            self._write([(prepared.ref, keys, prepared)])
        else:
            self._store.put(prepared.ref, keys)
        return bool(keys)

    # Queries ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._store.record_count()

    def __contains__(self, record: object) -> bool:
        if not isinstance(record, RecordRef):
            return False
        return bool(self._store.keys_of(record))

    def keys_of(self, record: Matchable | RecordRef | RecordId) -> frozenset[str]:
        """The blocking keys a record is indexed under."""
        return self._store.keys_of(record_ref(record))

    def stats(self) -> IndexStats:
        """Record and key counts, and the stop keys with their counts."""
        stops = sorted(self._store.stop_keys(self._max_block_size), key=lambda kc: (-kc[1], kc[0]))
        return IndexStats(
            records=self._store.record_count(),
            keys=self._store.key_count(),
            max_block_size=self._max_block_size,
            stop_keys=tuple(StopKey(k, c) for k, c in stops),
        )

    def rules_for(self, rule_set: DuplicateRuleSet) -> tuple[CompiledRule, ...]:
        """The compiled rules of ``rule_set``, which must all be rules of the index's own
        rule set (the same name and the same conditions and flags); the mode may differ.

        Raises ConfigurationError naming a rule the index does not hold.
        """
        known = self._accepted.get(id(rule_set))
        if known is not None and known[0] is rule_set:
            return known[1]
        compiled = self._compiled
        if rule_set.rules == compiled.rule_set.rules:
            found = compiled.rules
        else:
            by_name = {c.rule.name: c for c in compiled.rules}
            picked: list[CompiledRule] = []
            for rule in rule_set.rules:
                held = by_name.get(rule.name)
                if held is None or held.rule != rule:
                    raise ConfigurationError(
                        f"duplicate rule {rule.name!r}",
                        f"the index was built for rule set {compiled.rule_set.name!r}, which "
                        "does not hold this rule; build an index for a rule set that does",
                    )
                picked.append(held)
            found = tuple(picked)
        if len(self._accepted) >= 8:
            self._accepted.clear()
        self._accepted[id(rule_set)] = (rule_set, found)
        return found

    def find(self, record: Matchable, *, limit: int | None = None) -> list[DuplicateMatch]:
        """The stored duplicates of ``record`` under the index's rule set (best first); the
        :class:`~leadkit.duplicates.engine.DuplicateFinder` lookup."""
        prepared = self._compiled.prepare(duplicate_record(record))
        rules = self._compiled.by_base.get(prepared.ref.record_type, ())
        return self.search(prepared, rules, limit=limit)

    # The lookup ---------------------------------------------------------------------------

    def candidates(
        self, prepared: Prepared, rules: Sequence[CompiledRule]
    ) -> list[tuple[CompiledRule, list[RecordRef]]]:
        """For each rule that may match ``prepared``, the stored records to compare it with.

        Per rule, the condition whose (non-stop) keys hold the fewest records is used; a rule
        with a condition whose keys nobody holds is skipped (it cannot match), and so is one
        whose keys are all stop keys. ``prepared`` itself is never a candidate.
        """
        return [(block.rule, block.refs) for block in self.blocks(prepared, rules)]

    def blocks(self, prepared: Prepared, rules: Sequence[CompiledRule]) -> list[Block]:
        """:meth:`candidates`, with the keys each rule looked up and the keys it chose.

        A rule of several conditions reads its compound keys (and its overflow key) when the
        record has them and any of them is held by no more than ``max_block_size`` records:
        the records sharing a key in every condition. Else the cheapest condition's keys.
        """
        wanted = wanted_keys(prepared, rules)
        if not wanted:
            return []
        counts = self._store.counts({k for w in wanted for k in w.every_key()})
        chosen = choose_keys(wanted, counts, self._max_block_size)
        if not chosen:
            return []
        postings = self._store.refs({k for c in chosen for k in c.live})
        return assemble_blocks(chosen, postings, prepared.ref)

    def load(self, refs: Collection[RecordRef]) -> dict[RecordRef, Prepared]:
        """The prepared records for ``refs`` (from memory, or through the loader)."""
        if self._prepared is not None:
            memory = self._prepared
            return {ref: memory[ref] for ref in refs if ref in memory}
        assert self._loader is not None
        wanted = set(refs)
        loaded: dict[RecordRef, Prepared] = {}
        for record in self._loader(sorted(wanted)):
            prepared = self._compiled.prepare(duplicate_record(record))
            if prepared.ref in wanted:
                loaded[prepared.ref] = prepared
        return loaded

    def search(
        self, prepared: Prepared, rules: Sequence[CompiledRule], *, limit: int | None = None
    ) -> list[DuplicateMatch]:
        """Evaluate ``rules`` between ``prepared`` and its candidates; best matches first
        (score descending, then candidate)."""
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise InvalidValue("limit", limit, "must be a positive integer or None")
        blocks = self.blocks(prepared, rules)
        if not blocks:
            return []
        stored = self.load({ref for block in blocks for ref in block.refs})
        matches = evaluate_blocks(prepared, blocks, stored)
        return matches if limit is None else matches[:limit]


@attrs.frozen
class WantedKeys:
    """The keys one rule looks a record up by (internal to the engine): per condition, and
    the compound keys (with the rule's overflow key) when the rule has several conditions
    and the record has them."""

    rule: CompiledRule
    keys: list[list[str]]
    compound: list[str] | None

    def every_key(self) -> Iterator[str]:
        """Every key of every condition, then the compound keys."""
        for condition_keys in self.keys:
            yield from condition_keys
        if self.compound is not None:
            yield from self.compound


@attrs.frozen
class ChosenKeys:
    """The keys one rule reads its candidates by (internal to the engine): ``live``, the
    keys chosen, and ``keys``, every key it looked up per condition."""

    rule: CompiledRule
    keys: list[list[str]]
    live: list[str]


def wanted_keys(prepared: Prepared, rules: Sequence[CompiledRule]) -> list[WantedKeys]:
    """The keys each rule that may match ``prepared`` looks it up by (the first step of
    :meth:`DuplicateIndex.blocks`); a rule with a condition ``prepared`` has no key for is
    left out."""
    wanted: list[WantedKeys] = []
    for rule in rules:
        keys = rule.query_keys(prepared)
        if keys is not None:
            compound = rule.compound_keys(prepared, matching=False)
            if compound is not None:
                compound.append(rule.overflow_key)
            wanted.append(WantedKeys(rule, keys, compound))
    return wanted


def choose_keys(
    wanted: Sequence[WantedKeys], counts: Mapping[str, int], limit: int
) -> list[ChosenKeys]:
    """The keys each rule reads, given how many records hold each key (the second step of
    :meth:`DuplicateIndex.blocks`): the compound keys when none of those held is a stop key,
    else the live keys of the cheapest condition; a rule with a condition whose keys nobody
    holds cannot match and is left out."""
    chosen: list[ChosenKeys] = []
    for want in wanted:
        rule, keys, compound = want.rule, want.keys, want.compound
        best: tuple[int, list[str]] | None = None
        possible = True
        for condition_keys in keys:
            held = [k for k in condition_keys if counts.get(k, 0)]
            if not held:
                possible = False
                break
            live = [k for k in held if counts[k] <= limit]
            if not live:
                continue
            cost = sum(counts[k] for k in live)
            if best is None or cost < best[0]:
                best = (cost, live)
        if not possible:
            continue
        if compound is not None:
            held = [k for k in compound if counts.get(k, 0)]
            if not held:
                continue  # nobody shares a key in every condition
            live = [k for k in held if counts[k] <= limit]
            if live and len(live) == len(held):
                chosen.append(ChosenKeys(rule, [*keys, compound], live))
                continue
            keys = [*keys, compound]
        if best is not None:
            chosen.append(ChosenKeys(rule, keys, best[1]))
    return chosen


def assemble_blocks(
    chosen: Sequence[ChosenKeys], postings: Mapping[str, Sequence[RecordRef]], own: RecordRef
) -> list[Block]:
    """The blocks of the chosen keys, given the records holding each key (the last step of
    :meth:`DuplicateIndex.blocks`); ``own`` is never a candidate."""
    found: list[Block] = []
    for choice in chosen:
        live = choice.live
        if len(live) == 1:
            refs = [r for r in postings.get(live[0], ()) if r != own]
        else:
            union: dict[RecordRef, None] = {}
            for key in live:
                union.update(dict.fromkeys(postings.get(key, ())))
            union.pop(own, None)
            refs = list(union)
        if refs:
            found.append(Block(choice.rule, refs, tuple(live), choice.keys))
    return found


def evaluate_blocks(
    prepared: Prepared, blocks: Sequence[Block], stored: Mapping[RecordRef, Prepared]
) -> list[DuplicateMatch]:
    """Evaluate each block's rule between ``prepared`` and its candidates (those ``stored``
    holds; an inactive one is skipped by a rule that excludes them); best matches first."""
    evidence: dict[RecordRef, list[RuleEvidence]] = {}
    for block in blocks:
        rule = block.rule
        exclude_inactive = rule.rule.exclude_inactive
        for ref in block.refs:
            candidate = stored.get(ref)
            if candidate is None or (exclude_inactive and not candidate.active):
                continue
            found = rule.evaluate(prepared, candidate)
            if found is not None:
                evidence.setdefault(ref, []).append(found)
    matches = [to_match(prepared.ref, ref, found) for ref, found in evidence.items()]
    matches.sort(key=match_order)
    return matches


def to_match(
    record: RecordRef, candidate: RecordRef, found: Sequence[RuleEvidence]
) -> DuplicateMatch:
    """One match from the evidence of every rule that matched the pair."""
    best, *rest = sort_evidence(found)
    return DuplicateMatch(
        record=record,
        candidate=candidate,
        rule=best.rule,
        score=best.score,
        conditions=best.conditions,
        other_rules=tuple(rest),
    )


def match_order(match: DuplicateMatch) -> tuple[float, RecordRef]:
    """The order of :func:`find_duplicates`: score descending, then candidate."""
    return (-match.score, match.candidate)
