"""Application services: qualify, bulk qualify, disqualify, reactivate, delete and the Outlook
BCM conversion, over the ports (any :class:`~leadkit.ports.LeadStore`).

Units of work
-------------
Every single-lead service takes a *target*: a :class:`~leadkit.ports.LeadStore` or an open
:class:`~leadkit.ports.UnitOfWork`.

- Given a store, the service opens a unit of work, does its work and commits it: all of it is
  stored, or (on any error) none of it.
- Given an open unit of work, the service does its work in it and does **not** commit: the
  caller commits, so a qualification can be stored together with the caller's own changes.
  If one of the service's writes fails, the service rolls the unit of work back — including
  the caller's earlier changes in it — before re-raising, so a later ``commit()`` cannot
  store part of a qualification. A refusal raised before the first write (a missing answer,
  an unresolved duplicate, a stale plan, an illegal transition) leaves the unit of work as it
  was.

:func:`qualify_many` takes a store and qualifies each lead in its own unit of work: per-lead
atomic, so one refused or failed lead does not stop or undo the others. It returns one
outcome per lead id given, in order.

Duplicate checks
----------------
Every path that may create a contact or account (:func:`qualify`, :func:`qualify_many`,
:func:`execute_plan`, :func:`convert_to_business_contact`, :func:`disqualify` with a
prospect) asks the same :class:`~leadkit.conversion.DuplicateCheck` (the ``finder``
argument), inside the unit of work that will store the records. ``finder`` is a required
argument: pass :class:`~leadkit.conversion.NoDuplicates` to say explicitly that there is no
check, or :class:`~leadkit.duplicates.qualification.EngineDuplicateCheck` for the duplicate
engine (then qualify through its ``store``, so that the records created are indexed; it
raises ConfigurationError, before anything is written, for a target that is not).

Idempotency keys
----------------
:func:`create_lead`, :func:`qualify`, :func:`qualify_many` (a key per lead: ``key/lead id``),
:func:`disqualify` and :func:`reactivate` take ``idempotency_key=`` (see
:mod:`leadkit.idempotency`): the key, the request's fingerprint and the result are stored in
the unit of work of the change; a retry with the key returns the first result and changes
nothing; the key with another request raises IdempotencyKeyReuse. The fingerprint covers the
lead, the request values, the user and an expected version, never ``at``, the policy, the
duplicate check or new ids.

Ids come from the injected :class:`~leadkit.ports.IdFactory`; time from ``at``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from enum import Enum
from typing import Any, TypeGuard, TypeVar, cast

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
    Question,
    StepAction,
    link_targets,
    plan_qualification,
)
from leadkit.errors import (
    ConcurrencyConflict,
    ConfigurationError,
    DomainRuleViolation,
    DuplicatesUnresolved,
    InvalidValue,
    NotFound,
    QualificationIncomplete,
    UnmergeConflict,
)
from leadkit.idempotency import (
    IdempotencyKey,
    KeyArgument,
    as_key,
    recall,
    remember,
    request_hash,
    result_data,
    result_from,
    run_once,
)
from leadkit.idempotency import _converter as _shared_converter
from leadkit.lead import Lead
from leadkit.merging import MergePlan, MergeRecord, MovedOpportunity, plan_unmerge
from leadkit.patch import LeadPatch
from leadkit.policies import (
    BCM_POLICY,
    DEFAULT_POLICY,
    DuplicateHandling,
    QualificationPolicy,
    RecordKind,
)
from leadkit.ports import IdFactory, LeadStore, MergeRepository, RecordRepository, UnitOfWork
from leadkit.profiles import DEFAULT_PROFILE, FieldProfile
from leadkit.records import Account, Contact, Opportunity, Record, append_notes, record_notes
from leadkit.serialization import dump_plan, load_plan
from leadkit.status import LeadState, StatusReason
from leadkit.timeline import Note
from leadkit.values import (
    AccountId,
    ContactId,
    LeadId,
    MergeId,
    OpportunityId,
    RecordId,
    UserRef,
    require_aware,
)

__all__ = [
    "DisqualifyResult",
    "MergeResult",
    "OutcomeStatus",
    "QualifyOutcome",
    "QualifyResult",
    "Target",
    "UnmergeResult",
    "convert_to_business_contact",
    "create_lead",
    "delete_lead",
    "disqualify",
    "execute_plan",
    "merge",
    "prepare_qualification",
    "qualify",
    "qualify_many",
    "reactivate",
    "relate_opportunity",
    "timeline_notes",
    "unmerge",
    "unrelate_opportunity",
]

Target = UnitOfWork | LeadStore
"""A store (the service commits) or an open unit of work (the caller commits)."""


# ---------------------------------------------------------------------------------------------
# Results


@attrs.frozen
class QualifyResult:
    """A stored qualification: the plan that ran and the stored lead (Qualified, or
    Disqualified for a prospect disqualification), with the references to the records."""

    plan: ConversionPlan
    lead: Lead

    @property
    def account_id(self) -> AccountId | None:
        """The account created or linked (None if none)."""
        return self.plan.account_id

    @property
    def contact_id(self) -> ContactId | None:
        """The contact created or linked (None if none)."""
        return self.plan.contact_id

    @property
    def opportunity_id(self) -> OpportunityId | None:
        """The opportunity created or linked (None if none)."""
        return self.plan.opportunity_id

    @property
    def created(self) -> tuple[RecordKind, ...]:
        """The kinds of record created."""
        return self.plan.created

    @property
    def linked(self) -> tuple[RecordKind, ...]:
        """The kinds of record linked."""
        return self.plan.linked

    @property
    def filled(self) -> Mapping[RecordKind, tuple[str, ...]]:
        """Per linked record, the empty fields that were filled."""
        return self.plan.filled


class OutcomeStatus(Enum):
    """What happened to one lead of a bulk qualification."""

    QUALIFIED = "qualified"
    NEEDS_ANSWERS = "needs_answers"
    DUPLICATE_WARNING = "duplicate_warning"
    REFUSED = "refused"
    FAILED = "failed"


@attrs.frozen(eq=False)
class QualifyOutcome:
    """One lead's outcome in :func:`qualify_many`.

    - QUALIFIED: ``result`` holds the stored qualification.
    - NEEDS_ANSWERS: ``plan.questions`` (and ``error``, a QualificationIncomplete) say what.
    - DUPLICATE_WARNING: ``plan.unresolved`` (and ``error``, a DuplicatesUnresolved) list the
      candidates to answer (WARN policy).
    - REFUSED: a rule refused it (``error``: IllegalTransition, DuplicatesUnresolved under
      BLOCK, InvalidValue for a request that does not fit the lead, ...).
    - FAILED: storage or anything else went wrong (``error``).

    Nothing was stored for a lead unless its status is QUALIFIED.
    """

    lead_id: LeadId
    status: OutcomeStatus
    result: QualifyResult | None = None
    plan: ConversionPlan | None = None
    error: Exception | None = None

    @property
    def questions(self) -> tuple[Question, ...]:
        """The questions left (NEEDS_ANSWERS)."""
        return () if self.plan is None else self.plan.questions

    @property
    def candidates(self) -> tuple[DuplicateCandidate, ...]:
        """The duplicate candidates left unresolved (DUPLICATE_WARNING, or REFUSED by BLOCK)."""
        return () if self.plan is None else self.plan.unresolved


@attrs.frozen
class DisqualifyResult:
    """A stored disqualification: the stored lead, and the plan of the prospect records kept
    (None when the disqualification created nothing)."""

    lead: Lead
    plan: ConversionPlan | None = None


def _qualify_data(result: QualifyResult) -> dict[str, Any]:
    """A stored qualification as JSON-safe data (the plan through :func:`dump_plan`, which
    records the opportunity's customer kind)."""
    return {
        "plan": dump_plan(result.plan, _shared_converter()),
        "lead": result_data(result.lead),
    }


def _qualify_from(data: Any) -> QualifyResult:
    return QualifyResult(
        load_plan(data["plan"], _shared_converter()), result_from(data["lead"], Lead)
    )


def _disqualify_data(result: DisqualifyResult) -> dict[str, Any]:
    plan = None if result.plan is None else dump_plan(result.plan, _shared_converter())
    return {"plan": plan, "lead": result_data(result.lead)}


def _disqualify_from(data: Any) -> DisqualifyResult:
    plan = None if data["plan"] is None else load_plan(data["plan"], _shared_converter())
    return DisqualifyResult(result_from(data["lead"], Lead), plan)


# ---------------------------------------------------------------------------------------------
# Units of work


def _is_store(target: Target) -> TypeGuard[LeadStore]:
    return callable(getattr(target, "unit_of_work", None))


@contextmanager
def _working(target: Target) -> Iterator[UnitOfWork]:
    """The unit of work to use; commits at the end when the service opened it."""
    if _is_store(target):
        with target.unit_of_work() as uow:
            yield uow
            uow.commit()
    else:
        yield cast(UnitOfWork, target)


@contextmanager
def _reading(target: Target) -> Iterator[UnitOfWork]:
    """A unit of work for reading only: never committed."""
    if _is_store(target):
        with target.unit_of_work() as uow:
            yield uow
    else:
        yield cast(UnitOfWork, target)


@contextmanager
def _all_or_nothing(uow: UnitOfWork) -> Iterator[None]:
    """Around a service's writes: on any failure roll the unit of work back, so that a caller
    who commits after catching the error cannot store part of the work."""
    try:
        yield
    except BaseException:
        with suppress(Exception):  # the original error is the one to report
            uow.rollback()
        raise


def _check_version(lead: Lead, expected_version: int | None) -> None:
    if expected_version is not None and lead.version != expected_version:
        raise ConcurrencyConflict(lead.id, expected_version, lead.version)


@contextmanager
def _working_on(
    target: Target, lead_id: LeadId, expected_version: int | None
) -> Iterator[tuple[UnitOfWork, Lead]]:
    """The unit of work to use (see :func:`_working`) and the lead read in it; raises
    NotFound, or ConcurrencyConflict when the lead is not at ``expected_version``."""
    with _working(target) as uow:
        lead = uow.leads.get(lead_id)
        _check_version(lead, expected_version)
        yield uow, lead


# ---------------------------------------------------------------------------------------------
# Planning and executing


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


R = TypeVar("R", Account, Contact, Opportunity)
K = TypeVar("K", AccountId, ContactId, OpportunityId)


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
# Outlook BCM conversion


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


# ---------------------------------------------------------------------------------------------
# Create, disqualify, reactivate, delete


def create_lead(
    target: Target,
    fields: LeadPatch,
    *,
    at: datetime,
    by: UserRef,
    lead_id: LeadId | None = None,
    id_factory: IdFactory | None = None,
    owner: UserRef | None = None,
    reason: StatusReason = StatusReason.NEW,
    profile: FieldProfile = DEFAULT_PROFILE,
    idempotency_key: KeyArgument = None,
) -> Lead:
    """Create and store an Open lead from ``fields`` (see :meth:`Lead.create`) and return
    the stored lead. Its id is ``lead_id``, else one drawn from ``id_factory``.

    With ``idempotency_key`` a retry returns the lead the first call stored (with the id it
    drew) and stores nothing; the fingerprint covers the fields, ``lead_id`` (when given),
    the owner, the reason and ``by``.

    Raises InvalidValue (the profile's missing or too-long fields, a naive ``at``, neither or
    both of ``lead_id`` and ``id_factory``), AlreadyExists (the id is taken),
    IdempotencyKeyReuse (the key came with another request), or a storage error.
    """
    require_aware("at", at)
    if (lead_id is None) == (id_factory is None):
        raise InvalidValue("lead_id", lead_id, "give either a lead id or an id factory")

    def work(uow: UnitOfWork) -> Lead:
        new_id = lead_id if lead_id is not None else LeadId(cast(IdFactory, id_factory)())
        lead = Lead.create(new_id, fields, at=at, by=by, owner=owner, reason=reason,
                           profile=profile)  # fmt: skip
        with _all_or_nothing(uow):
            return uow.leads.add(lead)

    return run_once(
        target,
        idempotency_key,
        operation="create_lead",
        request={
            "fields": fields,
            "lead_id": lead_id,
            "owner": owner,
            "reason": reason,
            "by": by,
        },
        at=at,
        result_type=Lead,
        work=work,
    )


def disqualify(
    target: Target,
    lead_id: LeadId,
    reason: StatusReason,
    *,
    at: datetime,
    by: UserRef,
    expected_version: int | None = None,
    prospect: QualifyRequest | None = None,
    policy: QualificationPolicy = DEFAULT_POLICY,
    finder: DuplicateCheck | None = None,
    id_factory: IdFactory | None = None,
    idempotency_key: KeyArgument = None,
) -> DisqualifyResult:
    """Close the lead as disqualified (Lost, Cannot Contact, ...).

    With ``prospect`` (a request for the account and/or contact; no opportunity), the person
    is kept as a prospect to nurture: the records are planned, duplicate-checked and stored
    as a qualification would, in the same unit of work — only if
    ``policy.prospects_on_disqualify`` allows it (else DomainRuleViolation); ``finder`` and
    ``id_factory`` are then required.

    With ``idempotency_key`` a retry returns the first result and changes nothing.

    Raises NotFound, ConcurrencyConflict (``expected_version``), InvalidValue (not a
    disqualification reason), OpportunityLinked (an opportunity is linked), IllegalTransition
    (not Open), IdempotencyKeyReuse (the key came with another request).
    """
    require_aware("at", at)
    if idempotency_key is not None:
        return run_once(
            target,
            idempotency_key,
            operation="disqualify",
            request={
                "lead_id": lead_id,
                "reason": reason,
                "by": by,
                "expected_version": expected_version,
                "prospect": prospect,
            },
            at=at,
            result_type=DisqualifyResult,
            encode=_disqualify_data,
            decode=_disqualify_from,
            work=lambda uow: disqualify(
                uow,
                lead_id,
                reason,
                at=at,
                by=by,
                expected_version=expected_version,
                prospect=prospect,
                policy=policy,
                finder=finder,
                id_factory=id_factory,
            ),
        )
    if reason.state is not LeadState.DISQUALIFIED:
        raise InvalidValue("reason", reason, "not a disqualification reason")
    if prospect is not None and (finder is None or id_factory is None):
        raise InvalidValue(
            "prospect", prospect, "keeping a prospect needs a duplicate check and an id factory"
        )
    with _working_on(target, lead_id, expected_version) as (uow, lead):
        if prospect is None or finder is None or id_factory is None:
            closed = lead.disqualify(reason, at=at, by=by)
            with _all_or_nothing(uow):
                stored = uow.leads.save(closed)
            return DisqualifyResult(stored)
        plan = _plan(
            uow,
            lead,
            prospect,
            policy,
            at=at,
            by=by,
            finder=finder,
            ids=NewIds.draw(id_factory),
            reason=reason,
        )
        plan.require_complete()
        result = _execute(uow, lead, plan)
        return DisqualifyResult(result.lead, plan)


def reactivate(
    target: Target,
    lead_id: LeadId,
    *,
    at: datetime,
    by: UserRef,
    reason: StatusReason = StatusReason.NEW,
    expected_version: int | None = None,
    idempotency_key: KeyArgument = None,
) -> Lead:
    """Reopen a Qualified or Disqualified lead (Open/New by default) and return the stored
    lead. Its notes and history are kept; the records a qualification created stay where
    they are and the qualifying opportunity stays linked (so qualifying it again links the
    same records instead of creating new ones). With ``idempotency_key`` a retry returns the
    first result and changes nothing.

    Raises NotFound, ConcurrencyConflict, IllegalTransition (already Open), InvalidValue,
    IdempotencyKeyReuse (the key came with another request).
    """
    if idempotency_key is not None:
        return run_once(
            target,
            idempotency_key,
            operation="reactivate",
            request={
                "lead_id": lead_id,
                "reason": reason,
                "by": by,
                "expected_version": expected_version,
            },
            at=at,
            result_type=Lead,
            work=lambda uow: reactivate(
                uow, lead_id, at=at, by=by, reason=reason, expected_version=expected_version
            ),
        )
    with _working_on(target, lead_id, expected_version) as (uow, lead):
        reopened = lead.reactivate(at=at, by=by, reason=reason)
        with _all_or_nothing(uow):
            return uow.leads.save(reopened)


def delete_lead(
    target: Target,
    lead_id: LeadId,
    *,
    expected_version: int | None = None,
    carry_notes: bool = True,
) -> tuple[RecordId, ...]:
    """Delete a lead with its notes, activities and stakeholder links.

    Records whose timeline shows the lead's notes (the LINK carry-over) would lose them, so
    with ``carry_notes`` (the default) the notes are first copied onto those records and
    their ``notes_from_lead`` cleared: nothing is lost. Returns the ids of the records that
    received the notes.

    Raises NotFound, ConcurrencyConflict (``expected_version``).
    """
    with _working_on(target, lead_id, expected_version) as (uow, lead):
        accounts: list[Account] = []
        contacts: list[Contact] = []
        opportunities: list[Opportunity] = []
        if carry_notes and lead.notes:
            accounts = _showing_notes(uow.accounts, lead, lead.qualified_account)
            contacts = _showing_notes(uow.contacts, lead, lead.qualified_contact)
            opportunities = _showing_notes(uow.opportunities, lead, lead.qualifying_opportunity)
        with _all_or_nothing(uow):
            for account in accounts:
                uow.accounts.save(account)
            for contact in contacts:
                uow.contacts.save(contact)
            for opportunity in opportunities:
                uow.opportunities.save(opportunity)
            uow.leads.delete(lead_id, expected_version=expected_version)
        return (
            *(a.id for a in accounts),
            *(c.id for c in contacts),
            *(o.id for o in opportunities),
        )


def _showing_notes(repository: RecordRepository[R, K], lead: Lead, also: K | None) -> list[R]:
    """The records showing ``lead``'s notes, with the notes copied onto them."""
    found: dict[object, R] = {r.id: r for r in repository.list(originating_lead=lead.id)}
    if also is not None and also not in found:
        with suppress(NotFound):
            found[also] = repository.get(also)
    return [
        attrs.evolve(append_notes(record, lead.notes), notes_from_lead=None)
        for record in found.values()
        if record.notes_from_lead == lead.id
    ]


def timeline_notes(target: Target, record: Record) -> tuple[Note, ...]:
    """The notes ``record``'s timeline shows, oldest first: its own notes and, under the LINK
    carry-over, those of the lead named by ``record.notes_from_lead`` (read through
    ``target``; a lead deleted since adds nothing)."""
    lead: Lead | None = None
    if record.notes_from_lead is not None:
        with _reading(target) as uow:
            try:
                lead = uow.leads.get(record.notes_from_lead)
            except NotFound:
                lead = None
    return record_notes(record, lead)


# ---------------------------------------------------------------------------------------------
# Relating an opportunity


def relate_opportunity(
    target: Target,
    lead_id: LeadId,
    opportunity_id: OpportunityId,
    *,
    at: datetime,
    by: UserRef,
    expected_version: int | None = None,
) -> Lead:
    """Relate an existing opportunity to an open lead (its originating lead, as Dynamics 365
    does outside qualification): the lead's ``qualifying_opportunity`` names it and the
    opportunity's ``originating_lead`` names the lead. While related, the lead cannot be
    disqualified; :func:`unrelate_opportunity` undoes it. Returns the stored lead.

    Raises NotFound (lead or opportunity), ConcurrencyConflict, LeadClosed, InvalidValue
    (another opportunity is related, or the opportunity came from another lead).
    """
    with _working_on(target, lead_id, expected_version) as (uow, lead):
        opportunity = uow.opportunities.get(opportunity_id)
        origin = opportunity.originating_lead
        if origin is not None and origin != lead.id:
            raise InvalidValue(
                "opportunity.originating_lead", origin, "the opportunity came from another lead"
            )
        related = lead.relate_opportunity(opportunity_id, at=at, by=by)
        with _all_or_nothing(uow):
            if origin is None:
                uow.opportunities.save(attrs.evolve(opportunity, originating_lead=lead.id))
            return uow.leads.save(related) if related is not lead else lead


def unrelate_opportunity(
    target: Target,
    lead_id: LeadId,
    *,
    at: datetime,
    by: UserRef,
    expected_version: int | None = None,
) -> Lead:
    """Unrelate the opportunity related to an open lead (it may be disqualified again); the
    opportunity keeps its ``originating_lead`` (provenance). Returns the stored lead.

    Raises NotFound, ConcurrencyConflict, LeadClosed, InvalidValue (none is related).
    """
    with _working_on(target, lead_id, expected_version) as (uow, lead):
        unlinked = lead.unlink_opportunity(at=at, by=by)
        with _all_or_nothing(uow):
            return uow.leads.save(unlinked)


# ---------------------------------------------------------------------------------------------
# Merge and unmerge


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
