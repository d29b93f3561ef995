"""Qualify many leads with one request: an outcome per lead, each lead atomic on its own."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from leadkit.bulk import DEFAULT_BATCH_SIZE, _check_batch_size
from leadkit.conversion import (
    ConversionPlan,
    DuplicateCheck,
    NewIds,
    QualifyRequest,
)
from leadkit.errors import (
    ConfigurationError,
    DomainRuleViolation,
    DuplicatesUnresolved,
    InvalidValue,
    NotFound,
    QualificationIncomplete,
)
from leadkit.idempotency import (
    IdempotencyKey,
    KeyArgument,
    as_key,
    recall,
    remember,
    request_hash,
)
from leadkit.policies import (
    DuplicateHandling,
    QualificationPolicy,
)
from leadkit.ports import IdFactory, LeadStore, UnitOfWork
from leadkit.services.qualification import _execute, _plan
from leadkit.services.results import (
    OutcomeStatus,
    QualifyOutcome,
    _qualify_data,
    _qualify_from,
)
from leadkit.services.units import _all_or_nothing
from leadkit.status import StatusReason
from leadkit.values import (
    LeadId,
    UserRef,
    require_aware,
)

__all__ = [
    "qualify_many",
]


def qualify_many(
    store: LeadStore,
    lead_ids: Iterable[LeadId],
    request: QualifyRequest,
    policy: QualificationPolicy,
    *,
    at: datetime,
    by: UserRef,
    finder: DuplicateCheck,
    id_factory: IdFactory,
    idempotency_key: KeyArgument = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> tuple[QualifyOutcome, ...]:
    """Qualify many leads with one request: one outcome per id given, in order (an id given
    twice gets two outcomes; the second is REFUSED as the lead is no longer Open).

    Each lead is planned and duplicate-checked as :func:`qualify` does, and is stored only if
    it fully qualifies; records created for earlier leads are visible to the duplicate check
    of later ones. Never raises for one lead's problem: that lead's outcome carries the error.
    The leads run ``batch_size`` to a unit of work (one commit per batch); a batch in which a
    lead fails while its records are written (or whose commit fails) is rolled back and run
    again one lead per unit of work, so each lead stays atomic on its own: the outcomes and
    what is stored are those of one unit of work per lead.

    With ``idempotency_key`` each lead's qualification is stored under ``key/lead id``: a
    retry returns the stored outcome of every lead qualified before (QUALIFIED, the first
    result) and tries the others again. Raises IdempotencyKeyReuse, before anything is done,
    when a lead's key holds a result of another request; InvalidValue for a naive ``at`` or
    a batch size outside 1..100,000.
    """
    require_aware("at", at)
    _check_batch_size(batch_size)
    ids = tuple(lead_ids)
    key = as_key(idempotency_key)
    if key is not None:
        with store.unit_of_work() as uow:
            for lead_id in ids:  # refuse a reused key before qualifying anybody
                recall(
                    uow,
                    key.scoped(lead_id.value),
                    _many_fingerprint(lead_id, request, by),
                    "qualify_many",
                    at=at,
                )
    job = _Job(request, policy, at, by, finder, id_factory, key)
    outcomes: list[QualifyOutcome] = []
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        done = _qualify_batch(store, chunk, job) if len(chunk) > 1 else None
        outcomes.extend(done if done is not None else (_qualify_one(store, i, job) for i in chunk))
    return tuple(outcomes)


def _many_fingerprint(lead_id: LeadId, request: QualifyRequest, by: UserRef) -> str:
    return request_hash("qualify_many", {"lead_id": lead_id, "request": request, "by": by})


@attrs.frozen
class _Job:
    """What every lead of one :func:`qualify_many` shares."""

    request: QualifyRequest
    policy: QualificationPolicy
    at: datetime
    by: UserRef
    finder: DuplicateCheck
    id_factory: IdFactory
    key: IdempotencyKey | None

    def key_of(self, lead_id: LeadId) -> tuple[IdempotencyKey | None, str]:
        """The lead's idempotency key and the request's fingerprint (None, "" without)."""
        if self.key is None:
            return None, ""
        return self.key.scoped(lead_id.value), _many_fingerprint(lead_id, self.request, self.by)


class _Redo(Exception):
    """A lead of a batch failed after its unit of work may have changed: run the batch again
    one lead per unit of work."""


_REFUSALS = (DomainRuleViolation, InvalidValue, ConfigurationError)


def _qualify_batch(
    store: LeadStore, chunk: Sequence[LeadId], job: _Job
) -> list[QualifyOutcome] | None:
    """The batch's outcomes from one unit of work, or None when it must be run again lead by
    lead (nothing of it is then stored)."""
    try:
        with store.unit_of_work() as uow:
            outcomes = [_attempt(uow, lead_id, job, batch=True) for lead_id in chunk]
            uow.commit()
    except Exception:  # a _Redo, or the commit failed: the unit of work was rolled back
        return None
    return outcomes


def _qualify_one(store: LeadStore, lead_id: LeadId, job: _Job) -> QualifyOutcome:
    """The lead's outcome from its own unit of work."""
    try:
        with store.unit_of_work() as uow:
            outcome = _attempt(uow, lead_id, job, batch=False)
            if outcome.status is OutcomeStatus.QUALIFIED:
                try:
                    uow.commit()
                except Exception as e:
                    failed = attrs.evolve(outcome, status=_status_of(e), result=None, error=e)
                    raise _Failed(failed) from e
            return outcome
    except _Failed as e:
        return e.outcome
    except _REFUSALS as e:
        return QualifyOutcome(lead_id, OutcomeStatus.REFUSED, error=e)
    except Exception as e:  # one lead's failure must not stop the others
        return QualifyOutcome(lead_id, OutcomeStatus.FAILED, error=e)


def _status_of(error: Exception) -> OutcomeStatus:
    return OutcomeStatus.REFUSED if isinstance(error, _REFUSALS) else OutcomeStatus.FAILED


class _Failed(Exception):
    """A lead's writes failed (the unit of work is rolled back): its outcome."""

    def __init__(self, outcome: QualifyOutcome) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome


def _attempt(uow: UnitOfWork, lead_id: LeadId, job: _Job, *, batch: bool) -> QualifyOutcome:
    """Plan the lead and, when complete, store its qualification in ``uow`` (not committed).

    A refusal or failure while reading and planning (nothing written) is the lead's outcome;
    one while writing raises _Failed with the outcome, or _Redo in a ``batch``. In a batch any
    failure but a refusal or a missing lead raises _Redo too (a storage error or a conflict,
    such as a deadlock on the duplicate keys' locks, may have aborted the unit of work)."""
    key, fingerprint = job.key_of(lead_id)
    plan: ConversionPlan | None = None
    try:
        if key is not None:
            stored = recall(uow, key, fingerprint, "qualify_many", at=job.at)
            if stored is not None:
                first = _qualify_from(stored[0])
                return QualifyOutcome(
                    lead_id, OutcomeStatus.QUALIFIED, result=first, plan=first.plan
                )
        lead = uow.leads.get(lead_id)
        plan = _plan(
            uow, lead, job.request, job.policy, at=job.at, by=job.by, finder=job.finder,
            ids=NewIds.draw(job.id_factory), reason=StatusReason.QUALIFIED,
        )  # fmt: skip
    except _REFUSALS as e:
        return QualifyOutcome(lead_id, OutcomeStatus.REFUSED, plan=plan, error=e)
    except Exception as e:
        if batch and not isinstance(e, NotFound):
            raise _Redo from e
        return QualifyOutcome(lead_id, OutcomeStatus.FAILED, plan=plan, error=e)
    left = _left_to_answer(lead_id, plan, job.policy)
    if left is not None:
        return left
    try:
        result = _execute(uow, lead, plan)
        if key is not None:
            with _all_or_nothing(uow):
                remember(uow, key, fingerprint, _qualify_data(result), at=job.at)
    except Exception as e:
        if batch:
            raise _Redo from e
        raise _Failed(QualifyOutcome(lead_id, _status_of(e), plan=plan, error=e)) from e
    return QualifyOutcome(lead_id, OutcomeStatus.QUALIFIED, result=result, plan=plan)


def _left_to_answer(
    lead_id: LeadId, plan: ConversionPlan, policy: QualificationPolicy
) -> QualifyOutcome | None:
    """The outcome of a plan with questions or unresolved duplicates left, else None."""
    if plan.questions:
        return QualifyOutcome(
            lead_id,
            OutcomeStatus.NEEDS_ANSWERS,
            plan=plan,
            error=QualificationIncomplete(plan.questions),
        )
    if plan.unresolved:
        status = (
            OutcomeStatus.DUPLICATE_WARNING
            if policy.duplicates is DuplicateHandling.WARN
            else OutcomeStatus.REFUSED
        )
        return QualifyOutcome(
            lead_id, status, plan=plan, error=DuplicatesUnresolved(plan.unresolved)
        )
    return None
