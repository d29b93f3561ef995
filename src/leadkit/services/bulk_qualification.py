"""Qualify many leads with one request: an outcome per lead, each lead atomic on its own."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

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
from leadkit.ports import IdFactory, LeadStore
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
) -> tuple[QualifyOutcome, ...]:
    """Qualify many leads with one request: one outcome per id given, in order (an id given
    twice gets two outcomes; the second is REFUSED as the lead is no longer Open).

    Each lead runs in its own unit of work with the same planning and duplicate check as
    :func:`qualify`, and is stored only if it fully qualifies; records created for earlier
    leads are visible to the duplicate check of later ones. Never raises for one lead's
    problem: that lead's outcome carries the error.

    With ``idempotency_key`` each lead's qualification is stored under ``key/lead id``: a
    retry returns the stored outcome of every lead qualified before (QUALIFIED, the first
    result) and tries the others again. Raises IdempotencyKeyReuse, before anything is done,
    when a lead's key holds a result of another request; InvalidValue for a naive ``at``.
    """
    require_aware("at", at)
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
    return tuple(
        _qualify_one(
            store,
            lead_id,
            request,
            policy,
            at=at,
            by=by,
            finder=finder,
            id_factory=id_factory,
            key=None if key is None else key.scoped(lead_id.value),
        )
        for lead_id in ids
    )


def _many_fingerprint(lead_id: LeadId, request: QualifyRequest, by: UserRef) -> str:
    return request_hash("qualify_many", {"lead_id": lead_id, "request": request, "by": by})


def _qualify_one(
    store: LeadStore,
    lead_id: LeadId,
    request: QualifyRequest,
    policy: QualificationPolicy,
    *,
    at: datetime,
    by: UserRef,
    finder: DuplicateCheck,
    id_factory: IdFactory,
    key: IdempotencyKey | None,
) -> QualifyOutcome:
    plan: ConversionPlan | None = None
    fingerprint = "" if key is None else _many_fingerprint(lead_id, request, by)
    try:
        with store.unit_of_work() as uow:
            if key is not None:
                stored = recall(uow, key, fingerprint, "qualify_many", at=at)
                if stored is not None:
                    first = _qualify_from(stored[0])
                    return QualifyOutcome(
                        lead_id, OutcomeStatus.QUALIFIED, result=first, plan=first.plan
                    )
            lead = uow.leads.get(lead_id)
            plan = _plan(
                uow,
                lead,
                request,
                policy,
                at=at,
                by=by,
                finder=finder,
                ids=NewIds.draw(id_factory),
                reason=StatusReason.QUALIFIED,
            )
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
            result = _execute(uow, lead, plan)
            if key is not None:
                with _all_or_nothing(uow):
                    remember(uow, key, fingerprint, _qualify_data(result), at=at)
            uow.commit()
        return QualifyOutcome(lead_id, OutcomeStatus.QUALIFIED, result=result, plan=plan)
    except (DomainRuleViolation, InvalidValue, ConfigurationError) as e:
        return QualifyOutcome(lead_id, OutcomeStatus.REFUSED, plan=plan, error=e)
    except Exception as e:  # one lead's failure must not stop the batch
        return QualifyOutcome(lead_id, OutcomeStatus.FAILED, plan=plan, error=e)


# ---------------------------------------------------------------------------------------------
