"""Create, disqualify, reactivate and delete a lead; relate and unrelate an opportunity; the
notes a record's timeline shows."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import cast

import attrs

from leadkit.conversion import (
    DuplicateCheck,
    NewIds,
    QualifyRequest,
)
from leadkit.errors import (
    InvalidValue,
    NotFound,
)
from leadkit.idempotency import (
    KeyArgument,
    run_once,
)
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.policies import (
    DEFAULT_POLICY,
    QualificationPolicy,
)
from leadkit.ports import IdFactory, RecordRepository, UnitOfWork
from leadkit.profiles import DEFAULT_PROFILE, FieldProfile
from leadkit.records import Account, Contact, Opportunity, Record, append_notes, record_notes
from leadkit.services.qualification import _execute, _plan
from leadkit.services.results import (
    DisqualifyResult,
    _disqualify_data,
    _disqualify_from,
)
from leadkit.services.units import K, R, Target, _all_or_nothing, _reading, _working_on
from leadkit.status import LeadState, StatusReason
from leadkit.timeline import Note
from leadkit.values import (
    LeadId,
    OpportunityId,
    RecordId,
    UserRef,
    require_aware,
)

__all__ = [
    "create_lead",
    "delete_lead",
    "disqualify",
    "reactivate",
    "relate_opportunity",
    "timeline_notes",
    "unrelate_opportunity",
]


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
    _check_disqualification(reason, prospect, finder, id_factory)
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


def _check_disqualification(
    reason: StatusReason,
    prospect: QualifyRequest | None,
    finder: DuplicateCheck | None,
    id_factory: IdFactory | None,
) -> None:
    """Raise InvalidValue for a reason that does not disqualify, or a prospect to keep
    without a duplicate check and an id factory."""
    if reason.state is not LeadState.DISQUALIFIED:
        raise InvalidValue("reason", reason, "not a disqualification reason")
    if prospect is not None and (finder is None or id_factory is None):
        raise InvalidValue(
            "prospect", prospect, "keeping a prospect needs a duplicate check and an id factory"
        )


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
