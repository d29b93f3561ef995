"""Store a merge of leads planned by :func:`leadkit.merging.plan_merge`, and undo it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

import attrs

from leadkit.errors import (
    ConcurrencyConflict,
    ConfigurationError,
    NotFound,
    UnmergeConflict,
)
from leadkit.idempotency import (
    KeyArgument,
    run_once,
)
from leadkit.lead import Lead
from leadkit.merging import MergePlan, MergeRecord, MovedOpportunity, plan_unmerge
from leadkit.ports import IdFactory, MergeRepository, UnitOfWork
from leadkit.services.units import Target, _all_or_nothing, _working
from leadkit.values import (
    MergeId,
    UserRef,
    require_aware,
)

__all__ = [
    "MergeResult",
    "UnmergeResult",
    "merge",
    "unmerge",
]


@attrs.frozen
class MergeResult:
    """A stored merge: its record (``record.id`` is what :func:`unmerge` takes) and the
    stored leads, master first."""

    record: MergeRecord
    leads: tuple[Lead, ...]

    @property
    def merge_id(self) -> MergeId:
        """The id of the stored merge."""
        return self.record.id

    @property
    def master(self) -> Lead:
        """The stored master lead."""
        return self.leads[0]


def _merges(uow: UnitOfWork) -> MergeRepository:
    merges = getattr(uow, "merges", None)
    if merges is None:
        raise ConfigurationError("store", "it does not keep merge records (no `merges` repository)")
    return cast(MergeRepository, merges)


def merge(
    target: Target,
    plan: MergePlan,
    *,
    ids: IdFactory,
    at: datetime,
    by: UserRef,
    idempotency_key: KeyArgument = None,
) -> MergeResult:
    """Store a merge planned by :func:`~leadkit.merging.plan_merge`, all or nothing: the
    master takes the surviving values and the moved notes, activities and stakeholders; the
    others become Disqualified (Canceled), merged into the master; opportunities whose
    originating lead was one of the others are re-pointed to the master; a
    :class:`~leadkit.merging.MergeRecord` keeps the images from before for :func:`unmerge`.
    The master's ``LeadsMerged`` event carries the before-images.

    With ``idempotency_key`` a retry (the same plan and user) returns the first result and
    changes nothing.

    Raises NotFound, ConcurrencyConflict (a lead changed since the plan was made), LeadMerged,
    ConfigurationError (the store keeps no merge records), InvalidValue, StorageUnavailable,
    IdempotencyKeyReuse (the key came with another request).
    """
    require_aware("at", at)
    if idempotency_key is not None:
        return run_once(
            target,
            idempotency_key,
            operation="merge",
            request={"plan": plan, "by": by},
            at=at,
            result_type=MergeResult,
            work=lambda uow: merge(uow, plan, ids=ids, at=at, by=by),
        )
    merge_id = MergeId(ids())
    with _working(target) as uow:
        merges = _merges(uow)
        for planned in plan.leads:
            current = uow.leads.get(planned.id)
            if current.version != planned.version:
                raise ConcurrencyConflict(planned.id, planned.version, current.version)
        changed = plan.apply(merge_id, at=at, by=by)
        with _all_or_nothing(uow):
            stored = tuple(uow.leads.save(lead) for lead in changed)
            moves: list[MovedOpportunity] = []
            for other in plan.others:
                for opportunity in uow.opportunities.list(originating_lead=other.id):
                    notes = opportunity.notes_from_lead == other.id
                    uow.opportunities.save(
                        attrs.evolve(
                            opportunity,
                            originating_lead=plan.master.id,
                            notes_from_lead=plan.master.id
                            if notes
                            else opportunity.notes_from_lead,
                        )
                    )
                    moves.append(MovedOpportunity(opportunity.id, other.id, notes))
            record = merges.add(
                MergeRecord(
                    id=merge_id,
                    master=plan.master.id,
                    merged=tuple(lead.id for lead in plan.others),
                    at=at,
                    by=by,
                    before=plan.leads,
                    after=stored,
                    moved=plan.moved,
                    opportunities=tuple(moves),
                )
            )
        return MergeResult(record, stored)


@attrs.frozen
class UnmergeResult:
    """An undone merge: the record (now with ``undone_at``) and the restored leads, master
    first."""

    record: MergeRecord
    leads: tuple[Lead, ...]


def unmerge(
    target: Target,
    merge_id: MergeId,
    *,
    at: datetime,
    by: UserRef,
    force: Iterable[str] = (),
    idempotency_key: KeyArgument = None,
) -> UnmergeResult:
    """Undo a stored merge, all or nothing: every lead goes back to its image from before the
    merge (notes or activities added to it since stay), what moved moves back and the
    re-pointed opportunities point at their lead again.

    A field changed since the merge is a conflict unless its name is in ``force`` (then the
    value from before the merge wins); an opportunity re-pointed since is a conflict on
    ``originating_lead`` unless forced.

    Raises NotFound (no such merge), UnmergeConflict listing the fields touched since,
    MergeRefused (already undone), ConfigurationError (the store keeps no merge records),
    ConcurrencyConflict, StorageUnavailable, IdempotencyKeyReuse (with ``idempotency_key``: the
    key came with another request; a retry with the key returns the first result).
    """
    require_aware("at", at)
    forced = frozenset(force)
    if idempotency_key is not None:
        return run_once(
            target,
            idempotency_key,
            operation="unmerge",
            request={"merge_id": merge_id, "by": by, "force": sorted(forced)},
            at=at,
            result_type=UnmergeResult,
            work=lambda uow: unmerge(uow, merge_id, at=at, by=by, force=forced),
        )
    with _working(target) as uow:
        merges = _merges(uow)
        record = merges.get(merge_id)
        current = {lead.id: uow.leads.get(lead.id) for lead in record.after}
        opportunities = []
        conflicts: list[tuple[object, str]] = []
        for move in record.opportunities:
            try:
                opportunity = uow.opportunities.get(move.opportunity_id)
            except NotFound:
                continue  # deleted since: nothing to point back
            if opportunity.originating_lead != record.master and "originating_lead" not in forced:
                conflicts.append((move.opportunity_id, "originating_lead"))
            opportunities.append((opportunity, move))
        try:
            restored = plan_unmerge(record, current, forced)
        except UnmergeConflict as e:
            raise UnmergeConflict(merge_id, (*e.fields, *conflicts)) from None
        if conflicts:
            raise UnmergeConflict(merge_id, conflicts)
        with _all_or_nothing(uow):
            stored = tuple(
                uow.leads.save(current[image.id].restore(merge_id, image, at=at, by=by))
                for image in restored
            )
            for opportunity, move in opportunities:
                uow.opportunities.save(
                    attrs.evolve(
                        opportunity,
                        originating_lead=move.from_lead,
                        notes_from_lead=move.from_lead
                        if move.notes_re_pointed
                        else opportunity.notes_from_lead,
                    )
                )
            done = merges.save(attrs.evolve(record, undone_at=at, undone_by=by))
        return UnmergeResult(done, stored)
