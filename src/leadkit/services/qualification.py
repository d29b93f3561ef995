"""Qualify one lead: plan it (reading the linked records and asking the duplicate check),
execute a complete plan in one unit of work, and the Outlook BCM conversion."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from leadkit.conversion import (
    Choice,
    ConversionPlan,
    DuplicateAnswer,
    DuplicateCandidate,
    DuplicateCheck,
    LinkedRecords,
    NewIds,
    QualifyRequest,
    StepAction,
    link_targets,
    plan_qualification,
)
from leadkit.errors import (
    ConcurrencyConflict,
    InvalidValue,
    NotFound,
)
from leadkit.idempotency import (
    KeyArgument,
    run_once,
)
from leadkit.lead import Lead
from leadkit.policies import (
    BCM_POLICY,
    DuplicateHandling,
    QualificationPolicy,
    RecordKind,
)
from leadkit.ports import IdFactory, RecordRepository, UnitOfWork
from leadkit.services.results import (
    QualifyResult,
    _qualify_data,
    _qualify_from,
)
from leadkit.services.units import K, R, Target, _all_or_nothing, _reading, _working_on
from leadkit.status import LeadState, StatusReason
from leadkit.values import (
    ContactId,
    LeadId,
    UserRef,
    require_aware,
)

__all__ = [
    "convert_to_business_contact",
    "execute_plan",
    "prepare_qualification",
    "qualify",
]


def _read_links(uow: UnitOfWork, lead: Lead, request: QualifyRequest) -> LinkedRecords:
    """Read the records the qualification links. A record the request names must exist
    (NotFound); one the lead inherited that is gone is dropped (and created again)."""
    targets = link_targets(lead, request)

    def read(kind: RecordKind, fetch: Callable[[], R]) -> R | None:
        try:
            return fetch()
        except NotFound:
            if kind in targets.explicit:
                raise
            return None

    account = contact = opportunity = None
    if targets.account is not None:
        key_a = targets.account
        account = read(RecordKind.ACCOUNT, lambda: uow.accounts.get(key_a))
    if targets.contact is not None:
        key_c = targets.contact
        contact = read(RecordKind.CONTACT, lambda: uow.contacts.get(key_c))
    if targets.opportunity is not None:
        key_o = targets.opportunity
        opportunity = read(RecordKind.OPPORTUNITY, lambda: uow.opportunities.get(key_o))
    return LinkedRecords(account, contact, opportunity)


def _plan(
    uow: UnitOfWork,
    lead: Lead,
    request: QualifyRequest,
    policy: QualificationPolicy,
    *,
    at: datetime,
    by: UserRef,
    finder: DuplicateCheck,
    ids: NewIds,
    reason: StatusReason,
) -> ConversionPlan:
    linked = _read_links(uow, lead, request)
    found: Sequence[DuplicateCandidate] = ()
    if policy.duplicates is not DuplicateHandling.IGNORE and lead.is_open:
        found = tuple(finder.find(lead, uow))
    return plan_qualification(
        lead, policy, request, found, ids=ids, at=at, by=by, linked=linked, reason=reason
    )


def _execute(uow: UnitOfWork, lead: Lead, plan: ConversionPlan) -> QualifyResult:
    """Store a complete plan's records, then close the lead; roll back on any failure."""
    with _all_or_nothing(uow):
        if plan.account is not None and plan.account.writes:
            _store(uow.accounts, plan.account.action, plan.account.record)
        if plan.contact is not None and plan.contact.writes:
            _store(uow.contacts, plan.contact.action, plan.contact.record)
        if plan.opportunity is not None and plan.opportunity.writes:
            _store(uow.opportunities, plan.opportunity.action, plan.opportunity.record)
        if plan.reason.state is LeadState.QUALIFIED:
            closed = lead.mark_qualified(
                at=plan.at,
                by=plan.by,
                account_id=plan.account_id,
                contact_id=plan.contact_id,
                opportunity_id=plan.opportunity_id,
                reason=plan.reason,
            )
        else:
            closed = lead.disqualify(plan.reason, at=plan.at, by=plan.by)
        stored = uow.leads.save(closed)
    return QualifyResult(plan, stored)


def _store(repository: RecordRepository[R, K], action: StepAction, record: R) -> None:
    if action is StepAction.CREATE:
        repository.add(record)
    else:
        repository.save(record)


def prepare_qualification(
    target: Target,
    lead_id: LeadId,
    request: QualifyRequest,
    policy: QualificationPolicy,
    *,
    at: datetime,
    by: UserRef,
    finder: DuplicateCheck,
    id_factory: IdFactory,
) -> ConversionPlan:
    """Plan the qualification of the stored lead without storing anything: show the plan,
    collect the answers to its questions and duplicate warnings, then call :func:`qualify`
    with the answered request (or :func:`execute_plan` with a complete plan).

    Raises NotFound, IllegalTransition, InvalidValue as :func:`plan_qualification` does.
    """
    require_aware("at", at)
    with _reading(target) as uow:
        lead = uow.leads.get(lead_id)
        ids = NewIds.draw(id_factory)
        return _plan(
            uow,
            lead,
            request,
            policy,
            at=at,
            by=by,
            finder=finder,
            ids=ids,
            reason=StatusReason.QUALIFIED,
        )


def execute_plan(target: Target, plan: ConversionPlan, *, finder: DuplicateCheck) -> QualifyResult:
    """Execute a plan made earlier (perhaps serialised in between), never trusting it.

    Refuses an incomplete plan (QualificationIncomplete, then DuplicatesUnresolved). Raises
    ConcurrencyConflict when the lead's or a linked record's stored version is not the one
    the plan was made from; DuplicatesUnresolved when the finder now finds a candidate the
    plan did not answer; InvalidValue when planning again now gives a different plan (an
    edited plan). Otherwise stores exactly the plan's records and closes the lead.
    """
    plan.require_complete()
    with _working_on(target, plan.lead_id, plan.lead_version) as (uow, lead):
        current = _plan(
            uow,
            lead,
            plan.request,
            plan.policy,
            at=plan.at,
            by=plan.by,
            finder=finder,
            ids=plan.new_ids,
            reason=plan.reason,
        )
        _check_linked_versions(plan, current)
        current.require_complete()
        if attrs.evolve(current, candidates=plan.candidates) != plan:
            raise InvalidValue(
                "plan",
                plan.lead_id,
                "does not match what the lead, the request and the policy give now; plan again",
            )
        return _execute(uow, lead, plan)


def _check_linked_versions(plan: ConversionPlan, current: ConversionPlan) -> None:
    pairs = (
        (plan.account, current.account),
        (plan.contact, current.contact),
        (plan.opportunity, current.opportunity),
    )
    for planned, now in pairs:
        if planned is None or planned.action is not StepAction.LINK:
            continue
        actual = None if now is None or now.record.id != planned.record.id else now.record
        if actual is None or actual.version != planned.record.version:
            raise ConcurrencyConflict(
                planned.record.id,
                planned.record.version,
                None if actual is None else actual.version,
            )


def qualify(
    target: Target,
    lead_id: LeadId,
    request: QualifyRequest,
    policy: QualificationPolicy,
    *,
    at: datetime,
    by: UserRef,
    finder: DuplicateCheck,
    id_factory: IdFactory,
    expected_version: int | None = None,
    idempotency_key: KeyArgument = None,
) -> QualifyResult:
    """Qualify a stored lead: plan it, check duplicates, create or link the records, mark the
    lead Qualified with references to them — all in one unit of work (see the module doc for
    store vs. open unit of work). With ``idempotency_key`` a retry returns the first result.

    Raises QualificationIncomplete (PROMPT questions left) or DuplicatesUnresolved (duplicate
    warnings left) before writing anything; NotFound, ConcurrencyConflict (the lead is not at
    ``expected_version``), IllegalTransition (the lead is not Open), InvalidValue (a request
    that does not fit the lead), CurrencyMismatch, IdempotencyKeyReuse (the key came with
    another request), or a storage error — and then nothing is stored.
    """
    require_aware("at", at)
    if idempotency_key is not None:
        return run_once(
            target,
            idempotency_key,
            operation="qualify",
            request={
                "lead_id": lead_id,
                "request": request,
                "by": by,
                "expected_version": expected_version,
            },
            at=at,
            result_type=QualifyResult,
            encode=_qualify_data,
            decode=_qualify_from,
            work=lambda uow: qualify(
                uow,
                lead_id,
                request,
                policy,
                at=at,
                by=by,
                finder=finder,
                id_factory=id_factory,
                expected_version=expected_version,
            ),
        )
    with _working_on(target, lead_id, expected_version) as (uow, lead):
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
        plan.require_complete()
        return _execute(uow, lead, plan)


def convert_to_business_contact(
    target: Target,
    lead_id: LeadId,
    policy: QualificationPolicy = BCM_POLICY,
    *,
    at: datetime,
    by: UserRef,
    finder: DuplicateCheck,
    id_factory: IdFactory,
    link_contact: ContactId | None = None,
    duplicate_answers: Sequence[DuplicateAnswer] = (),
    owner: UserRef | None = None,
    expected_version: int | None = None,
) -> QualifyResult:
    """Outlook Business Contact Manager's "Convert to Business Contact": create (or link) only
    a contact from the lead, carry its notes per ``policy`` (BCM copies them), and close the
    lead as Qualified. The same duplicate check as :func:`qualify` runs; a linked contact is
    only filled, never overwritten.

    Raises as :func:`qualify` does; InvalidValue when the lead has no name to make a contact.
    """
    request = QualifyRequest(
        create_account=Choice.NO,
        create_contact=Choice.YES,
        create_opportunity=Choice.NO,
        link_contact=link_contact,
        owner=owner,
        duplicate_answers=tuple(duplicate_answers),
    )
    return qualify(
        target,
        lead_id,
        request,
        policy,
        at=at,
        by=by,
        finder=finder,
        id_factory=id_factory,
        expected_version=expected_version,
    )
