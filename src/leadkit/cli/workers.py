"""The bulk side of the ``leadkit`` command: ``score --workers N`` rescoring in processes.

Self-contained (the ``score`` command in :mod:`leadkit.cli.score` only calls :func:`rescore`): each
worker process opens the store itself and rescores one :class:`~leadkit.shards.Shard` of the
leads with :func:`leadkit.bulk.rescore_store` (a unit of work per batch), reporting its
progress through a queue; the shards together rescore every lead exactly once. On SQLite
the workers take turns at the write lock (one short transaction per batch) and decode and
score in parallel, which is where the time goes.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from typing import Any, Final

import attrs

from leadkit.adapters.sql import SqlStore
from leadkit.bulk import RESCORE_BATCH_SIZE, rescore_store
from leadkit.errors import InvalidValue
from leadkit.scoring.model import ScoringModel
from leadkit.scoring.score_reports import RescoreProgress
from leadkit.shards import Shard
from leadkit.values import UserRef

__all__ = ["StoreAddress", "rescore"]

_POLL_SECONDS: Final = 0.2


@attrs.frozen
class StoreAddress:
    """How a worker process opens the store: a SQLAlchemy ``url`` or a SQLite ``path``."""

    url: str | None
    path: str | None
    busy_timeout: float

    def open(self) -> SqlStore:
        """The store (never created here). Raises what :meth:`SqlStore.open` raises."""
        if self.url is not None:
            return SqlStore.open(self.url, create=False, busy_timeout=self.busy_timeout)
        return SqlStore.open(path=self.path, create=False, busy_timeout=self.busy_timeout)


_progress_queue: Any = None  # set in each worker by _start


def _start(reports: Any) -> None:
    global _progress_queue
    _progress_queue = reports


def _score_shard(
    address: StoreAddress,
    shard: Shard,
    model: ScoringModel,
    at: datetime,
    by: UserRef,
    only_outdated: bool,
    batch_size: int,
) -> RescoreProgress:
    """One worker's job: rescore ``shard`` (runs in a worker process)."""

    def report(step: RescoreProgress) -> None:
        if _progress_queue is not None:
            _progress_queue.put((shard.index, step.seen))

    with address.open() as store:
        return rescore_store(
            store,
            model,
            at=at,
            by=by,
            shard=shard,
            only_outdated=only_outdated,
            batch_size=batch_size,
            progress=report,
        )


def rescore(
    address: StoreAddress,
    model: ScoringModel,
    *,
    at: datetime,
    by: UserRef,
    workers: int,
    only_outdated: bool = False,
    batch_size: int = RESCORE_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> RescoreProgress:
    """Rescore every lead of the store at ``address`` with ``workers`` processes, one shard
    each; ``progress`` gets the number of leads seen so far (all workers together). Returns
    the summed counts (``total``: the leads seen).

    Raises InvalidValue naming ``--workers`` for fewer than 1 worker, and the first error a
    worker raised (the other shards run to their end; rescoring is idempotent, so run again).
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidValue("--workers", workers, "must be at least 1")
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    seen = [0] * workers
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start, initargs=(reports,)
    ) as pool:
        jobs: list[Future[RescoreProgress]] = [
            pool.submit(
                _score_shard,
                address,
                Shard(index, workers),
                model,
                at,
                by,
                only_outdated,
                batch_size,
            )
            for index in range(workers)
        ]
        while not all(job.done() for job in jobs):
            try:
                index, count = reports.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            seen[index] = count
            if progress is not None:
                progress(sum(seen))
        results = [job.result() for job in jobs]
    total_seen = sum(r.seen for r in results)
    rescored = sum(r.rescored for r in results)
    if progress is not None:
        progress(total_seen)
    return RescoreProgress(
        seen=total_seen, rescored=rescored, unchanged=total_seen - rescored, total=total_seen
    )
