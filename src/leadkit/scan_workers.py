"""The batch duplicate scan in worker processes on this machine (``leadkit dedupe
--workers N``): each process scans one :class:`~leadkit.shards.Shard` of the records and the
shards' reports are merged (:func:`~leadkit.duplicates.engine.merge_scan_reports`), so the
result is the one :func:`~leadkit.duplicates.engine.scan_report` gives in one process.

Every worker builds the whole blocking index (each record is looked up against all records)
and looks up only its shard's records: the comparisons are spread, the index is not. Where
``fork`` is available the workers inherit the records instead of receiving a copy each.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Final

from leadkit.duplicates.engine import (
    ScanReport,
    merge_scan_reports,
    scan_report,
)
from leadkit.duplicates.index import DEFAULT_MAX_BLOCK_SIZE
from leadkit.duplicates.record_view import DuplicateRecord, Matchable, distinct_records
from leadkit.duplicates.rules import DuplicateRuleSet
from leadkit.errors import InvalidValue
from leadkit.shards import Shard

__all__ = ["MAX_WORKERS", "scan_in_processes"]

_JOB: tuple[Sequence[DuplicateRecord], DuplicateRuleSet, int, int | None] | None = None


def _start(
    records: Sequence[DuplicateRecord], rule_set: DuplicateRuleSet, block: int, window: int | None
) -> None:
    global _JOB
    _JOB = (records, rule_set, block, window)


def _scan_shard(shard: Shard) -> ScanReport:
    assert _JOB is not None
    records, rule_set, block, window = _JOB
    return scan_report(records, rule_set, max_block_size=block, shard=shard, window=window)


MAX_WORKERS: Final = 64
"""The most processes one scan starts (as ``leadkit score`` and ``demo --workers`` allow)."""


def scan_in_processes(
    records: Iterable[Matchable],
    rule_set: DuplicateRuleSet,
    *,
    workers: int,
    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE,
    window: int | None = None,
) -> ScanReport:
    """:func:`~leadkit.duplicates.engine.scan_report` of ``records`` spread over ``workers``
    processes (one shard each); ``workers=1`` scans here, without a process. ``window`` as
    in :func:`~leadkit.duplicates.engine.scan_report`.

    Raises InvalidValue for ``workers`` outside 1..:data:`MAX_WORKERS` (each is a process:
    a count such as 10,000 would exhaust the machine) or a record that appears twice; what a
    worker raised, when one fails.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise InvalidValue("workers", workers, f"must be an integer in 1..{MAX_WORKERS}")
    views = distinct_records(records)
    if workers == 1:
        return scan_report(views, rule_set, max_block_size=max_block_size, window=window)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start,
        initargs=(views, rule_set, max_block_size, window),
    ) as pool:
        reports = list(pool.map(_scan_shard, Shard.all(workers)))
    return merge_scan_reports(reports)
