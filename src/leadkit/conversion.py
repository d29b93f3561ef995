"""Qualification's planner and its duplicate check, under one import path.

The planner is pure and lives in the domain: the request, its duplicate candidates and
questions in :mod:`leadkit.conversion_request`, the plan in :mod:`leadkit.conversion_plan`,
:func:`plan_qualification` in :mod:`leadkit.conversion_planner` (see its module docs for the
rules). This module exports them all and declares the port qualification asks for duplicate
candidates, :class:`DuplicateCheck`, which reads through a unit of work: it sits beside the
repository ports, above the domain. Nothing is stored here; :mod:`leadkit.services` executes a
complete plan in one unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import attrs

from leadkit.conversion_plan import (
    ConversionPlan,
    LinkedRecords,
    LinkTargets,
    NewIds,
    PlannedAccount,
    PlannedContact,
    PlannedOpportunity,
    StepAction,
)
from leadkit.conversion_planner import link_targets, plan_qualification
from leadkit.conversion_request import (
    CandidateType,
    Choice,
    CustomerChoice,
    DuplicateAnswer,
    DuplicateCandidate,
    QualifyRequest,
    Question,
    QuestionKind,
    Resolution,
)
from leadkit.lead import Lead
from leadkit.ports import UnitOfWork

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
    :class:`leadkit.duplicate_checks.engine_check.EngineDuplicateCheck` (the duplicate engine).
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
