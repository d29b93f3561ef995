"""Committing an import plan: :func:`run_import` writes the planned creates and updates in one
unit of work, or in batches that are each all or nothing, and reports on every row.

The report accounts for every data row of the file exactly once: created, updated, skipped
(with the reason) or rejected (with its errors). A batch that fails is rolled back and
:class:`ImportInterrupted` carries a checkpoint of the batches committed before it; passing the
checkpoint back as ``resume=`` continues with the next row, and the final report still covers
every row once.

With ``duplicates=`` (an :class:`~leadkit.duplicate_checks.EngineDuplicateCheck` indexing leads, its
keys in the store's database: ``SqlKeyStore(store.engine)``) the plan's duplicate check is made
again as each new lead is written, under locks on the lead's blocking keys
(:meth:`~leadkit.duplicate_checks.EngineDuplicateCheck.matches`, as qualification does): a lead
that another import (another process, say) stored since the plan was made is found, and the
row is skipped as a duplicate of a stored record when the policy skips duplicates. Concurrent
imports of one person so store one lead.

With ``idempotency_key=`` each batch stores its row outcomes under ``key/batch-N`` (N: the
batch's first row index) in its own unit of work: running the same plan again with the key
(a retry after a crash, a timeout or an interruption) replays the committed batches' outcomes
without writing them again and writes only the rest (see :mod:`leadkit.idempotency`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import Final, cast

import attrs

from leadkit.duplicate_checks.engine_check import EngineDuplicateCheck
from leadkit.duplicates.matches import DuplicateMatch
from leadkit.errors import ConcurrencyConflict, InvalidValue, LeadkitError
from leadkit.idempotency import (
    IdempotencyKey,
    KeyArgument,
    as_key,
    recall,
    remember,
    request_hash,
    result_data,
    result_from,
)
from leadkit.io.mapping import RowError
from leadkit.io.plan import (
    DuplicateAction,
    ImportPlan,
    ImportPolicy,
    PlannedRow,
    RowAction,
    SkipReason,
)
from leadkit.io.progress import ProgressCallback, _Meter
from leadkit.io.recheck import BatchRecheck
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import IdFactory, LeadStore, UnitOfWork, unit_of_work_of
from leadkit.values import LeadId, UserRef, require_aware

__all__ = [
    "PROGRESS_EVERY",
    "ImportCheckpoint",
    "ImportInterrupted",
    "ImportReport",
    "RowOutcome",
    "RowStatus",
    "run_import",
]

PROGRESS_EVERY: Final = 1000
"""Rows between two progress reports of :func:`run_import` inside one batch."""


class RowStatus(Enum):
    """What happened to one row."""

    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"
    REJECTED = "rejected"


@attrs.frozen
class RowOutcome:
    """The fate of one row: its number, status, the lead written (or matched) and why."""

    row: int
    status: RowStatus
    lead_id: LeadId | None = None
    skip_reason: SkipReason | None = None
    errors: tuple[RowError, ...] = ()
    reason: str = ""


@attrs.frozen
class ImportCheckpoint:
    """Where a batched import stands: the plan it belongs to, the index of the next row to
    write and the outcomes of every row before it (all committed)."""

    fingerprint: str
    position: int
    outcomes: tuple[RowOutcome, ...]


class ImportInterrupted(LeadkitError):
    """``run_import`` stopped: a batch failed and was rolled back.

    ``checkpoint`` holds every batch committed before the failure (pass it back as
    ``resume=`` to continue where it stopped); ``__cause__`` is the error that stopped it.
    """

    def __init__(self, checkpoint: ImportCheckpoint, cause: BaseException) -> None:
        self.checkpoint = checkpoint
        self.cause = cause
        done = checkpoint.position
        super().__init__(
            f"import stopped after {done} row(s) were committed; the failing batch was rolled "
            f"back ({type(cause).__name__}: {cause}). Resume with the checkpoint."
        )


@attrs.frozen
class ImportReport:
    """One outcome per data row, in file order, and the counts."""

    source: str
    outcomes: tuple[RowOutcome, ...]
    batches: int

    def _count(self, status: RowStatus) -> int:
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def rows(self) -> int:
        """How many rows the report covers: every data row of the file."""
        return len(self.outcomes)

    @property
    def created(self) -> int:
        """Rows that became new leads."""
        return self._count(RowStatus.CREATED)

    @property
    def updated(self) -> int:
        """Rows that updated stored leads."""
        return self._count(RowStatus.UPDATED)

    @property
    def skipped(self) -> int:
        """Rows skipped (blank, existing, unchanged or duplicate)."""
        return self._count(RowStatus.SKIPPED)

    @property
    def skipped_as_duplicate(self) -> int:
        """Rows skipped as duplicates (in the file or of stored records)."""
        dup = (SkipReason.DUPLICATE_IN_FILE, SkipReason.DUPLICATE_OF_STORED)
        return sum(1 for o in self.outcomes if o.skip_reason in dup)

    @property
    def rejected(self) -> int:
        """Rows refused with errors."""
        return self._count(RowStatus.REJECTED)

    @property
    def lead_ids(self) -> tuple[LeadId, ...]:
        """The leads created or updated, in row order."""
        return tuple(
            o.lead_id
            for o in self.outcomes
            if o.lead_id is not None and o.status in (RowStatus.CREATED, RowStatus.UPDATED)
        )

    def summary(self) -> str:
        """``leads.csv: 200 rows: 171 created, 0 updated, 17 skipped (12 as duplicates),
        12 rejected``."""
        return (
            f"{self.source}: {self.rows} rows: {self.created} created, {self.updated} updated, "
            f"{self.skipped} skipped ({self.skipped_as_duplicate} as duplicates), "
            f"{self.rejected} rejected"
        )


def _passive(row: PlannedRow) -> RowOutcome:
    if row.action is RowAction.REJECT:
        return RowOutcome(row.number, RowStatus.REJECTED, row.lead_id, errors=row.errors,
                          reason=row.reason)  # fmt: skip
    return RowOutcome(row.number, RowStatus.SKIPPED, row.lead_id, row.skip_reason,
                      reason=row.reason)  # fmt: skip


def _write(
    uow: UnitOfWork,
    row: PlannedRow,
    policy: ImportPolicy,
    ids: IdFactory,
    at: datetime,
    by: UserRef,
    recheck: _Recheck | None,
) -> RowOutcome:
    assert row.patch is not None
    if row.action is RowAction.CREATE:
        lead_id = row.lead_id if row.lead_id is not None else LeadId(ids())
        lead = Lead.create(
            lead_id, row.patch, at=at, by=by, owner=policy.owner, profile=policy.profile
        )
        if recheck is not None:
            found = recheck.matches(row, lead)  # the batch's keys are locked
            if found:
                best = found[0]
                return RowOutcome(row.number, RowStatus.SKIPPED, row.lead_id,
                                  SkipReason.DUPLICATE_OF_STORED,
                                  reason=f"possible duplicate of {best.candidate} (rule "
                                  f"{best.rule}), stored since the plan was made")  # fmt: skip
        uow.leads.add(lead)
        return RowOutcome(row.number, RowStatus.CREATED, lead_id)
    assert row.lead_id is not None
    assert row.expected_version is not None
    stored = uow.leads.get(row.lead_id)
    if stored.version != row.expected_version:
        raise ConcurrencyConflict(row.lead_id, row.expected_version, stored.version)
    uow.leads.save(stored.update(row.patch, at=at, by=by, profile=policy.profile))
    return RowOutcome(row.number, RowStatus.UPDATED, row.lead_id, reason=row.reason)


def skips_duplicates(policy: ImportPolicy) -> bool:
    """True when ``policy`` skips the rows the duplicate check flags (so a write checks them
    again, given a check)."""
    return policy.check_duplicates and policy.on_duplicate is DuplicateAction.SKIP


class _Recheck:
    """The duplicate check of a batch's new leads, made again while it is written: their
    keys locked at once (see :meth:`EngineDuplicateCheck.lock_all`), their stored duplicates
    looked up at once (:class:`~leadkit.io.recheck.BatchRecheck`). The keys do not depend on
    the lead's id, so drafts stand for the leads."""

    def __init__(
        self,
        duplicates: EngineDuplicateCheck,
        uow: UnitOfWork,
        batch: Sequence[PlannedRow],
        policy: ImportPolicy,
        at: datetime,
        by: UserRef,
    ) -> None:
        creating = [r for r in batch if r.action is RowAction.CREATE and r.patch is not None]
        drafts = [
            Lead.create(_LOCKING, cast(LeadPatch, row.patch), at=at, by=by, owner=policy.owner,
                        profile=policy.profile)
            for row in creating
        ]  # fmt: skip
        self._position = {row.number: i for i, row in enumerate(creating)}
        self._drafts = drafts
        if drafts:
            duplicates.lock_all(drafts, uow)
        self._found = BatchRecheck(duplicates, uow, drafts)

    def matches(self, row: PlannedRow, lead: Lead) -> list[DuplicateMatch]:
        """The duplicates of ``row``'s new lead as the unit of work stands now."""
        return self._found.matches(self._position[row.number], lead)


_LOCKING = LeadId("import-locking")


def check_duplicates_for(
    duplicates: EngineDuplicateCheck, target: LeadStore | UnitOfWork, policy: ImportPolicy
) -> None:
    """Refuse a ``duplicates`` check that cannot stand for ``policy``'s (InvalidValue)."""
    if not isinstance(duplicates, EngineDuplicateCheck):
        raise InvalidValue("duplicates", duplicates, "must be an EngineDuplicateCheck")
    if not duplicates.indexes_leads:
        raise InvalidValue(
            "duplicates", duplicates, "must index leads (EngineDuplicateCheck(..., leads=True))"
        )
    if duplicates.rule_set != policy.rule_set:
        raise InvalidValue("duplicates", duplicates, "must use the rule set of the import policy")
    if target is not duplicates.store and getattr(target, "check", None) is not duplicates:
        raise InvalidValue(
            "target", target, "import through duplicates.store (or a unit of work of it)"
        )


def run_import(
    target: LeadStore | UnitOfWork,
    plan: ImportPlan,
    *,
    ids: IdFactory,
    at: datetime,
    by: UserRef,
    batch_size: int | None = None,
    resume: ImportCheckpoint | None = None,
    on_batch: Callable[[ImportCheckpoint], None] | None = None,
    idempotency_key: KeyArgument = None,
    duplicates: EngineDuplicateCheck | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Write the plan's creates and updates, all or nothing per batch, and report every row.

    ``target`` is a store (a unit of work is opened per batch) or a unit of work (committed
    after each batch). ``ids`` makes the id of each created lead (a row's own id column wins);
    ``at`` and ``by`` stamp every created or updated lead. ``batch_size`` (default: the policy's,
    else the whole plan in one unit of work) counts the plan's rows per batch; ``on_batch``
    receives the checkpoint after each committed batch; ``resume`` continues from one.

    An update whose lead changed since the plan was made raises ConcurrencyConflict inside its
    batch. Any error in a batch rolls that batch back and raises ImportInterrupted (``from``
    the error) carrying the checkpoint of the batches committed before it.

    With ``idempotency_key`` a batch committed by an earlier run with the key (same plan,
    batch size and user) is not written again: its stored outcomes are reported.

    With ``duplicates`` (a check indexing leads, with the policy's rule set; ``target`` is
    ``duplicates.store`` or a unit of work of it) every lead about to be created is checked
    again under locks on its blocking keys, when the policy skips duplicates: a duplicate
    stored since the plan was made (by a concurrent import, say) skips the row (see the
    module docs).

    ``progress`` receives an :class:`~leadkit.io.progress.ImportProgress` every
    :data:`PROGRESS_EVERY` rows written into the unit of work and after each batch commits
    (``done`` counts the rows handled, committed or not; a failed batch's rows are rolled
    back all the same). What it raises propagates as any error of its batch does.

    Raises InvalidValue for a naive ``at``, a bad batch size, a checkpoint of another plan or
    an unfit ``duplicates`` check (or a ``target`` that is not its store);
    IdempotencyKeyReuse (inside ImportInterrupted) when a batch's key holds another request.
    """
    require_aware("at", at)
    if duplicates is not None:
        check_duplicates_for(duplicates, target, plan.policy)
    size = batch_size if batch_size is not None else plan.policy.batch_size
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise InvalidValue("batch_size", size, "must be a positive integer")
    rows: Sequence[PlannedRow] = plan.rows
    writing = _Writing(
        plan, ids, at, by, size or max(len(rows), 1), as_key(idempotency_key),
        duplicates if duplicates is not None and skips_duplicates(plan.policy) else None,
        _Meter("write", progress, len(rows)), progress is not None,
    )  # fmt: skip
    position, done = 0, cast(tuple[RowOutcome, ...], ())
    if resume is not None:
        if resume.fingerprint != plan.fingerprint:
            raise InvalidValue("resume", resume.fingerprint, "the checkpoint is of another plan")
        position, done = resume.position, resume.outcomes
    outcomes: list[RowOutcome] = list(done)
    batches = 0
    while position < len(rows):
        try:
            written = writing.batch(target, position)
        except Exception as e:
            checkpoint = ImportCheckpoint(plan.fingerprint, position, tuple(outcomes))
            raise ImportInterrupted(checkpoint, e) from e
        outcomes += written
        position += len(written)
        batches += 1
        if on_batch is not None:
            on_batch(ImportCheckpoint(plan.fingerprint, position, tuple(outcomes)))
        writing.meter.report(position)
    return ImportReport(plan.source, tuple(outcomes), batches)


def write_rows(
    uow: UnitOfWork,
    batch: Sequence[PlannedRow],
    policy: ImportPolicy,
    ids: IdFactory,
    at: datetime,
    by: UserRef,
    duplicates: EngineDuplicateCheck | None,
    meter: _Meter | None = None,
    position: int = 0,
) -> list[RowOutcome]:
    """Write one batch of planned rows into ``uow`` (not committed): create or update the
    rows that say so, report the others as they stand; the outcome of each row in order.
    With ``duplicates`` the new leads are checked again under locks (see
    :func:`run_import`); ``meter`` reports progress every :data:`PROGRESS_EVERY` rows, counted
    from ``position``. Raises what the store raises, ConcurrencyConflict for an update
    whose lead changed since it was planned."""
    recheck = None
    if duplicates is not None:
        recheck = _Recheck(duplicates, uow, batch, policy, at, by)
    written: list[RowOutcome] = []
    for row in batch:
        if row.action in (RowAction.CREATE, RowAction.UPDATE):
            written.append(_write(uow, row, policy, ids, at, by, recheck))
        else:
            written.append(_passive(row))
        if meter is not None and len(written) % PROGRESS_EVERY == 0:
            meter.report(position + len(written))
    return written


@attrs.frozen
class _Writing:
    """What every batch of one :func:`run_import` call is written with."""

    plan: ImportPlan
    ids: IdFactory
    at: datetime
    by: UserRef
    step: int
    key: IdempotencyKey | None
    duplicates: EngineDuplicateCheck | None
    meter: _Meter
    reports: bool

    def batch(self, target: LeadStore | UnitOfWork, position: int) -> list[RowOutcome]:
        """Write the batch starting at ``position`` in one unit of work (committed, or rolled
        back on any error, which propagates); its outcomes."""
        with unit_of_work_of(target) as uow:
            try:
                written = self._write_batch(uow, position)
                uow.commit()
            except BaseException:
                uow.rollback()
                raise
        return written

    def _write_batch(self, uow: UnitOfWork, position: int) -> list[RowOutcome]:
        plan, at = self.plan, self.at
        batch: Sequence[PlannedRow] = plan.rows[position : position + self.step]
        batch_key = None if self.key is None else self.key.scoped(f"batch-{position}")
        fingerprint = ""
        if batch_key is not None:
            fingerprint = request_hash(
                "import_batch",
                {"plan": plan.fingerprint, "position": position, "size": self.step, "by": self.by},
            )
            stored = recall(uow, batch_key, fingerprint, "run_import", at=at)
            if stored is not None:
                return list(result_from(stored[0], tuple[RowOutcome, ...]))
        meter = self.meter if self.reports else None
        written = write_rows(
            uow, batch, plan.policy, self.ids, at, self.by, self.duplicates, meter, position
        )
        if batch_key is not None and batch:
            remember(uow, batch_key, fingerprint, result_data(tuple(written)), at=at)
        return written
