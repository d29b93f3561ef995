"""Bulk reads and writes over any store, and rescoring a store in batches and shards.

:func:`get_many`, :func:`save_many` and :func:`scan` use the repository's own bulk methods
(:class:`leadkit.ports.BulkLeadRepository`: one round trip per batch on both leadkit adapters)
and fall back to one call per lead on a repository without them, so the services that use
them (mass edit and assignment, bulk qualify and disqualify, rescoring) work on every store.

:func:`rescore_store` rescores a store (or one :class:`~leadkit.shards.Shard` of it) with a
unit of work per batch: a run over a million leads holds no lock and no memory for long, and
the shards of one run together rescore exactly what one unsharded run would::

    done = rescore_store(store, BCM_MODEL, at=now, by=me, shard=Shard(0, 4))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Final, cast

import attrs

from leadkit.errors import ConcurrencyConflict, InvalidValue, NotFound
from leadkit.lead import Lead
from leadkit.ports import (
    MAX_PAGE_SIZE,
    BulkLeadRepository,
    LeadQuery,
    LeadRepository,
    LeadSort,
    LeadStore,
    Page,
    check_bulk_saves,
    check_scan_limit,
)
from leadkit.rescoring import LeadRescorer, RescoredPage, rescored_leads, rescoring_repository
from leadkit.scoring.model import ScoringModel
from leadkit.scoring.predictive import PredictiveModel
from leadkit.scoring.score_reports import RescoreProgress
from leadkit.shards import Shard
from leadkit.values import LeadId, UserRef, require_aware

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "RESCORE_BATCH_SIZE",
    "bulk_repository",
    "get_many",
    "rescore_repository",
    "rescore_store",
    "save_many",
    "scan",
]

DEFAULT_BATCH_SIZE: Final = 1000
"""Leads per unit of work (and per bulk read and write) of the bulk paths."""

RESCORE_BATCH_SIZE: Final = 10_000
"""Leads per unit of work of :func:`rescore_store`: a rescored lead writes its score and one
event, so a batch ten times the other bulk paths' keeps memory small (tens of MiB) and
spends a tenth of the commits (each a disk sync on SQLite)."""

_BULK_METHODS: Final = ("get_many", "save_many", "scan")
_ATTEMPTS: Final = 3


def bulk_repository(repository: LeadRepository) -> BulkLeadRepository | None:
    """``repository`` as a :class:`~leadkit.ports.BulkLeadRepository` when it has the bulk
    methods, else None. Raises nothing."""
    if all(callable(getattr(repository, name, None)) for name in _BULK_METHODS):
        return cast(BulkLeadRepository, repository)
    return None


def get_many(repository: LeadRepository, lead_ids: Iterable[LeadId]) -> dict[LeadId, Lead]:
    """The stored leads among ``lead_ids``, by id (missing ones left out). Raises
    InvalidValue for a key that is not a LeadId, and what the repository raises."""
    bulk = bulk_repository(repository)
    if bulk is not None:
        return bulk.get_many(lead_ids)
    found: dict[LeadId, Lead] = {}
    for lead_id in lead_ids:
        if lead_id in found:
            continue
        try:
            found[lead_id] = repository.get(lead_id)
        except NotFound:
            continue
    return found


def save_many(repository: LeadRepository, leads: Sequence[Lead]) -> tuple[Lead, ...]:
    """Save every lead (version-checked), returning the stored copies in order.

    On a bulk repository all or none of them is written; on another one each is saved in
    turn, so after a failure the earlier ones are saved in the unit of work (roll it back
    to undo them, as the services do). Raises InvalidValue for a value that is not a Lead or
    a lead listed twice, ConcurrencyConflict, NotFound and what the repository raises.
    """
    batch = tuple(leads)
    bulk = bulk_repository(repository)
    if bulk is not None:
        return bulk.save_many(batch)
    check_bulk_saves(batch)
    return tuple(repository.save(lead) for lead in batch)


def scan(
    repository: LeadRepository,
    query: LeadQuery | None = None,
    *,
    limit: int = DEFAULT_BATCH_SIZE,
    after: str | None = None,
    shard: Shard | None = None,
) -> Page:
    """The next page of a sharded bulk job: up to ``limit`` matching leads from ``after`` on,
    those in ``shard`` returned (see :meth:`leadkit.ports.BulkLeadRepository.scan`; on
    another repository, pages of at most 1,000 through ``query``). Raises InvalidValue for a
    limit outside 1..100,000 or a foreign cursor, and what the repository raises."""
    check_scan_limit(limit)
    wanted = LeadQuery() if query is None else query
    bulk = bulk_repository(repository)
    if bulk is not None:
        return bulk.scan(wanted, limit=limit, after=after, shard=shard)
    page = repository.query(wanted, limit=min(limit, MAX_PAGE_SIZE), after=after)
    if shard is None:
        return page
    return Page(tuple(x for x in page.items if shard.contains(x.id.value)), page.next_cursor)


def rescore_store(
    store: LeadStore,
    model: ScoringModel,
    *,
    at: datetime,
    by: UserRef,
    predictive: PredictiveModel | None = None,
    query: LeadQuery | None = None,
    shard: Shard | None = None,
    only_outdated: bool = False,
    batch_size: int = RESCORE_BATCH_SIZE,
    progress: Callable[[RescoreProgress], None] | None = None,
) -> RescoreProgress:
    """Rescore the leads of ``store`` that ``query`` selects (all by default) and, with
    ``shard``, whose id falls in it: ``batch_size`` leads per unit of work, committed batch
    by batch. A repository with ``rescore_page`` (:class:`leadkit.rescoring.RescoringRepository`:
    both leadkit adapters) reads a batch and writes only the changed scores in one go; on
    another one a batch is read with one scan and the changed leads saved with one bulk save.
    The stored leads and the events are the same either way.

    Leads are visited in id order (whatever the query's own order), so a lead whose score
    moves it in another order is neither skipped nor seen twice. A batch that meets a
    concurrent change (ConcurrencyConflict) is read and scored again, up to three times.
    ``progress`` is called after every batch with the counts so far (``total`` is the
    count of matching leads without a shard, None with one); the last report is returned.
    Rescoring is idempotent: after a failure, the batches committed stay and a repeated run
    finishes the job. Raises InvalidValue for a naive ``at`` or a batch size outside
    1..100,000, ConcurrencyConflict when a batch kept conflicting, and what the store raises.
    """
    require_aware("at", at)
    _check_batch_size(batch_size)
    wanted = attrs.evolve(query or LeadQuery(), sort=LeadSort.ID, descending=False)
    total: int | None = None
    if shard is None or shard.count == 1:
        with store.unit_of_work() as uow:
            total = uow.leads.count(wanted)
    rescorer = LeadRescorer(model, at=at, by=by, predictive=predictive, only_outdated=only_outdated)
    seen = rescored = 0
    after: str | None = None
    while True:
        read, changed, after = _rescore_batch(store, rescorer, wanted, after, shard, batch_size)
        seen += read
        rescored += changed
        if progress is not None:
            progress(_report(seen, rescored, total))
        if after is None:
            return _report(seen, rescored, total)


def _check_batch_size(batch_size: int) -> None:
    """Raise InvalidValue naming ``batch_size`` unless it is a whole number in 1..100,000."""
    try:
        check_scan_limit(batch_size)
    except InvalidValue as e:
        raise InvalidValue("batch_size", batch_size, e.reason) from None


def _report(seen: int, rescored: int, total: int | None) -> RescoreProgress:
    return RescoreProgress(seen=seen, rescored=rescored, unchanged=seen - rescored, total=total)


def _rescore_batch(
    store: LeadStore,
    rescorer: LeadRescorer,
    query: LeadQuery,
    after: str | None,
    shard: Shard | None,
    limit: int,
) -> tuple[int, int, str | None]:
    """One batch in its own unit of work: (leads seen, leads changed, the next cursor)."""
    for attempt in range(_ATTEMPTS):
        with store.unit_of_work() as uow:
            try:
                done = _rescore_page(uow.leads, rescorer, query, after, shard, limit)
                uow.commit()
            except ConcurrencyConflict:
                if attempt == _ATTEMPTS - 1:
                    raise
                continue
            return done.seen, done.changed, done.next_cursor
    raise AssertionError("unreachable")  # pragma: no cover


def _rescore_page(
    leads: LeadRepository,
    rescorer: LeadRescorer,
    query: LeadQuery,
    after: str | None,
    shard: Shard | None,
    limit: int,
) -> RescoredPage:
    """Rescore one page: through the repository's ``rescore_page`` when it has one (only
    the scores written), else read with ``scan`` and the changed leads saved whole."""
    fast = rescoring_repository(leads)
    if fast is not None:
        return fast.rescore_page(query, limit=limit, after=after, shard=shard, rescore=rescorer)
    page = scan(leads, query, limit=limit, after=after, shard=shard)
    changed = rescored_leads(page.items, rescorer)
    if changed:
        save_many(leads, changed)
    return RescoredPage(len(page.items), len(changed), page.next_cursor)


def rescore_repository(
    repository: LeadRepository,
    model: ScoringModel,
    *,
    at: datetime,
    by: UserRef,
    predictive: PredictiveModel | None = None,
    query: LeadQuery | None = None,
    only_outdated: bool = False,
    batch_size: int = 500,
    progress: Callable[[RescoreProgress], None] | None = None,
) -> RescoreProgress:
    """Rescore every lead ``repository`` streams (``query`` filters; all by default), saving
    each lead whose score changed. ``progress`` is called after every ``batch_size`` leads
    and once at the end; the last report is returned.

    The caller's unit of work holds the saves: commit it afterwards (rescoring is idempotent,
    so a failed run can simply be repeated). Use ``only_outdated`` after a model edit to skip
    leads already scored by this version. Raises InvalidValue for a naive ``at`` or a batch
    size below 1, and whatever the repository raises.
    """
    require_aware("at", at)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidValue("batch_size", batch_size, "must be a positive integer")
    total = repository.count(LeadQuery() if query is None else query)
    rescorer = LeadRescorer(model, at=at, by=by, predictive=predictive, only_outdated=only_outdated)
    seen = rescored = 0
    # A repository with ``save_many`` (leadkit.ports.BulkLeadRepository) writes a batch in
    # one go; the batch is written before the progress report that counts it.
    save_many: Callable[[list[Lead]], object] | None = getattr(repository, "save_many", None)
    pending: list[Lead] = []

    def flush() -> None:
        if save_many is not None and pending:
            save_many(pending)
        pending.clear()

    for lead in repository.stream(query, batch_size=batch_size):
        seen += 1
        event = rescorer(lead)
        if event is not None:
            scored = lead.record_score(event.score, at=event.at, by=event.by)
            if save_many is None:
                repository.save(scored)
            else:
                pending.append(scored)
            rescored += 1
        if seen % batch_size == 0:
            flush()
            if progress is not None:
                progress(_report(seen, rescored, total))
    flush()
    final = _report(seen, rescored, total)
    if progress is not None and (seen == 0 or seen % batch_size):
        progress(final)
    return final
