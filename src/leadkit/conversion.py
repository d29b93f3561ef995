"""Planning a qualification: requests, duplicate candidates, questions and the plan.

:func:`plan_qualification` is pure: given the lead, the policy, the request, the duplicate
candidates found, the records to link (as read from the store), new ids and the time, it
returns a :class:`ConversionPlan` — every record to create or link with every field value it
gets, the questions a PROMPT policy still needs answered and the duplicate candidates still
to resolve. Nothing is stored here; :mod:`leadkit.services` executes a complete plan in one
unit of work.

The rules (see ``docs/qualification.md``):

- An account only when the lead has a company (the mapped account name is not blank) and is
  not already linked to an account; a contact from the person fields (a first or last name)
  unless a contact is linked; the opportunity named from the topic (else the company, else
  the full name), its customer the account if there is one, else the contact.
- A record is linked instead of created when the request names one, a duplicate answer links
  one, the lead was linked to one (``existing_account`` / ``existing_contact``) or an earlier
  qualification of this lead created it — so qualifying a reactivated lead again never makes a
  second contact for the same person.
- A linked account or contact is only ever *filled*: a mapped field is set when the stored
  value is empty, never overwritten; ``filled`` lists what was. A linked opportunity's fields
  are never changed.
- The opportunity's currency comes from the request, else the lead's budget amount (then its
  estimated value), else the policy's default currency; AUTO_CREATE falls back to the base
  currency, PROMPT asks. Amounts are converted at the registry's rates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, Final, Protocol, TypeVar

import attrs

from leadkit.errors import (
    DomainRuleViolation,
    DuplicatesUnresolved,
    IllegalTransition,
    InvalidValue,
    OpportunityLinked,
    QualificationIncomplete,
)
from leadkit.lead import Lead
from leadkit.policies import (
    DuplicateHandling,
    FieldMap,
    NotesCarryOver,
    QualificationPolicy,
    QualifyMode,
    RecordKind,
)
from leadkit.ports import UnitOfWork
from leadkit.profiles import is_blank
from leadkit.records import (
    Account,
    Contact,
    Opportunity,
    OpportunityState,
    append_notes,
)
from leadkit.status import LeadState, StatusReason
from leadkit.values import (
    AccountId,
    ContactId,
    LeadId,
    Money,
    OpportunityId,
    UserRef,
    currency_exponent,
    require_aware,
)

__all__ = [
    "CandidateType",
    "Choice",
    "ConversionPlan",
    "CustomerChoice",
    "DuplicateAnswer",
    "DuplicateCandidate",
    "DuplicateCheck",
    "LinkTargets",
    "LinkedRecords",
    "NewIds",
    "NoDuplicates",
    "PlannedAccount",
    "PlannedContact",
    "PlannedOpportunity",
    "QualifyRequest",
    "Question",
    "QuestionKind",
    "Resolution",
    "StepAction",
    "link_targets",
    "plan_qualification",
]


_KINDS: Final = tuple(RecordKind)  # iterating the enum itself is slow on a hot path

# ---------------------------------------------------------------------------------------------
# Duplicates


class CandidateType(Enum):
    """The type of record a duplicate candidate is (the duplicate engine's record types)."""

    LEAD = "lead"
    CONTACT = "contact"
    ACCOUNT = "account"


def _candidate_type(value: object) -> CandidateType:
    """Accept a CandidateType, any enum whose value is "lead"/"contact"/"account", or that
    text, so the duplicate engine's own ``RecordType`` converts directly."""
    raw = value.value if isinstance(value, Enum) else value
    try:
        return CandidateType(raw)
    except ValueError:
        raise InvalidValue("record_type", value, "must be lead, contact or account") from None


def _score(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue("score", value, "must be a number")
    number = float(value)
    if not number >= 0 or number == float("inf"):
        raise InvalidValue("score", value, "must be a finite number >= 0")
    return number


@attrs.frozen
class DuplicateCandidate:
    """A stored record that may be the same company or person as the lead.

    ``record_type`` and ``record_id`` name it (``contact`` + ``"C-7"``); ``score`` is how
    strongly it matched (the engine's scale; higher is closer) and ``reason`` says why
    ("same e-mail address"). Raises InvalidValue for an unknown type, an empty id or a
    negative score.
    """

    record_type: CandidateType = attrs.field(converter=_candidate_type)
    record_id: str
    score: float = attrs.field(default=1.0, converter=_score)
    reason: str = ""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.record_id, str) or not self.record_id.strip():
            raise InvalidValue("record_id", self.record_id, "must be a non-empty id")
        if not isinstance(self.reason, str):
            raise InvalidValue("reason", self.reason, "must be text")

    @property
    def key(self) -> tuple[CandidateType, str]:
        """(record type, id): what an answer refers to."""
        return self.record_type, self.record_id

    def __str__(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return f"{self.record_type.value} {self.record_id}{why}"


class DuplicateCheck(Protocol):
    """The duplicate check qualification runs: stored records that may duplicate a lead.

    Every service that may create an account or a contact takes one (the ``finder``
    argument). ``find`` gets the lead being qualified and the unit of work the qualification
    runs in: read through it, so records created earlier in the same unit of work — or
    committed by an earlier lead of a bulk qualification — are seen. Return candidates of
    type ``contact`` and ``account`` (``lead`` candidates are accepted and ignored by
    qualification), best first; the lead itself must not be among them. May raise
    RepositoryError, or ConfigurationError when the check cannot serve that unit of work.

    Implementations: :class:`NoDuplicates` (no check) and
    :class:`leadkit.duplicates.qualification.EngineDuplicateCheck` (the duplicate engine).
    Not to be confused with :class:`leadkit.duplicates.DuplicateFinder`, the engine's own
    lookup (``find(lead) -> list[DuplicateMatch]``), which knows no unit of work.
    """

    def find(self, lead: Lead, uow: UnitOfWork) -> Sequence[DuplicateCandidate]: ...


@attrs.frozen
class NoDuplicates:
    """A :class:`DuplicateCheck` that finds nothing (no duplicate check). Pass it explicitly
    to say so."""

    def find(self, lead: Lead, uow: UnitOfWork) -> Sequence[DuplicateCandidate]:
        """Return no candidates."""
        return ()


class Resolution(Enum):
    """How a duplicate warning is answered: LINK the existing record instead of creating
    one, or CREATE_ANYWAY (refused under the BLOCK policy)."""

    LINK = "link"
    CREATE_ANYWAY = "create_anyway"


@attrs.frozen
class DuplicateAnswer:
    """The caller's answer to one duplicate candidate."""

    record_type: CandidateType = attrs.field(converter=_candidate_type)
    record_id: str
    resolution: Resolution

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.resolution, Resolution):
            raise InvalidValue("resolution", self.resolution, "must be LINK or CREATE_ANYWAY")
        if self.resolution is Resolution.LINK and self.record_type is CandidateType.LEAD:
            raise InvalidValue("resolution", self.resolution, "a lead cannot be linked")
        if not isinstance(self.record_id, str) or not self.record_id.strip():
            raise InvalidValue("record_id", self.record_id, "must be a non-empty id")

    @classmethod
    def link(cls, candidate: DuplicateCandidate) -> DuplicateAnswer:
        """Link ``candidate`` instead of creating a record."""
        return cls(candidate.record_type, candidate.record_id, Resolution.LINK)

    @classmethod
    def create_anyway(cls, candidate: DuplicateCandidate) -> DuplicateAnswer:
        """Create the record although ``candidate`` may duplicate it."""
        return cls(candidate.record_type, candidate.record_id, Resolution.CREATE_ANYWAY)

    @property
    def key(self) -> tuple[CandidateType, str]:
        """(record type, id) of the candidate answered."""
        return self.record_type, self.record_id


# ---------------------------------------------------------------------------------------------
# The request


class Choice(Enum):
    """Whether a record is part of the qualification: YES, NO or POLICY (the policy decides:
    AUTO_CREATE includes it when it applies, PROMPT asks). YES on a linked record links it."""

    YES = "yes"
    NO = "no"
    POLICY = "policy"


class CustomerChoice(Enum):
    """Which record is the opportunity's customer when there are both."""

    ACCOUNT = "account"
    CONTACT = "contact"


def _answers(value: Iterable[DuplicateAnswer]) -> tuple[DuplicateAnswer, ...]:
    return tuple(value)


def _optional_currency(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue("currency", value, "must be an ISO 4217 code such as 'EUR'")
    code = value.strip().upper()
    currency_exponent(code)
    return code


_LINK_FIELD: Final[Mapping[CandidateType, str]] = {
    CandidateType.ACCOUNT: "link_account",
    CandidateType.CONTACT: "link_contact",
}


@attrs.frozen(kw_only=True)
class QualifyRequest:
    """What the caller asks of one qualification (all optional).

    - ``create_account`` / ``create_contact`` / ``create_opportunity``: YES, NO or POLICY.
    - ``link_account`` / ``link_contact`` / ``link_opportunity``: an existing record to use
      instead of creating one.
    - ``currency``: the opportunity's currency; ``customer``: ACCOUNT or CONTACT;
      ``owner``: the owner of the records created (default: the lead's owner, per the map).
    - ``duplicate_answers``: one :class:`DuplicateAnswer` per candidate answered.

    Raises InvalidValue for a record both linked and refused (``NO``), an unknown currency,
    two answers for one candidate, two LINK answers for one record type, or a LINK answer
    that contradicts ``link_account`` / ``link_contact``.
    """

    create_account: Choice = Choice.POLICY
    create_contact: Choice = Choice.POLICY
    create_opportunity: Choice = Choice.POLICY
    link_account: AccountId | None = None
    link_contact: ContactId | None = None
    link_opportunity: OpportunityId | None = None
    currency: str | None = attrs.field(default=None, converter=_optional_currency)
    customer: CustomerChoice | None = None
    owner: UserRef | None = None
    duplicate_answers: tuple[DuplicateAnswer, ...] = attrs.field(default=(), converter=_answers)

    def __attrs_post_init__(self) -> None:
        for kind in _KINDS:
            choice = self.choice(kind)
            if not isinstance(choice, Choice):
                raise InvalidValue(f"create_{kind.value}", choice, "must be YES, NO or POLICY")
            if choice is Choice.NO and self.explicit_link(kind) is not None:
                raise InvalidValue(
                    f"link_{kind.value}",
                    self.explicit_link(kind),
                    f"create_{kind.value} is NO, so nothing can be linked",
                )
        if self.customer is not None and not isinstance(self.customer, CustomerChoice):
            raise InvalidValue("customer", self.customer, "must be ACCOUNT or CONTACT")
        seen: set[tuple[CandidateType, str]] = set()
        links: dict[CandidateType, str] = {}
        for answer in self.duplicate_answers:
            if not isinstance(answer, DuplicateAnswer):
                raise InvalidValue("duplicate_answers", answer, "must be DuplicateAnswer values")
            if answer.key in seen:
                raise InvalidValue(
                    "duplicate_answers", answer, "the same candidate is answered twice"
                )
            seen.add(answer.key)
            if answer.resolution is Resolution.LINK:
                if answer.record_type in links:
                    raise InvalidValue(
                        "duplicate_answers",
                        answer,
                        f"only one {answer.record_type.value} can be linked",
                    )
                links[answer.record_type] = answer.record_id
                named = getattr(self, _LINK_FIELD[answer.record_type])
                if named is not None and named.value != answer.record_id:
                    raise InvalidValue(
                        "duplicate_answers",
                        answer,
                        f"{_LINK_FIELD[answer.record_type]} already names {named}",
                    )
                kind = RecordKind(answer.record_type.value)
                if self.choice(kind) is Choice.NO:
                    raise InvalidValue(
                        "duplicate_answers",
                        answer,
                        f"create_{kind.value} is NO, so nothing can be linked",
                    )

    def choice(self, kind: RecordKind) -> Choice:
        """The create choice for ``kind``."""
        match kind:
            case RecordKind.ACCOUNT:
                return self.create_account
            case RecordKind.CONTACT:
                return self.create_contact
            case RecordKind.OPPORTUNITY:
                return self.create_opportunity

    def explicit_link(self, kind: RecordKind) -> AccountId | ContactId | OpportunityId | None:
        """The record of ``kind`` the request links: ``link_*`` or a LINK duplicate answer."""
        match kind:
            case RecordKind.ACCOUNT:
                if self.link_account is not None:
                    return self.link_account
                found = self._linked_answer(CandidateType.ACCOUNT)
                return None if found is None else AccountId(found)
            case RecordKind.CONTACT:
                if self.link_contact is not None:
                    return self.link_contact
                found = self._linked_answer(CandidateType.CONTACT)
                return None if found is None else ContactId(found)
            case RecordKind.OPPORTUNITY:
                return self.link_opportunity

    def _linked_answer(self, record_type: CandidateType) -> str | None:
        for answer in self.duplicate_answers:
            if answer.record_type is record_type and answer.resolution is Resolution.LINK:
                return answer.record_id
        return None

    def answer(self, candidate: DuplicateCandidate, resolution: Resolution) -> QualifyRequest:
        """A copy answering ``candidate`` (replacing an earlier answer to it)."""
        kept = tuple(a for a in self.duplicate_answers if a.key != candidate.key)
        added = DuplicateAnswer(candidate.record_type, candidate.record_id, resolution)
        return attrs.evolve(self, duplicate_answers=(*kept, added))

    def answering(self, question: Question, value: object) -> QualifyRequest:
        """A copy setting the request field ``question.field`` to ``value`` ("yes"/"no",
        "account"/"contact", a currency code, or the enum value itself)."""
        match question.kind:
            case QuestionKind.CURRENCY:
                return attrs.evolve(self, currency=value)
            case QuestionKind.CUSTOMER:
                chosen = value if isinstance(value, CustomerChoice) else CustomerChoice(value)
                return attrs.evolve(self, customer=chosen)
            case QuestionKind.CREATE_ACCOUNT:
                return attrs.evolve(self, create_account=_as_choice(value))
            case QuestionKind.CREATE_CONTACT:
                return attrs.evolve(self, create_contact=_as_choice(value))
            case QuestionKind.CREATE_OPPORTUNITY:
                return attrs.evolve(self, create_opportunity=_as_choice(value))


def _as_choice(value: object) -> Choice:
    if isinstance(value, Choice):
        return value
    if isinstance(value, bool):
        return Choice.YES if value else Choice.NO
    try:
        return Choice(value)
    except ValueError:
        raise InvalidValue("answer", value, "must be yes, no or policy") from None


# ---------------------------------------------------------------------------------------------
# Questions


class QuestionKind(Enum):
    """What a PROMPT-mode question asks."""

    CREATE_ACCOUNT = "create_account"
    CREATE_CONTACT = "create_contact"
    CREATE_OPPORTUNITY = "create_opportunity"
    CUSTOMER = "customer"
    CURRENCY = "currency"


@attrs.frozen
class Question:
    """A question the caller must answer before the plan can run.

    ``field`` names the :class:`QualifyRequest` field that answers it (use
    :meth:`QualifyRequest.answering`), ``choices`` the possible answers (empty for a currency:
    any code the registry allows) and ``suggestion`` what AUTO_CREATE would choose.
    """

    kind: QuestionKind
    text: str
    choices: tuple[str, ...]
    suggestion: str

    @property
    def field(self) -> str:
        """The request field that answers this question."""
        return self.kind.value

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------------------------
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


def link_targets(lead: Lead, request: QualifyRequest) -> LinkTargets:
    """The records a qualification of ``lead`` links: for each kind the request's link (or
    LINK duplicate answer), else the lead's existing account/contact, else the record an
    earlier qualification of this lead created. None for a kind the request says NO to."""
    explicit: set[RecordKind] = set()
    chosen: dict[RecordKind, Any] = {}
    inherited: Mapping[RecordKind, Sequence[Any]] = {
        RecordKind.ACCOUNT: (lead.existing_account, lead.qualified_account),
        RecordKind.CONTACT: (lead.existing_contact, lead.qualified_contact),
        RecordKind.OPPORTUNITY: (lead.qualifying_opportunity,),
    }
    for kind in _KINDS:
        if request.choice(kind) is Choice.NO:
            chosen[kind] = None
            continue
        named = request.explicit_link(kind)
        if named is not None:
            explicit.add(kind)
            chosen[kind] = named
            continue
        chosen[kind] = next((i for i in inherited[kind] if i is not None), None)
    return LinkTargets(
        chosen[RecordKind.ACCOUNT],
        chosen[RecordKind.CONTACT],
        chosen[RecordKind.OPPORTUNITY],
        frozenset(explicit),
    )


T = TypeVar("T")


def _get_path(obj: object, path: str) -> object:
    value = obj
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _with_path(obj: T, path: str, value: object) -> T:
    head, _, rest = path.partition(".")
    if not rest:
        return attrs.evolve(obj, **{head: value})  # type: ignore[misc]
    return attrs.evolve(obj, **{head: _with_path(getattr(obj, head), rest, value)})  # type: ignore[misc]


def _nested_kwargs(cls: type, values: Mapping[str, object]) -> dict[str, object]:
    """Constructor arguments for ``cls`` from dotted target paths (``name.first``)."""
    flat: dict[str, object] = {}
    nested: dict[str, dict[str, object]] = {}
    for path, value in values.items():
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            flat[head] = value
    for head, sub in nested.items():
        base = _nested_default(cls, head)
        flat[head] = attrs.evolve(base, **_nested_kwargs(type(base), sub))
    return flat


@cache
def _nested_default(cls: type, head: str) -> Any:
    """The value a dotted target starts from: the field's default, or its type built with no
    arguments. Targets pass through attrs values only (names, addresses: checked by
    FieldMap), whose every field has a default; they are frozen, so sharing one is safe."""
    field = attrs.fields_dict(attrs.resolve_types(cls))[head]
    if field.default is not attrs.NOTHING:
        return field.default
    make: Any = field.type
    return make()


def _mapped(fmap: FieldMap, lead: Lead, owner: UserRef | None) -> dict[str, object]:
    values = fmap.values(lead)
    if owner is not None and "owner" in values:
        values["owner"] = owner
    return values


def _fill(
    record: T, values: Mapping[str, object], extra: Mapping[str, object]
) -> tuple[T, tuple[str, ...]]:
    """Fill-empty-only: set each path whose stored value is blank to a non-blank new value."""
    filled: list[str] = []
    for path, value in (*values.items(), *extra.items()):
        if is_blank(value) or not is_blank(_get_path(record, path)):
            continue
        record = _with_path(record, path, value)
        filled.append(path)
    return record, tuple(filled)


RecordT = TypeVar("RecordT", Account, Contact, Opportunity)
PartyT = TypeVar("PartyT", Account, Contact)


def _carry_notes(
    record: RecordT, lead: Lead, policy: QualificationPolicy
) -> tuple[RecordT, tuple[str, ...]]:
    """Apply the notes carry-over to a linked ``record``; return it and what it changed."""
    match policy.notes:
        case NotesCarryOver.COPY:
            copied = append_notes(record, lead.notes)
            return copied, () if copied is record else ("notes",)
        case NotesCarryOver.LINK:
            if record.notes_from_lead is None:
                return attrs.evolve(record, notes_from_lead=lead.id), ("notes_from_lead",)
            return record, ()
        case NotesCarryOver.NONE:
            return record, ()


def _new_notes(lead: Lead, policy: QualificationPolicy) -> dict[str, Any]:
    """The notes arguments of a record a qualification creates."""
    match policy.notes:
        case NotesCarryOver.COPY:
            return {"notes": tuple(attrs.evolve(n, id=i) for i, n in enumerate(lead.notes, 1))}
        case NotesCarryOver.LINK:
            return {"notes_from_lead": lead.id}
        case NotesCarryOver.NONE:
            return {}


def _draft(
    choice: Choice, mode: QualifyMode, applies: bool, field: str, reason_not: str
) -> tuple[bool, bool]:
    """(include, ask) for a record that is not linked."""
    match choice:
        case Choice.NO:
            return False, False
        case Choice.YES:
            if not applies:
                raise InvalidValue(field, Choice.YES, reason_not)
            return True, False
        case Choice.POLICY:
            if not applies:
                return False, False
            return True, mode is QualifyMode.PROMPT


def _check_linked(
    kind: RecordKind, target: object, record: Account | Contact | Opportunity | None, explicit: bool
) -> Any:
    if record is None:
        if target is not None and explicit:
            raise InvalidValue(
                f"link_{kind.value}", target, f"the {kind.value} to link was not supplied"
            )
        return None
    if target is None or record.id != target:
        raise InvalidValue(
            f"linked.{kind.value}",
            record.id,
            f"is not the {kind.value} this qualification links ({target})",
        )
    return record


def plan_qualification(
    lead: Lead,
    policy: QualificationPolicy,
    request: QualifyRequest,
    duplicates: Sequence[DuplicateCandidate] = (),
    *,
    ids: NewIds,
    at: datetime,
    by: UserRef,
    linked: LinkedRecords = LinkedRecords(),
    reason: StatusReason = StatusReason.QUALIFIED,
) -> ConversionPlan:
    """Plan the qualification of ``lead`` (pure: no I/O, no clock, no ids invented).

    ``duplicates`` are the candidates a :class:`DuplicateCheck` found; ``linked`` the stored
    records :func:`link_targets` names (a record the lead inherited that is no longer stored
    may be left out: it is then created again); ``ids`` the ids of records to create. A
    disqualification ``reason`` plans the prospect records of a disqualification (account
    and contact only; the policy must allow it).

    Returns a plan whose ``questions`` and ``unresolved`` say what is still missing. Raises
    IllegalTransition when the lead is not Open, OpportunityLinked / DomainRuleViolation for
    a refused prospect disqualification, InvalidValue for a request that cannot apply to
    this lead (YES for a record it cannot give, a customer it will not have, a currency the
    registry refuses, a link not supplied), CurrencyMismatch for an amount with no exchange
    rate to the opportunity's currency.
    """
    require_aware("at", at)
    request = _admitted(lead, policy, request, reason)
    links = _checked_links(lead, request, linked)
    ctx = _Planning(
        lead,
        policy,
        request,
        ids,
        at,
        account_values=_mapped(policy.maps.account, lead, request.owner),
        contact_values=_mapped(policy.maps.contact, lead, request.owner),
    )
    want_account = _want_account(ctx, links.account)
    want_contact = _want_contact(ctx, links.contact)
    account_id = (
        links.account.id if links.account is not None else ids.account if want_account else None
    )
    contact_id = (
        links.contact.id if links.contact is not None else ids.contact if want_contact else None
    )
    creating = {
        CandidateType.ACCOUNT: want_account and links.account is None,
        CandidateType.CONTACT: want_contact and links.contact is None,
    }
    relevant, unresolved = _duplicates_to_resolve(ctx, duplicates, creating)
    return ConversionPlan(
        lead_id=lead.id,
        lead_version=lead.version,
        at=at,
        by=by,
        reason=reason,
        policy=policy,
        request=request,
        new_ids=ids,
        account=_plan_account(ctx, links.account, want_account, contact_id),
        contact=_plan_contact(ctx, links.contact, want_contact, account_id),
        opportunity=_plan_opportunity(ctx, links.opportunity, account_id, contact_id),
        questions=tuple(ctx.questions),
        candidates=relevant,
        unresolved=unresolved,
    )


# The steps of plan_qualification, in the order it runs them (which is the order its errors
# and questions come in).


@attrs.define
class _Planning:
    """What every step of :func:`plan_qualification` reads, and the questions they ask."""

    lead: Lead
    policy: QualificationPolicy
    request: QualifyRequest
    ids: NewIds
    at: datetime
    account_values: dict[str, object]
    """The account fields the policy maps from the lead (owner from the request)."""
    contact_values: dict[str, object]
    """The contact fields the policy maps from the lead (owner from the request)."""
    questions: list[Question] = attrs.Factory(list)


@attrs.frozen
class _Links:
    account: Account | None
    contact: Contact | None
    opportunity: Opportunity | None


def _admitted(
    lead: Lead, policy: QualificationPolicy, request: QualifyRequest, reason: StatusReason
) -> QualifyRequest:
    """The request to plan: refused when the lead or the reason cannot be qualified (or a
    disqualification may not create records); a disqualification creates no opportunity."""
    if reason.state is LeadState.OPEN:
        raise InvalidValue("reason", reason, "must be a Qualified or Disqualified reason")
    if lead.state is not LeadState.OPEN:
        raise IllegalTransition(lead.id, lead.state, reason.state)
    if reason.state is not LeadState.DISQUALIFIED:
        return request
    if lead.qualifying_opportunity is not None:
        raise OpportunityLinked(lead.id, lead.qualifying_opportunity)
    if not policy.prospects_on_disqualify:
        raise DomainRuleViolation(
            "the qualification policy does not let a disqualification create records"
        )
    if request.create_opportunity is Choice.YES or request.link_opportunity is not None:
        raise InvalidValue(
            "create_opportunity", request.create_opportunity, "a disqualification makes none"
        )
    return attrs.evolve(request, create_opportunity=Choice.NO)


def _checked_links(lead: Lead, request: QualifyRequest, linked: LinkedRecords) -> _Links:
    """The stored records to link, checked against what the qualification links; a won or
    lost opportunity the lead came with is dropped (a new one is made)."""
    targets = link_targets(lead, request)
    explicit = targets.explicit
    link_account: Account | None = _check_linked(
        RecordKind.ACCOUNT, targets.account, linked.account, RecordKind.ACCOUNT in explicit
    )
    link_contact: Contact | None = _check_linked(
        RecordKind.CONTACT, targets.contact, linked.contact, RecordKind.CONTACT in explicit
    )
    link_opportunity: Opportunity | None = _check_linked(
        RecordKind.OPPORTUNITY,
        targets.opportunity,
        linked.opportunity,
        RecordKind.OPPORTUNITY in explicit,
    )
    if link_opportunity is not None and link_opportunity.state is not OpportunityState.OPEN:
        if RecordKind.OPPORTUNITY in explicit:
            raise InvalidValue(
                "link_opportunity",
                link_opportunity.id,
                f"is {link_opportunity.state.name.lower()}: only an open opportunity is linked",
            )
        link_opportunity = None  # the earlier deal was won or lost: a new one is made
    return _Links(link_account, link_contact, link_opportunity)


def _yes_no(ctx: _Planning, kind: QuestionKind, text: str) -> None:
    ctx.questions.append(Question(kind, text, ("yes", "no"), "yes"))


def _want_account(ctx: _Planning, link: Account | None) -> bool:
    """Whether the plan has an account: a linked one, else by request and policy."""
    if link is not None:
        return True
    values = ctx.account_values
    want, ask = _draft(
        ctx.request.create_account,
        ctx.policy.mode,
        not is_blank(values.get("name")),
        "create_account",
        "the lead has no company to make an account from",
    )
    if ask:
        _yes_no(ctx, QuestionKind.CREATE_ACCOUNT, f"Create an account for {values.get('name')}?")
    return want


def _want_contact(ctx: _Planning, link: Contact | None) -> bool:
    """Whether the plan has a contact: a linked one, else by request and policy."""
    if link is not None:
        return True
    probe = _nested_kwargs(Contact, ctx.contact_values).get("name")
    has_name = probe is not None and bool(getattr(probe, "first", "") or getattr(probe, "last", ""))
    want, ask = _draft(
        ctx.request.create_contact,
        ctx.policy.mode,
        has_name,
        "create_contact",
        "the lead has no first or last name to make a contact from",
    )
    if ask:
        _yes_no(ctx, QuestionKind.CREATE_CONTACT, f"Create a contact for {ctx.lead.full_name}?")
    return want


def _duplicates_to_resolve(
    ctx: _Planning,
    duplicates: Sequence[DuplicateCandidate],
    creating: Mapping[CandidateType, bool],
) -> tuple[tuple[DuplicateCandidate, ...], tuple[DuplicateCandidate, ...]]:
    """(the candidates that matter: duplicates of a record to create, once each; those of
    them still unresolved)."""
    policy = ctx.policy
    relevant: list[DuplicateCandidate] = []
    if policy.duplicates is not DuplicateHandling.IGNORE:
        seen: set[tuple[CandidateType, str]] = set()
        for candidate in duplicates:
            if not isinstance(candidate, DuplicateCandidate):
                raise InvalidValue("duplicates", candidate, "must be DuplicateCandidate values")
            if candidate.key in seen or not creating.get(candidate.record_type, False):
                continue
            seen.add(candidate.key)
            relevant.append(candidate)
    anyway = {
        a.key for a in ctx.request.duplicate_answers if a.resolution is Resolution.CREATE_ANYWAY
    }
    unresolved = tuple(
        c for c in relevant if policy.duplicates is DuplicateHandling.BLOCK or c.key not in anyway
    )
    return tuple(relevant), unresolved


def _linked_step(
    ctx: _Planning, record: RecordT, values: Mapping[str, object], links: Mapping[str, object]
) -> tuple[RecordT, tuple[str, ...]]:
    """A linked account or contact: filled where empty, notes carried, and what changed."""
    filled: tuple[str, ...]
    more: tuple[str, ...]
    record, filled = _fill(record, values, links)
    record, more = _carry_notes(record, ctx.lead, ctx.policy)
    changed = (*filled, *more)
    if changed:
        record = attrs.evolve(record, modified_at=ctx.at)
    return record, changed


def _record_step(
    ctx: _Planning,
    kind: type[PartyT],
    link: PartyT | None,
    want: bool,
    new_id: AccountId | ContactId,
    values: Mapping[str, object],
    link_field: str,
    link_to: AccountId | ContactId | None,
) -> tuple[StepAction, PartyT, tuple[str, ...]] | None:
    """An account or contact step: fill the linked record (and link it to ``link_to`` through
    ``link_field``), or create one when wanted."""
    if link is not None:
        links: dict[str, object] = {} if link_to is None else {link_field: link_to}
        record, filled = _linked_step(ctx, link, values, links)
        return StepAction.LINK, record, filled
    if not want:
        return None
    fields: dict[str, Any] = {
        "id": new_id,
        **_nested_kwargs(kind, values),
        link_field: link_to,
        "originating_lead": ctx.lead.id,
        "created_at": ctx.at,
        "modified_at": ctx.at,
        **_new_notes(ctx.lead, ctx.policy),
    }
    return StepAction.CREATE, kind(**fields), ()


def _plan_account(
    ctx: _Planning, link: Account | None, want: bool, contact_id: ContactId | None
) -> PlannedAccount | None:
    """The account step: fill the linked one, or create one."""
    step = _record_step(
        ctx, Account, link, want, ctx.ids.account, ctx.account_values, "primary_contact", contact_id
    )
    if step is None:
        return None
    action, record, filled = step
    return PlannedAccount(action=action, record=record, filled=filled)


def _plan_contact(
    ctx: _Planning, link: Contact | None, want: bool, account_id: AccountId | None
) -> PlannedContact | None:
    """The contact step: fill the linked one, or create one."""
    step = _record_step(
        ctx, Contact, link, want, ctx.ids.contact, ctx.contact_values, "account_id", account_id
    )
    if step is None:
        return None
    action, record, filled = step
    return PlannedContact(action=action, record=record, filled=filled)


def _plan_opportunity(
    ctx: _Planning,
    link: Opportunity | None,
    account_id: AccountId | None,
    contact_id: ContactId | None,
) -> PlannedOpportunity | None:
    """The opportunity step: carry notes to the linked one, or create one for the customer."""
    lead, request = ctx.lead, ctx.request
    if link is not None:
        record, filled = _carry_notes(link, lead, ctx.policy)
        if filled:
            record = attrs.evolve(record, modified_at=ctx.at)
        return PlannedOpportunity(action=StepAction.LINK, record=record, filled=filled)
    want, ask = _draft(
        request.create_opportunity,
        ctx.policy.mode,
        account_id is not None or contact_id is not None,
        "create_opportunity",
        "an opportunity needs a customer: include an account or a contact",
    )
    if ask:
        _yes_no(
            ctx,
            QuestionKind.CREATE_OPPORTUNITY,
            f"Create an opportunity for {lead.topic or lead.full_name or lead.company}?",
        )
    if not want:
        return None
    customer = _customer(request, ctx.policy.mode, account_id, contact_id, ctx.questions)
    currency = _currency(lead, ctx.policy, request, ctx.questions)
    return PlannedOpportunity(
        action=StepAction.CREATE,
        record=_opportunity(
            lead, ctx.policy, request, ctx.ids, ctx.at, customer, contact_id, currency
        ),
    )


def _customer(
    request: QualifyRequest,
    mode: QualifyMode,
    account_id: AccountId | None,
    contact_id: ContactId | None,
    questions: list[Question],
) -> AccountId | ContactId:
    """The opportunity's customer: the account if there is one, else the contact."""
    if account_id is not None and contact_id is not None:
        match request.customer:
            case CustomerChoice.CONTACT:
                return contact_id
            case CustomerChoice.ACCOUNT:
                return account_id
            case None:
                if mode is QualifyMode.PROMPT:
                    questions.append(
                        Question(
                            QuestionKind.CUSTOMER,
                            "Is the opportunity's customer the account or the contact?",
                            ("account", "contact"),
                            "account",
                        )
                    )
                return account_id
    only = account_id if account_id is not None else contact_id
    assert only is not None
    if request.customer is CustomerChoice.ACCOUNT and account_id is None:
        raise InvalidValue("customer", request.customer, "the qualification has no account")
    if request.customer is CustomerChoice.CONTACT and contact_id is None:
        raise InvalidValue("customer", request.customer, "the qualification has no contact")
    return only


def _currency(
    lead: Lead, policy: QualificationPolicy, request: QualifyRequest, questions: list[Question]
) -> str:
    """Request > the lead's budget amount > its estimated value > the policy default; then
    AUTO_CREATE uses the base currency and PROMPT asks."""
    registry = policy.currencies
    if request.currency is not None:
        return registry.check(request.currency)
    for money in (lead.budget_amount, lead.estimated_value):
        if money is not None and registry.allows(money.currency):
            return money.currency
    if policy.default_currency is not None:
        return policy.default_currency
    if policy.mode is QualifyMode.PROMPT:
        questions.append(
            Question(
                QuestionKind.CURRENCY,
                "Which currency should the opportunity use?",
                registry.codes if registry.only_listed else (),
                registry.base,
            )
        )
    return registry.base


def _opportunity(
    lead: Lead,
    policy: QualificationPolicy,
    request: QualifyRequest,
    ids: NewIds,
    at: datetime,
    customer: AccountId | ContactId,
    contact_id: ContactId | None,
    currency: str,
) -> Opportunity:
    values = _mapped(policy.maps.opportunity, lead, request.owner)
    for path, value in list(values.items()):
        if isinstance(value, Money):
            values[path] = policy.currencies.convert(value, currency, path)
    if is_blank(values.get("name")):
        values["name"] = lead.company or lead.full_name or f"Lead {lead.id}"
    return Opportunity(
        id=ids.opportunity,
        **_nested_kwargs(Opportunity, values),  # type: ignore[arg-type]
        customer=customer,
        currency=currency,
        contact=contact_id,
        originating_lead=lead.id,
        created_at=at,
        modified_at=at,
        **_new_notes(lead, policy),
    )
