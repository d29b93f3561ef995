"""Looking up the stored duplicates of many records at once, through the persisted keys.

:func:`search_many` answers, for each record of a batch (an import's rows, say), what
:meth:`DuplicateIndex.search <leadkit.duplicates.index.DuplicateIndex.search>` answers for it
alone — the same blocks, the same stop keys, the same matches in the same order — with a
fixed number of calls for the whole batch instead of three per record:

1. the blocking keys of every record, gathered (no call);
2. how many records hold each of them: one ``counts`` call of the key store (for
   ``SqlKeyStore`` one query per 500 keys);
3. the keys each rule reads, chosen per record as the index chooses them, and the records
   holding those keys: one ``refs`` call;
4. the candidates of the whole batch, loaded in one call (``load``: ``get_many`` of the
   store's leads, say), prepared once and compared with each record of the batch.

Nothing of the store is held in memory but the batch's keys and its candidates, so memory is
bounded by the batch, never by the store.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from leadkit.duplicates.compiled import CompiledRule, Prepared
from leadkit.duplicates.index import (
    Block,
    DuplicateIndex,
    assemble_blocks,
    choose_keys,
    evaluate_blocks,
    wanted_keys,
)
from leadkit.duplicates.matches import DuplicateMatch
from leadkit.duplicates.record_view import RecordRef

__all__ = ["BatchLoader", "batch_blocks", "search_many"]

BatchLoader = Callable[[Collection[RecordRef]], Mapping[RecordRef, Prepared]]
"""Loads the prepared candidates of a batch by reference (a reference it leaves out is
skipped: deleted since it was indexed)."""


def batch_blocks(
    index: DuplicateIndex, records: Sequence[tuple[Prepared, Sequence[CompiledRule]]]
) -> list[list[Block]]:
    """The blocks of each record (with the rules to look it up by), as
    :meth:`DuplicateIndex.blocks` finds them one by one, with one ``counts`` and one
    ``refs`` call of the index's key store for the whole batch. Raises what the key store
    raises (StorageUnavailable)."""
    wanted = [wanted_keys(prepared, rules) for prepared, rules in records]
    every_key = {k for found in wanted for w in found for k in w.every_key()}
    if not every_key:
        return [[] for _ in records]
    store = index.store
    counts = store.counts(every_key)
    limit = index.max_block_size
    chosen = [choose_keys(found, counts, limit) for found in wanted]
    live = {k for picks in chosen for c in picks for k in c.live}
    postings = store.refs(live) if live else {}
    return [
        assemble_blocks(picks, postings, prepared.ref)
        for picks, (prepared, _) in zip(chosen, records, strict=True)
    ]


def search_many(
    index: DuplicateIndex,
    records: Sequence[tuple[Prepared, Sequence[CompiledRule]]],
    load: BatchLoader | None = None,
) -> list[list[DuplicateMatch]]:
    """The stored duplicates of each record (best first), as
    :meth:`DuplicateIndex.search` finds them one by one: the blocks of the whole batch
    (:func:`batch_blocks`), then every candidate of the batch loaded in one ``load`` call
    (default: :meth:`DuplicateIndex.load`), then the comparisons.

    Raises what the key store or ``load`` raises (StorageUnavailable).
    """
    blocks = batch_blocks(index, records)
    wanted = {ref for found in blocks for block in found for ref in block.refs}
    if not wanted:
        return [[] for _ in records]
    stored = load(wanted) if load is not None else index.load(wanted)
    return [
        evaluate_blocks(prepared, found, stored) if found else []
        for found, (prepared, _) in zip(blocks, records, strict=True)
    ]
