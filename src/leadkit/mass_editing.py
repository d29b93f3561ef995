"""Mass edit: one change applied to many leads, with an outcome per lead.

The leads are read and saved in batches (one bulk read and one bulk save per
1,000 leads on a store with :class:`leadkit.ports.BulkLeadRepository`): inside the one unit
of work that keeps the all-or-nothing promise, or, per lead on a store with ``batch_size``,
a unit of work per batch (a batch whose commit fails is run again lead by lead).

The change is an :class:`LeadEdit` value, validated once when it is built (a bad field or value
raises InvalidValue before any lead is read): :class:`SetFields` (a typed :class:`LeadPatch`),
:func:`set_field` (one field by name), :class:`SetManualScore`, :class:`ClearManualScore`,
:func:`set_source`, :class:`Reassign`, :class:`MarkContacted` and :class:`Disqualify` (the
bulk disqualify); :func:`mass_assign` reassigns through an
assignment strategy. Each lead ends CHANGED, UNCHANGED, REFUSED_CLOSED or FAILED (with the
error). By default the edit is all-or-nothing: one failure and nothing is stored, yet every
lead's outcome is still reported. With ``all_or_nothing=False`` each lead that succeeds is
stored and failures are only reported. With ``idempotency_key=`` a retry returns the stored
result of the first committed run and changes nothing (see :mod:`leadkit.idempotency`)::

    result = mass_edit(store, ids, set_field("source", "Web"), at=now, by=me)
    if not result.committed:
        for outcome in result.failed: print(outcome.lead_id, outcome.error)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from enum import Enum
from typing import Any, Final, cast

import attrs

from leadkit.assignment import (
    AssignmentState,
    AssignmentStatus,
    AssignmentStrategy,
    assign_leads,
)
from leadkit.bulk import _check_batch_size, bulk_repository, get_many
from leadkit.errors import LeadClosed, NotFound
from leadkit.idempotency import (
    IdempotencyKey,
    KeyArgument,
    RecordedError,
    as_key,
    recall,
    remember,
    request_hash,
    result_data,
    result_from,
)
from leadkit.lead import Lead
from leadkit.lead_edits import (
    EDITABLE_FIELDS,
    ClearManualScore,
    Disqualify,
    LeadEdit,
    MarkContacted,
    Reassign,
    SetField,
    SetFields,
    SetManualScore,
    field_path,
    set_field,
    set_fields,
    set_source,
)
from leadkit.ports import LeadQuery, LeadStore, UnitOfWork, is_store, unit_of_work_of
from leadkit.status import LeadState
from leadkit.values import LeadId, UserRef, require_aware

__all__ = [
    "EDITABLE_FIELDS",
    "ClearManualScore",
    "Disqualify",
    "EditOutcome",
    "EditStatus",
    "LeadEdit",
    "MarkContacted",
    "MassEditResult",
    "Reassign",
    "SetField",
    "SetFields",
    "SetManualScore",
    "field_path",
    "mass_assign",
    "mass_edit",
    "set_field",
    "set_fields",
    "set_source",
]

Target = UnitOfWork | LeadStore
"""A store (mass edit commits) or an open unit of work (the caller commits)."""

Selection = Iterable[LeadId] | LeadQuery
"""Which leads: ids (in the order given) or a query (in its order)."""


# ---------------------------------------------------------------------------------------------
# Outcomes


class EditStatus(Enum):
    """What happened to one lead of a mass edit."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REFUSED_CLOSED = "refused_closed"
    FAILED = "failed"


@attrs.frozen(eq=False)
class EditOutcome:
    """One lead's outcome: ``lead`` is the lead as stored (or as it would have been when the
    run was not committed; None when it could not be read) and ``error`` the refusal or
    failure."""

    lead_id: LeadId
    status: EditStatus
    lead: Lead | None = None
    error: Exception | None = None


def _outcome(
    lead_id: LeadId, status: EditStatus, lead: Lead | None, error: Exception | None
) -> EditOutcome:
    """``EditOutcome(lead_id, status, lead, error)`` without the constructor's type checks,
    for the outcome of a lead that was read (so its id is a LeadId) and the values this
    module made (a lead an edit returned, the error it raised). An id that could not be
    read goes through the checked constructor, which refuses an id that is not a LeadId."""
    outcome = object.__new__(EditOutcome)
    for name, value in (("lead_id", lead_id), ("status", status), ("lead", lead), ("error", error)):
        object.__setattr__(outcome, name, value)
    return outcome


@attrs.frozen(eq=False)
class MassEditResult:
    """Every lead's outcome in selection order, and whether the changes were stored
    (``committed`` is False after an all-or-nothing run met a failure)."""

    outcomes: tuple[EditOutcome, ...]
    committed: bool

    def _with(self, status: EditStatus) -> tuple[EditOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status is status)

    @property
    def changed(self) -> tuple[EditOutcome, ...]:
        """The leads the edit changed."""
        return self._with(EditStatus.CHANGED)

    @property
    def unchanged(self) -> tuple[EditOutcome, ...]:
        """The leads that already had the value."""
        return self._with(EditStatus.UNCHANGED)

    @property
    def refused(self) -> tuple[EditOutcome, ...]:
        """The closed leads, left alone."""
        return self._with(EditStatus.REFUSED_CLOSED)

    @property
    def failed(self) -> tuple[EditOutcome, ...]:
        """The leads that failed, each with its error."""
        return self._with(EditStatus.FAILED)

    def counts(self) -> dict[str, int]:
        """How many leads ended in each status (every status listed)."""
        return {s.value: len(self._with(s)) for s in EditStatus}


# ---------------------------------------------------------------------------------------------
# Running


@contextmanager
def _unit(target: Target) -> Iterator[tuple[UnitOfWork, bool]]:
    """The unit of work, and whether this module opened it (and so commits it)."""
    with unit_of_work_of(target) as uow:
        yield uow, is_store(target)


_BATCH: Final = 1000
"""Leads per bulk read and bulk save of a mass edit or assignment."""


def _load(uow: UnitOfWork, selection: Selection) -> Iterator[tuple[LeadId, Lead | Exception]]:
    """Each selected lead (or the error reading it), read :data:`_BATCH` at a time."""
    if isinstance(selection, LeadQuery):
        for lead in uow.leads.stream(selection, batch_size=_BATCH):
            yield lead.id, lead
        return
    ids = list(selection)
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        try:
            found: dict[LeadId, Lead] | None = get_many(uow.leads, chunk)
        except Exception:  # a bad id, a storage error: read lead by lead to say whose
            found = None
        for lead_id in chunk:
            if found is None:
                try:
                    yield lead_id, uow.leads.get(lead_id)
                except Exception as e:  # NotFound, StorageUnavailable: reported, never raised
                    yield lead_id, e
            elif lead_id in found:
                yield lead_id, found[lead_id]
            else:
                yield lead_id, NotFound("lead", lead_id)


def _save_in_bulk(uow: UnitOfWork, planned: list[EditOutcome]) -> dict[int, Lead]:
    """Save the CHANGED leads :data:`_BATCH` at a time on a bulk repository (all or none per
    batch): the stored copies by position. Stops at the first batch that fails, which saves
    nothing; the caller saves the rest lead by lead, finding which lead fails."""
    bulk = bulk_repository(uow.leads)
    if bulk is None:
        return {}
    positions = [
        i for i, o in enumerate(planned) if o.status is EditStatus.CHANGED and o.lead is not None
    ]
    stored: dict[int, Lead] = {}
    for start in range(0, len(positions), _BATCH):
        chunk = positions[start : start + _BATCH]
        try:
            saved = bulk.save_many([cast(Lead, planned[i].lead) for i in chunk])
        except Exception:
            break
        stored.update(zip(chunk, saved, strict=True))
    return stored


def _store(
    uow: UnitOfWork,
    opened: bool,
    planned: list[EditOutcome],
    all_or_nothing: bool,
    keep: Callable[[MassEditResult], None] | None = None,
) -> MassEditResult:
    """Save the CHANGED outcomes; commit (when this module opened the unit) unless an
    all-or-nothing run failed. ``keep`` stores the idempotency key of a run that is to be
    committed, in its unit of work (a failure there rolls the unit of work back)."""
    if all_or_nothing and any(o.status is EditStatus.FAILED for o in planned):
        if opened:
            uow.rollback()
        return MassEditResult(tuple(planned), committed=False)
    outcomes: list[EditOutcome] = []
    saved = _save_in_bulk(uow, planned)
    for index, outcome in enumerate(planned):
        if outcome.status is not EditStatus.CHANGED or outcome.lead is None:
            outcomes.append(outcome)
            continue
        if index in saved:
            outcomes.append(_outcome(outcome.lead_id, outcome.status, saved[index], outcome.error))
            continue
        try:
            stored = uow.leads.save(outcome.lead)
        except Exception as e:
            failed = _outcome(outcome.lead_id, EditStatus.FAILED, outcome.lead, e)
            if all_or_nothing:
                with suppress(Exception):
                    uow.rollback()
                return MassEditResult((*outcomes, failed, *planned[index + 1 :]), committed=False)
            outcomes.append(failed)
            continue
        outcomes.append(_outcome(outcome.lead_id, outcome.status, stored, outcome.error))
    result = MassEditResult(tuple(outcomes), committed=True)
    if keep is not None:
        try:
            keep(result)
        except BaseException:
            with suppress(Exception):
                uow.rollback()
            raise
    if opened:
        uow.commit()
    return result


def mass_edit(
    target: Target,
    selection: Selection,
    edit: LeadEdit,
    *,
    at: datetime,
    by: UserRef,
    all_or_nothing: bool = True,
    idempotency_key: KeyArgument = None,
    batch_size: int | None = None,
) -> MassEditResult:
    """Apply ``edit`` to every selected lead.

    Closed leads are refused (REFUSED_CLOSED) and are not failures. A lead that cannot be
    read, or whose edit raises (InvalidValue from a field profile, anything else), FAILS with
    the error. All-or-nothing (the default): one unit of work, one failure and nothing is
    stored — the outcomes still say what each lead would have become. Per lead
    (``all_or_nothing=False``): every success is stored, in one unit of work; with
    ``batch_size`` (opt-in, like ``qualify_many``'s), ids on a store and no idempotency key
    the leads go ``batch_size`` to a unit of work, each committed on its own, and a batch
    whose commit fails is run again one lead per unit of work (only a lead whose own commit
    fails is then FAILED, with the error, instead of the error propagating; a commit whose
    outcome the database never reported is run again too); the outcomes are those of one
    unit of work for the whole run (a lead listed twice is read once: the second listing is
    stale once the first is saved). With a store as ``target`` the run commits itself; with a unit
    of work the caller commits (an all-or-nothing failure while saving rolls that unit of
    work back).

    With ``idempotency_key`` a committed run stores its result under the key in its unit of
    work; a retry (same selection, edit, mode and user) returns that result and changes
    nothing (a FAILED outcome's error comes back as a RecordedError); a run that was not
    committed stores no key. Raises InvalidValue for a naive ``at`` or a ``batch_size`` not in
    1..100,000, IdempotencyKeyReuse when the key came with another request; storage errors
    while committing propagate (except in batches, as above).
    """
    require_aware("at", at)
    if batch_size is not None:
        _check_batch_size(batch_size)
    key = as_key(idempotency_key)
    if not isinstance(selection, LeadQuery):
        selection = tuple(selection)
    fingerprint = ""
    if key is not None:
        fingerprint = request_hash(
            "mass_edit",
            {
                "selection": selection,
                "edit": {"type": type(edit).__name__, "value": edit},
                "all_or_nothing": all_or_nothing,
                "by": by,
            },
        )
    if batch_size is not None and _in_batches(target, selection, all_or_nothing, key):

        def plan(pairs: _Pairs, state: None) -> tuple[list[EditOutcome], None]:
            return [_plan(i, loaded, edit, at=at, by=by) for i, loaded in pairs], None

        ids = cast(tuple[LeadId, ...], selection)
        return _run_in_batches(cast(LeadStore, target), ids, plan, None, batch_size)[0]
    with _unit(target) as (uow, opened):
        if key is not None:
            stored = recall(uow, key, fingerprint, "mass_edit", at=at)
            if stored is not None:
                return _result_from(stored[0])
        planned: list[EditOutcome] = []
        for lead_id, loaded in _load(uow, selection):
            planned.append(_plan(lead_id, loaded, edit, at=at, by=by))
        return _store(uow, opened, planned, all_or_nothing, _keeper(uow, key, fingerprint, at))


def _keeper(
    uow: UnitOfWork, key: IdempotencyKey | None, fingerprint: str, at: datetime
) -> Callable[[MassEditResult], None] | None:
    if key is None:
        return None
    found = key

    def keep(result: MassEditResult) -> None:
        remember(uow, found, fingerprint, _result_data(result), at=at)

    return keep


def _error_data(error: Exception | None) -> dict[str, Any] | None:
    if error is None:
        return None
    if isinstance(error, LeadClosed):
        return {
            "type": "LeadClosed",
            "lead_id": str(error.lead_id),
            "state": getattr(error.state, "name", str(error.state)),
            "action": error.action,
        }
    if isinstance(error, RecordedError):
        return {"type": error.kind, "message": error.message}
    return {"type": type(error).__name__, "message": str(error)}


def _error_from(data: dict[str, Any] | None) -> Exception | None:
    if data is None:
        return None
    if data["type"] == "LeadClosed" and "state" in data:
        state = (
            LeadState[data["state"]] if data["state"] in LeadState.__members__ else data["state"]
        )
        return LeadClosed(LeadId(data["lead_id"]), state, data["action"])
    return RecordedError(data["type"], data["message"])


def _result_data(result: MassEditResult) -> dict[str, Any]:
    return {
        "committed": result.committed,
        "outcomes": [
            {
                "lead_id": o.lead_id.value,
                "status": o.status.value,
                "lead": None if o.lead is None else result_data(o.lead),
                "error": _error_data(o.error),
            }
            for o in result.outcomes
        ],
    }


def _result_from(data: Any) -> MassEditResult:
    return MassEditResult(
        tuple(
            EditOutcome(
                LeadId(o["lead_id"]),
                EditStatus(o["status"]),
                None if o["lead"] is None else result_from(o["lead"], Lead),
                _error_from(o["error"]),
            )
            for o in data["outcomes"]
        ),
        committed=bool(data["committed"]),
    )


def _plan(
    lead_id: LeadId, loaded: Lead | Exception, edit: LeadEdit, *, at: datetime, by: UserRef
) -> EditOutcome:
    if isinstance(loaded, Exception):
        return EditOutcome(lead_id, EditStatus.FAILED, None, loaded)
    if loaded.is_closed:
        error = LeadClosed(loaded.id, loaded.state, edit.description)
        return _outcome(lead_id, EditStatus.REFUSED_CLOSED, loaded, error)
    try:
        edited = edit.apply(loaded, at=at, by=by)
    except LeadClosed as e:
        return _outcome(lead_id, EditStatus.REFUSED_CLOSED, loaded, e)
    except Exception as e:
        return _outcome(lead_id, EditStatus.FAILED, loaded, e)
    status = EditStatus.UNCHANGED if edited is loaded else EditStatus.CHANGED
    if type(edited) is not Lead:  # a caller's edit returned something else: the checked build
        return EditOutcome(lead_id, status, edited, None)
    return _outcome(lead_id, status, edited, None)


_FROM_ASSIGNMENT = {
    AssignmentStatus.ASSIGNED: EditStatus.CHANGED,
    AssignmentStatus.UNCHANGED: EditStatus.UNCHANGED,
    AssignmentStatus.UNASSIGNED: EditStatus.UNCHANGED,
    AssignmentStatus.SKIPPED_CLOSED: EditStatus.REFUSED_CLOSED,
}


def mass_assign(
    target: Target,
    selection: Selection,
    strategy: AssignmentStrategy,
    *,
    at: datetime,
    by: UserRef,
    state: AssignmentState | None = None,
    all_or_nothing: bool = True,
    batch_size: int | None = None,
) -> tuple[MassEditResult, AssignmentState]:
    """Reassign the selected leads through an assignment ``strategy`` (round-robin,
    capacity, rules) like :func:`mass_edit` (per lead with ``batch_size``, ids on a store:
    a unit of work per batch, the state carried from batch to batch). Returns the outcomes
    and the assignment state to pass to the next run (the state passed in when nothing was
    committed). Leads left unassigned by the strategy are UNCHANGED. Raises InvalidValue for
    a naive ``at`` or a ``batch_size`` not in 1..100,000, and what the strategy raises (the
    built-in strategies raise nothing here); in batches, the batches committed before it
    raised stay stored, as after any per-lead run that stops part-way."""
    require_aware("at", at)

    def plan(
        pairs: list[tuple[LeadId, Lead | Exception]], before: AssignmentState | None
    ) -> tuple[list[EditOutcome], AssignmentState]:
        return _assign_plan(pairs, strategy, at=at, by=by, state=before)

    if batch_size is not None:
        _check_batch_size(batch_size)
    if batch_size is not None and _in_batches(target, selection, all_or_nothing, None):
        ids = cast(tuple[LeadId, ...], tuple(cast(Iterable[LeadId], selection)))
        result, after = _run_in_batches(cast(LeadStore, target), ids, plan, state, batch_size)
        return result, cast(AssignmentState, after)
    with _unit(target) as (uow, opened):
        outcomes, after = plan(list(_load(uow, selection)), state)
        stored = _store(uow, opened, outcomes, all_or_nothing)
        if not stored.committed:
            return stored, state or AssignmentState()
        return stored, after


def _assign_plan(
    pairs: list[tuple[LeadId, Lead | Exception]],
    strategy: AssignmentStrategy,
    *,
    at: datetime,
    by: UserRef,
    state: AssignmentState | None,
) -> tuple[list[EditOutcome], AssignmentState]:
    """Each read lead's outcome of ``strategy`` (FAILED for a lead that could not be read),
    and the state after them."""
    planned: list[EditOutcome | None] = []
    readable: list[Lead] = []
    for lead_id, loaded in pairs:
        if isinstance(loaded, Exception):
            planned.append(EditOutcome(lead_id, EditStatus.FAILED, None, loaded))
        else:
            planned.append(None)
            readable.append(loaded)
    result = assign_leads(readable, strategy, at=at, by=by, state=state)
    changed = iter(result.leads)
    by_lead = iter(zip(readable, result.outcomes, strict=True))
    outcomes: list[EditOutcome] = []
    for slot in planned:
        if slot is not None:
            outcomes.append(slot)
            continue
        lead, assigned = next(by_lead)
        status = _FROM_ASSIGNMENT[assigned.status]
        error = (
            LeadClosed(lead.id, lead.state, "assign")
            if status is EditStatus.REFUSED_CLOSED
            else None
        )
        after = next(changed) if status is EditStatus.CHANGED else lead
        outcomes.append(_outcome(lead.id, status, after, error))
    return outcomes, result.state


# ---------------------------------------------------------------------------------------------
# Per lead on a store: a unit of work per batch

_Pairs = list[tuple[LeadId, Lead | Exception]]
_Planner = Callable[[_Pairs, Any], tuple[list[EditOutcome], Any]]
"""Plans the outcomes of read leads from a carried state (the assignment state; None for an
edit), returning them and the state after them."""


def _in_batches(
    target: Target, selection: Selection, all_or_nothing: bool, key: IdempotencyKey | None
) -> bool:
    """Whether a run goes a unit of work per batch: per lead (all or nothing needs the one
    unit of work), ids on a store (a query's order could move under committed batches), no
    idempotency key (kept with the whole result in one unit of work)."""
    return (
        not all_or_nothing
        and key is None
        and is_store(target)
        and not isinstance(selection, LeadQuery)
    )


class _Reads:
    """Reads the leads of a run that spans units of work as the one unit of work of a run
    reads them: every lead before any is saved. A lead listed more than once is read once,
    and that first copy is used for every later listing (which, as in one unit of work, is
    then stale once the first listing's change is saved)."""

    def __init__(self, ids: tuple[LeadId, ...]) -> None:
        self.repeated = {i for i, n in Counter(ids).items() if n > 1}
        self.first: dict[LeadId, Lead | Exception] = {}

    def load(self, uow: UnitOfWork, chunk: tuple[LeadId, ...]) -> _Pairs:
        """``chunk``'s leads (or the errors reading them), in order."""
        fresh = dict(_load(uow, tuple(dict.fromkeys(i for i in chunk if i not in self.first))))
        for lead_id in self.repeated.intersection(fresh):
            self.first[lead_id] = fresh[lead_id]
        return [(i, self.first[i] if i in self.first else fresh[i]) for i in chunk]


def _run_in_batches(
    store: LeadStore, ids: tuple[LeadId, ...], plan: _Planner, state: Any, size: int
) -> tuple[MassEditResult, Any]:
    """Run a per-lead edit ``size`` leads to a unit of work, each committed on its
    own. A batch whose commit fails is rolled back and run again one lead per unit of work,
    so that only the lead whose commit fails is FAILED (with the error). Returns the result
    and the state after the last lead; the outcomes are those of one unit of work for the
    whole run (see :class:`_Reads`)."""
    reads = _Reads(ids)
    outcomes: list[EditOutcome] = []
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        done = _run_batch(store, chunk, reads, plan, state) if len(chunk) > 1 else None
        if done is not None:
            outcomes.extend(done[0])
            state = done[1]
            continue
        for lead_id in chunk:
            outcome, state = _run_one(store, lead_id, reads, plan, state)
            outcomes.append(outcome)
    return MassEditResult(tuple(outcomes), committed=True), state


def _run_batch(
    store: LeadStore, chunk: tuple[LeadId, ...], reads: _Reads, plan: _Planner, state: Any
) -> tuple[tuple[EditOutcome, ...], Any] | None:
    """The batch's outcomes and state from one committed unit of work, or None when the
    commit failed (the unit of work is rolled back: nothing of the batch is stored)."""
    with store.unit_of_work() as uow:
        planned, after = plan(reads.load(uow, chunk), state)
        try:
            return _store(uow, True, planned, False).outcomes, after
        except Exception:  # the commit failed: run the batch again lead by lead
            return None


def _run_one(
    store: LeadStore, lead_id: LeadId, reads: _Reads, plan: _Planner, state: Any
) -> tuple[EditOutcome, Any]:
    """The lead's outcome from its own unit of work (FAILED with the error when its commit
    fails), and the state after it."""
    with store.unit_of_work() as uow:
        planned, after = plan(reads.load(uow, (lead_id,)), state)
        try:
            return _store(uow, True, planned, False).outcomes[0], after
        except Exception as e:
            outcome = planned[0]
            return _outcome(lead_id, EditStatus.FAILED, outcome.lead, e), after
