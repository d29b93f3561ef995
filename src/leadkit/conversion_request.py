"""A qualification's request: duplicate candidates and the answers to them, the choices and
links the caller asks for, and the questions a PROMPT policy still needs answered.

Pure values (no I/O); :func:`leadkit.conversion_planner.plan_qualification` reads them and
:mod:`leadkit.conversion` exports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Final

import attrs

from leadkit.errors import (
    InvalidValue,
)
from leadkit.policies import (
    RecordKind,
)
from leadkit.values import (
    AccountId,
    ContactId,
    OpportunityId,
    UserRef,
    currency_exponent,
)

__all__ = [
    "CandidateType",
    "Choice",
    "CustomerChoice",
    "DuplicateAnswer",
    "DuplicateCandidate",
    "QualifyRequest",
    "Question",
    "QuestionKind",
    "Resolution",
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
        for answer in self.duplicate_answers:  # before explicit_link reads them
            if not isinstance(answer, DuplicateAnswer):
                raise InvalidValue("duplicate_answers", answer, "must be DuplicateAnswer values")
        for kind in _KINDS:
            choice = self.choice(kind)
            if not isinstance(choice, Choice):
                raise InvalidValue(f"create_{kind.value}", choice, "must be YES, NO or POLICY")
            # A LINK answer is an explicit link too, so this also refuses one for a kind that
            # is NO.
            if choice is Choice.NO and self.explicit_link(kind) is not None:
                raise InvalidValue(
                    f"link_{kind.value}",
                    self.explicit_link(kind),
                    f"create_{kind.value} is NO, so nothing can be linked",
                )
        if self.customer is not None and not isinstance(self.customer, CustomerChoice):
            raise InvalidValue("customer", self.customer, "must be ACCOUNT or CONTACT")
        seen: set[tuple[CandidateType, str]] = set()
        linked: set[CandidateType] = set()
        for answer in self.duplicate_answers:
            if answer.key in seen:
                raise InvalidValue(
                    "duplicate_answers", answer, "the same candidate is answered twice"
                )
            seen.add(answer.key)
            if answer.resolution is Resolution.LINK:
                if answer.record_type in linked:
                    raise InvalidValue(
                        "duplicate_answers",
                        answer,
                        f"only one {answer.record_type.value} can be linked",
                    )
                linked.add(answer.record_type)
                named = getattr(self, _LINK_FIELD[answer.record_type])
                if named is not None and named.value != answer.record_id:
                    raise InvalidValue(
                        "duplicate_answers",
                        answer,
                        f"{_LINK_FIELD[answer.record_type]} already names {named}",
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
                return attrs.evolve(self, customer=CustomerChoice(value))  # a member maps to itself
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
