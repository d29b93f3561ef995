"""What the qualification and disqualification services return, and their JSON-safe form
for idempotency keys."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import attrs

from leadkit.conversion import (
    ConversionPlan,
    DuplicateCandidate,
    Question,
)
from leadkit.idempotency import _converter as _shared_converter
from leadkit.idempotency import (
    result_data,
    result_from,
)
from leadkit.lead import Lead
from leadkit.policies import RecordKind
from leadkit.serialization import dump_plan, load_plan
from leadkit.values import (
    AccountId,
    ContactId,
    LeadId,
    OpportunityId,
)

__all__ = [
    "DisqualifyResult",
    "OutcomeStatus",
    "QualifyOutcome",
    "QualifyResult",
]


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
