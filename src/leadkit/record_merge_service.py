"""Store and undo contact and account merges (application services over the ports).

:func:`merge_records` stores a :class:`~leadkit.record_merging.RecordMergePlan` in one unit of
work: the master takes the surviving values and the moved notes, the others name it in
``merged_into``, and every reference to a merged record is re-pointed to the master (a contact
merge: opportunities' ``customer`` and ``contact``, accounts' ``primary_contact``; an account
merge: contacts' ``account_id``, opportunities' ``customer``, accounts' ``primary_contact`` is
untouched). :func:`unmerge_records` restores every record and reference exactly, all or
nothing. Leads that name a merged contact or account (``existing_contact``, stakeholders) keep
the id: the merged record stays readable and its ``merged_into`` names the master.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

import attrs

from leadkit.errors import ConcurrencyConflict, ConfigurationError, NotFound, UnmergeConflict
from leadkit.policies import RecordKind
from leadkit.ports import IdFactory, RecordMergeRepository, RecordRepository, UnitOfWork
from leadkit.record_merging import (
    RecordMergePlan,
    RecordMergeRecord,
    RepointedReference,
    plan_record_unmerge,
)
from leadkit.records import Account, Contact
from leadkit.services.units import Target, _all_or_nothing, _working
from leadkit.values import (
    AccountId,
    ContactId,
    MergeId,
    OpportunityId,
    UserRef,
    require_aware,
)

__all__ = ["RecordMergeResult", "merge_records", "unmerge_records"]


@attrs.frozen
class RecordMergeResult:
    """A stored (or undone) contact or account merge: its record and the stored records,
    master first."""

    record: RecordMergeRecord
    records: tuple[Account | Contact, ...]

    @property
    def merge_id(self) -> MergeId:
        """The id of the stored merge (what :func:`unmerge_records` takes)."""
        return self.record.id


def _record_merges(uow: UnitOfWork) -> RecordMergeRepository:
    found = getattr(uow, "record_merges", None)
    if found is None:
        raise ConfigurationError(
            "store", "it does not keep record merges (no `record_merges` repository)"
        )
    return cast(RecordMergeRepository, found)


def _repository(uow: UnitOfWork, kind: RecordKind) -> RecordRepository[Any, Any]:
    return uow.contacts if kind is RecordKind.CONTACT else uow.accounts


# The reference fields a merge of each kind re-points: (record kind, field).
_REFERENCES: dict[RecordKind, tuple[tuple[RecordKind, str], ...]] = {
    RecordKind.CONTACT: (
        (RecordKind.OPPORTUNITY, "customer"),
        (RecordKind.OPPORTUNITY, "contact"),
        (RecordKind.ACCOUNT, "primary_contact"),
    ),
    RecordKind.ACCOUNT: (
        (RecordKind.CONTACT, "account_id"),
        (RecordKind.OPPORTUNITY, "customer"),
    ),
}


def _referrers(uow: UnitOfWork, kind: RecordKind) -> RecordRepository[Any, Any]:
    if kind is RecordKind.OPPORTUNITY:
        return uow.opportunities
    return _repository(uow, kind)


def _repoint(
    uow: UnitOfWork, kind: RecordKind, others: Iterable[AccountId | ContactId], master: Any
) -> list[RepointedReference]:
    merged = {other: other for other in others}
    done: list[RepointedReference] = []
    for referrer_kind, field in _REFERENCES[kind]:
        repository = _referrers(uow, referrer_kind)
        for referrer in repository.list():
            # the current copy: an earlier field of this loop may have saved it
            current = repository.get(referrer.id)
            value = getattr(current, field)
            if value in merged and type(value) is type(master):
                repository.save(attrs.evolve(current, **{field: master}))
                done.append(RepointedReference(referrer_kind, current.id.value, field, value.value))
    return done


def merge_records(
    target: Target, plan: RecordMergePlan, *, ids: IdFactory, at: datetime, by: UserRef
) -> RecordMergeResult:
    """Store a contact or account merge planned by
    :func:`~leadkit.record_merging.plan_record_merge`, all or nothing (see the module
    docstring); a :class:`~leadkit.record_merging.RecordMergeRecord` keeps the images from
    before for :func:`unmerge_records`.

    Raises NotFound, ConcurrencyConflict (a record changed since the plan was made),
    ConfigurationError (the store keeps no record merges), InvalidValue, StorageUnavailable.
    """
    require_aware("at", at)
    merge_id = MergeId(ids())
    kind = plan.kind
    with _working(target) as uow:
        merges = _record_merges(uow)
        repository = _repository(uow, kind)
        for planned in plan.records:
            current = repository.get(planned.id)
            if current.version != planned.version:
                raise ConcurrencyConflict(planned.id, planned.version, current.version)
        changed = plan.apply(at=at)
        with _all_or_nothing(uow):
            stored = tuple(repository.save(record) for record in changed)
            repointed = _repoint(uow, kind, (o.id for o in plan.others), plan.master.id)
            images: dict[str, Any] = (
                {"contacts_before": plan.records, "contacts_after": stored}
                if kind is RecordKind.CONTACT
                else {"accounts_before": plan.records, "accounts_after": stored}
            )
            record = merges.add(
                RecordMergeRecord(
                    id=merge_id,
                    kind=kind,
                    master=plan.master.id.value,
                    merged=tuple(o.id.value for o in plan.others),
                    at=at,
                    by=by,
                    moved=plan.moved,
                    repointed=tuple(repointed),
                    **images,
                )
            )
        return RecordMergeResult(record, stored)


def _id_of(kind: RecordKind, value: str) -> AccountId | ContactId:
    return ContactId(value) if kind is RecordKind.CONTACT else AccountId(value)


def unmerge_records(
    target: Target,
    merge_id: MergeId,
    *,
    at: datetime,
    by: UserRef,
    force: Iterable[str] = (),
) -> RecordMergeResult:
    """Undo a stored contact or account merge, all or nothing: every record goes back to its
    image from before (notes added since stay) and every re-pointed reference points at its
    record again. A field changed since the merge is a conflict unless named in ``force``; a
    reference changed since (no longer the master) is a conflict on its field, unless forced;
    a referring record deleted since is skipped.

    Raises NotFound (no such merge), UnmergeConflict listing what was touched since,
    MergeRefused (already undone), ConfigurationError (the store keeps no record merges),
    ConcurrencyConflict, StorageUnavailable.
    """
    require_aware("at", at)
    forced = frozenset(force)
    with _working(target) as uow:
        merges = _record_merges(uow)
        record = merges.get(merge_id)
        kind = record.kind
        repository = _repository(uow, kind)
        current = {image.id.value: repository.get(image.id) for image in record.after}
        conflicts: list[tuple[object, str]] = []
        back: list[tuple[RecordRepository[Any, Any], Any, RepointedReference]] = []
        for ref in record.repointed:
            referrers = _referrers(uow, ref.kind)
            key = {
                RecordKind.ACCOUNT: AccountId,
                RecordKind.CONTACT: ContactId,
                RecordKind.OPPORTUNITY: OpportunityId,
            }[ref.kind](ref.record_id)
            try:
                referrer = referrers.get(key)
            except NotFound:
                continue
            value = getattr(referrer, ref.field)
            if getattr(value, "value", None) != record.master and ref.field not in forced:
                conflicts.append((ref.record_id, ref.field))
            back.append((referrers, key, ref))
        try:
            restored = plan_record_unmerge(record, current, forced)
        except UnmergeConflict as e:
            raise UnmergeConflict(merge_id, (*e.fields, *conflicts)) from None
        if conflicts:
            raise UnmergeConflict(merge_id, conflicts)
        with _all_or_nothing(uow):
            stored = tuple(repository.save(image) for image in restored)
            for referrers, key, ref in back:
                now = referrers.get(key)  # the current copy: one record may hold two refs
                referrers.save(attrs.evolve(now, **{ref.field: _id_of(kind, ref.from_id)}))
            done = merges.save(attrs.evolve(record, undone_at=at, undone_by=by))
        return RecordMergeResult(done, stored)
