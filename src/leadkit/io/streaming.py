"""The streaming import: :func:`import_streaming` plans and writes a file batch by batch, so
that its memory grows with the batch and the file's duplicate keys, not with the rows.

Every row gets the outcome :func:`~leadkit.io.plan_import` followed by
:func:`~leadkit.io.run_import` gives it (a property test checks it on drawn files). The file is
read twice:

1. **Plan** (nothing written; the store read as it stands before the import): rows are
   parsed, matched with stored leads and checked against the store in batches of
   :data:`~leadkit.io.plan.PLAN_BATCH_SIZE`, by the steps :func:`~leadkit.io.plan_import` takes.
   Of each row only its planned outcome is kept (action, lead, version, errors, matches),
   not its parsed values; the rows to create go, as they are planned, into the duplicate
   check within the file, which keeps their prepared keys and values only. Its groups then
   skip the later members of each group, as the plan does.
2. **Write**: the file is read again; the rows to create or update of each batch are parsed
   again (the same values), written in one unit of work per batch (the adapter inserts them
   in bulk at commit) and reported. Only the outcome of each row is kept.

There is no plan to inspect and no single unit of work for the whole file: use
:func:`~leadkit.io.plan_import` and :func:`~leadkit.io.run_import` for those.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Final

import attrs

from leadkit.duplicate_checks.engine_check import EngineDuplicateCheck
from leadkit.duplicates.matches import DuplicateGroup
from leadkit.duplicates.record_view import DuplicateRecord
from leadkit.errors import ConcurrencyConflict, InvalidValue
from leadkit.io.drafts import draft_record
from leadkit.io.errors import MalformedSource
from leadkit.io.file_check import file_duplicate_groups
from leadkit.io.mapping import ColumnMapping, RowParser, suggest_mapping
from leadkit.io.plan import (
    PLAN_BATCH_SIZE,
    DuplicateAction,
    ImportPolicy,
    PlannedRow,
    RowAction,
    _as_source,
    _batches,
    _check_stored,
    _keep_first_of_group,
    _parse,
    _plan_rows,
    _update_patch,
    _was_creating,
    plan_fingerprint,
)
from leadkit.io.progress import ProgressCallback, _Meter
from leadkit.io.readers import Source, SourceRow
from leadkit.io.run import (
    ImportCheckpoint,
    ImportInterrupted,
    ImportReport,
    RowOutcome,
    check_duplicates_for,
    skips_duplicates,
    write_rows,
)
from leadkit.io.source import Data
from leadkit.io.stored import StoredSide, check_keyed, reading
from leadkit.ports import IdFactory, LeadStore, UnitOfWork, unit_of_work_of
from leadkit.values import LeadId, UserRef, require_aware

__all__ = ["STREAM_BATCH_SIZE", "import_streaming"]

STREAM_BATCH_SIZE: Final = 5000
"""Rows per unit of work of :func:`import_streaming` when neither the call nor the policy
gives a batch size."""


def import_streaming(
    target: LeadStore | UnitOfWork,
    source: Source | Data,
    mapping: ColumnMapping | None = None,
    policy: ImportPolicy | None = None,
    *,
    ids: IdFactory,
    at: datetime,
    by: UserRef,
    batch_size: int | None = None,
    duplicates: EngineDuplicateCheck | None = None,
    recheck: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a file into ``target`` batch by batch, without holding its rows: the report of
    ``run_import(target, plan_import(source, mapping, policy, store=target, duplicates=
    duplicates), ids=ids, at=at, by=by, batch_size=...)``, row for row (see the module docs).

    ``source`` is read twice: a path, bytes, a binary stream (read into memory, as
    :func:`~leadkit.io.open_source` does) or a :class:`~leadkit.io.Source` that can give its
    rows twice (one over a one-shot stream raises MalformedSource before anything is
    written). It must not change while it is imported. ``batch_size`` (default: the policy's, else
    :data:`STREAM_BATCH_SIZE`) counts rows per unit of work; each batch is all or nothing.
    With ``duplicates`` (as :func:`~leadkit.io.plan_import` takes it; ``target`` must then be
    ``duplicates.store`` or a unit of work of it, so the new leads' keys are written with
    them) the rows are checked against the store through its persisted keys; with
    ``recheck`` too, each new lead is checked again under locks as it is written (as
    ``run_import(..., duplicates=duplicates)``). ``progress`` receives an
    :class:`~leadkit.io.progress.ImportProgress` after each planned batch (phase ``"plan"``,
    the file counted first) and as rows are written (phase ``"write"``).

    Raises what :func:`~leadkit.io.plan_import` raises before anything is written
    (MappingIncomplete, MalformedSource, ConfigurationError, InvalidValue); InvalidValue for
    a naive ``at``, a bad batch size or an unfit ``duplicates``; ImportInterrupted (``from``
    the error; its checkpoint holds the outcomes of the batches committed before) when a
    batch fails, ConcurrencyConflict among the causes for an update whose lead changed since
    it was planned, MalformedSource for a file that changed between the two reads.
    """
    require_aware("at", at)
    policy = policy if policy is not None else ImportPolicy()
    size = batch_size if batch_size is not None else policy.batch_size or STREAM_BATCH_SIZE
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidValue("batch_size", size, "must be a positive integer")
    keyed = None
    if duplicates is not None:
        check_duplicates_for(duplicates, target, policy)
        if policy.check_duplicates:
            keyed = check_keyed(duplicates, policy.rule_set)
    table = _as_source(source, limits=policy.limits)
    mapping = mapping if mapping is not None else suggest_mapping(table.headers)
    mapping.check(policy.profile)
    parser = RowParser(mapping, table.headers, policy.parse_options)
    total = sum(1 for _ in table.rows()) if progress is not None else None
    rows = _plan_pass(table, parser, policy, target, keyed, _Meter("plan", progress, total))
    fingerprint = plan_fingerprint(table.name, table.headers, mapping, rows)
    writer = _Writer(
        parser, policy, ids, at, by, fingerprint,
        duplicates if recheck and duplicates is not None and skips_duplicates(policy) else None,
        _Meter("write", progress, len(rows)) if progress is not None else None,
    )  # fmt: skip
    outcomes: list[RowOutcome] = []
    batches = 0
    planned = _drain(rows)  # planned rows are let go of as their outcomes replace them
    for batch in _batches(table.rows(), size):
        outcomes += writer.batch(target, batch, planned, outcomes)
        batches += 1
    if next(planned, None) is not None:
        checkpoint = ImportCheckpoint(fingerprint, len(outcomes), tuple(outcomes))
        raise ImportInterrupted(checkpoint, _changed(table))
    return ImportReport(table.name, tuple(outcomes), batches)


def _drain(rows: list[PlannedRow]) -> Iterator[PlannedRow]:
    """``rows`` in order, each let go of by the list as it is taken."""
    rows.reverse()
    while rows:
        yield rows.pop()


def _changed(table: Source) -> MalformedSource:
    return MalformedSource("source", table.name, "changed while it was imported (rows differ)")


def _plan_pass(
    table: Source,
    parser: RowParser,
    policy: ImportPolicy,
    target: LeadStore | UnitOfWork,
    keyed: EngineDuplicateCheck | None,
    meter: _Meter,
) -> list[PlannedRow]:
    """Plan every row of ``table`` as :func:`~leadkit.io.plan_import` does, keeping each
    row's planned outcome without its parsed values (``patch`` None)."""
    rows: list[PlannedRow] = []
    with reading(target) as uow:
        stored = StoredSide(uow, policy.rule_set, duplicates=policy.check_duplicates,
                            emails=policy.match_by_email, keyed=keyed)  # fmt: skip
        drafts = _planned_drafts(table, parser, policy, stored, rows, meter)
        if policy.check_duplicates:
            _skip_in_file(rows, file_duplicate_groups(drafts, policy.rule_set), policy)
        else:
            for _ in drafts:
                pass
    return rows


def _planned_drafts(
    table: Source,
    parser: RowParser,
    policy: ImportPolicy,
    stored: StoredSide,
    rows: list[PlannedRow],
    meter: _Meter,
) -> Iterator[DuplicateRecord]:
    """Plan the file batch by batch into ``rows`` (each row without its parsed values) and
    yield the draft record of each row planned for creation, for the check within the file
    (which keeps only their prepared values)."""
    targeted: dict[LeadId, int] = {}
    read = 0
    for batch in _batches(table.rows(), PLAN_BATCH_SIZE):
        read += len(batch)
        planned = _plan_rows(batch, parser, policy, stored, targeted)
        if stored.checks:
            _check_stored(planned, policy, stored)
        drafts = [
            draft_record(row.number, row.patch)
            for row in planned
            if _was_creating(row) and row.patch is not None
        ]
        rows += [attrs.evolve(row, patch=None) if row.patch is not None else row
                 for row in planned]  # fmt: skip
        del planned
        meter.report(read)
        yield from drafts
    stored.forget()  # its candidates are let go of before the check within the file indexes


def _skip_in_file(
    rows: list[PlannedRow], groups: Sequence[DuplicateGroup], policy: ImportPolicy
) -> None:
    """Skip the rows the check within the file flags, as the plan does: in each group, with
    policy skip, every member but the first still to be created."""
    if policy.on_duplicate is not DuplicateAction.SKIP:
        return
    position = {row.number: i for i, row in enumerate(rows) if _was_creating(row)}
    for group in groups:
        members = sorted(
            position[number]
            for number in (_row_number(m.record_id) for m in group.members)
            if number in position
        )
        _keep_first_of_group(rows, members, skip=True)


def _row_number(record_id: str) -> int:
    """The row number of a draft record's id (``row-12``); -1 for another id."""
    prefix, _, number = record_id.partition("-")
    return int(number) if prefix == "row" and number.isdigit() else -1


@attrs.frozen
class _Writer:
    """What every batch of the write pass of one :func:`import_streaming` is written with."""

    parser: RowParser
    policy: ImportPolicy
    ids: IdFactory
    at: datetime
    by: UserRef
    fingerprint: str
    duplicates: EngineDuplicateCheck | None
    meter: _Meter | None

    def batch(
        self,
        target: LeadStore | UnitOfWork,
        batch: Sequence[SourceRow],
        planned: Iterator[PlannedRow],
        before: Sequence[RowOutcome],
    ) -> list[RowOutcome]:
        """Write one batch of source rows (with their planned rows, taken from ``planned``) in
        one unit of work; its outcomes. Raises ImportInterrupted (with the checkpoint of
        ``before``, the outcomes committed so far) when it fails."""
        position = len(before)
        try:
            with unit_of_work_of(target) as uow:
                try:
                    full = [self._restore(uow, row, next(planned, None)) for row in batch]
                    written = write_rows(uow, full, self.policy, self.ids, self.at, self.by,
                                         self.duplicates, self.meter, position)  # fmt: skip
                    uow.commit()
                except BaseException:
                    uow.rollback()
                    raise
        except Exception as e:
            checkpoint = ImportCheckpoint(self.fingerprint, position, tuple(before))
            raise ImportInterrupted(checkpoint, e) from e
        if self.meter is not None:
            self.meter.report(position + len(written))
        return written

    def _restore(self, uow: UnitOfWork, source: SourceRow, row: PlannedRow | None) -> PlannedRow:
        """``row`` with the values it writes, parsed again from ``source``: a create's patch;
        an update's changes to its lead as stored (ConcurrencyConflict when the lead's version
        is not the one planned). Raises MalformedSource when ``source`` is not ``row``'s."""
        if row is None or row.number != source.number:
            raise MalformedSource("source", source.number, "changed while it was imported")
        if row.action not in (RowAction.CREATE, RowAction.UPDATE):
            return row
        parsed = _parse(source, self.parser, self.policy)
        if parsed is None or parsed.patch is None:
            raise MalformedSource("source", source.number, "changed while it was imported")
        if row.action is RowAction.CREATE:
            return attrs.evolve(row, patch=parsed.patch)
        assert row.lead_id is not None
        assert row.expected_version is not None
        existing = uow.leads.get(row.lead_id)
        if existing.version != row.expected_version:
            raise ConcurrencyConflict(row.lead_id, row.expected_version, existing.version)
        return attrs.evolve(row, patch=_update_patch(existing, parsed.parsed))
