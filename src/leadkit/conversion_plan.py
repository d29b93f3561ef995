"""The value a qualification plan is: the account, contact and opportunity steps with every
field they write, the ids drawn for new records, the records to link, and what is still to be
answered.

Pure values (no I/O); :func:`leadkit.conversion_planner.plan_qualification` makes them,
:mod:`leadkit.services` executes a complete one and :mod:`leadkit.conversion` exports them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum

import attrs

from leadkit.conversion_request import DuplicateCandidate, QualifyRequest, Question
from leadkit.errors import (
    DuplicatesUnresolved,
    QualificationIncomplete,
)
from leadkit.policies import (
    QualificationPolicy,
    RecordKind,
)
from leadkit.records import (
    Account,
    Contact,
    Opportunity,
)
from leadkit.status import StatusReason
from leadkit.values import (
    AccountId,
    ContactId,
    LeadId,
    OpportunityId,
    UserRef,
)

__all__ = [
    "ConversionPlan",
    "LinkTargets",
    "LinkedRecords",
    "NewIds",
    "PlannedAccount",
    "PlannedContact",
    "PlannedOpportunity",
    "StepAction",
]

# The plan


class StepAction(Enum):
    """CREATE a new record or LINK an existing one."""

    CREATE = "create"
    LINK = "link"


@attrs.frozen(kw_only=True)
class PlannedAccount:
    """The account of a plan: the record to add (CREATE) or the linked record as it will be
    saved (LINK; ``record.version`` is the stored version the plan is based on). ``filled``
    lists the fields a LINK fills (``notes`` when notes were appended)."""

    action: StepAction
    record: Account
    filled: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        """True when executing the step stores something."""
        return self.action is StepAction.CREATE or bool(self.filled)


@attrs.frozen(kw_only=True)
class PlannedContact:
    """The contact of a plan (see :class:`PlannedAccount`)."""

    action: StepAction
    record: Contact
    filled: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        """True when executing the step stores something."""
        return self.action is StepAction.CREATE or bool(self.filled)


@attrs.frozen(kw_only=True)
class PlannedOpportunity:
    """The opportunity of a plan (see :class:`PlannedAccount`)."""

    action: StepAction
    record: Opportunity
    filled: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        """True when executing the step stores something."""
        return self.action is StepAction.CREATE or bool(self.filled)


@attrs.frozen
class NewIds:
    """The ids the records a plan creates will get (drawn before planning; unused ones are
    simply not used)."""

    account: AccountId
    contact: ContactId
    opportunity: OpportunityId

    @classmethod
    def draw(cls, id_factory: Callable[[], str]) -> NewIds:
        """Draw three ids from ``id_factory`` (an :class:`~leadkit.ports.IdFactory`). Raises
        InvalidValue for a malformed id."""
        return cls(AccountId(id_factory()), ContactId(id_factory()), OpportunityId(id_factory()))


@attrs.frozen
class LinkTargets:
    """The records a qualification links, by id, and which of them the request named
    (``explicit``; the others come from the lead and are dropped when no longer stored)."""

    account: AccountId | None = None
    contact: ContactId | None = None
    opportunity: OpportunityId | None = None
    explicit: frozenset[RecordKind] = frozenset()


@attrs.frozen
class LinkedRecords:
    """The stored records named by :func:`link_targets`, as read in the unit of work."""

    account: Account | None = None
    contact: Contact | None = None
    opportunity: Opportunity | None = None


@attrs.frozen(kw_only=True)
class ConversionPlan:
    """Everything a qualification will store, as a value: shown to a user, serialised
    (:func:`dump_plan`) and executed later only if nothing it was based on has changed.

    ``lead_version`` is the lead's stored version the plan was made from; a LINK step's
    ``record.version`` the linked record's. ``reason`` is the reason the lead is closed
    with (Qualified, or a disqualification reason when a disqualified lead keeps its
    account/contact as a prospect). ``questions`` and ``unresolved`` must both be empty
    for the plan to run; ``candidates`` are all duplicate candidates that concerned it.
    """

    lead_id: LeadId
    lead_version: int
    at: datetime
    by: UserRef
    reason: StatusReason
    policy: QualificationPolicy
    request: QualifyRequest
    new_ids: NewIds
    account: PlannedAccount | None = None
    contact: PlannedContact | None = None
    opportunity: PlannedOpportunity | None = None
    questions: tuple[Question, ...] = ()
    candidates: tuple[DuplicateCandidate, ...] = ()
    unresolved: tuple[DuplicateCandidate, ...] = ()

    @property
    def is_complete(self) -> bool:
        """True when nothing is left to answer: the plan may be executed."""
        return not self.questions and not self.unresolved

    def require_complete(self) -> None:
        """Raise QualificationIncomplete listing the questions, else DuplicatesUnresolved
        listing the candidates still to resolve."""
        if self.questions:
            raise QualificationIncomplete(self.questions)
        if self.unresolved:
            raise DuplicatesUnresolved(self.unresolved)

    @property
    def account_id(self) -> AccountId | None:
        """The account the lead ends up with (created or linked)."""
        return None if self.account is None else self.account.record.id

    @property
    def contact_id(self) -> ContactId | None:
        """The contact the lead ends up with (created or linked)."""
        return None if self.contact is None else self.contact.record.id

    @property
    def opportunity_id(self) -> OpportunityId | None:
        """The opportunity the lead ends up with (created or linked)."""
        return None if self.opportunity is None else self.opportunity.record.id

    def steps(self) -> tuple[PlannedAccount | PlannedContact | PlannedOpportunity, ...]:
        """The account, contact and opportunity steps present, in execution order."""
        found = (self.account, self.contact, self.opportunity)
        return tuple(step for step in found if step is not None)

    @property
    def created(self) -> tuple[RecordKind, ...]:
        """The kinds of record the plan creates."""
        return tuple(k for k, s in self._kinds() if s.action is StepAction.CREATE)

    @property
    def linked(self) -> tuple[RecordKind, ...]:
        """The kinds of record the plan links."""
        return tuple(k for k, s in self._kinds() if s.action is StepAction.LINK)

    @property
    def filled(self) -> Mapping[RecordKind, tuple[str, ...]]:
        """Per linked record, the fields it fills (only records with something filled)."""
        return {k: s.filled for k, s in self._kinds() if s.filled}

    @property
    def writes(self) -> int:
        """How many repository writes executing the plan makes (records, then the lead)."""
        return sum(1 for step in self.steps() if step.writes) + 1

    def _kinds(
        self,
    ) -> tuple[tuple[RecordKind, PlannedAccount | PlannedContact | PlannedOpportunity], ...]:
        pairs = (
            (RecordKind.ACCOUNT, self.account),
            (RecordKind.CONTACT, self.contact),
            (RecordKind.OPPORTUNITY, self.opportunity),
        )
        return tuple((k, s) for k, s in pairs if s is not None)

    def describe(self) -> tuple[str, ...]:
        """Lines for showing the plan to a person."""
        lines = [f"qualify lead {self.lead_id} (version {self.lead_version}) as {self.reason}"]
        # A record to create has no id a person could look up yet (a refused plan never
        # creates it): it is shown as "new", and a customer to create as "the new account".
        created: dict[object, str] = {
            step.record.id: f"the new {kind.value}"
            for kind, step in self._kinds()
            if step.action is StepAction.CREATE
        }
        for kind, step in self._kinds():
            label = _label(step.record, created)
            if step.action is StepAction.CREATE:
                line = f"  create {kind.value} (new): {label}"
            else:
                line = f"  link {kind.value} {step.record.id}: {label}"
            if step.filled:
                line += f" (fill {', '.join(step.filled)})"
            lines.append(line)
        for question in self.questions:
            lines.append(f"  ? {question.text} [suggested: {question.suggestion}]")
        for candidate in self.unresolved:
            lines.append(f"  ! possible duplicate: {candidate}")
        return tuple(lines)


def _label(record: Account | Contact | Opportunity, created: Mapping[object, str]) -> str:
    if isinstance(record, Contact):
        return record.name.full
    if isinstance(record, Opportunity):
        customer = created.get(record.customer, str(record.customer))
        return f"{record.name} ({record.currency}, customer {customer})"
    return record.name


# ---------------------------------------------------------------------------------------------
# Planning
