"""The base of :class:`leadkit.lead.Lead` and of its command groups (the mixins in
``_lead_timeline``, ``_lead_scoring`` and ``_lead_merging``): the guards every command group
uses, and, for type checkers, the lead's fields and methods those groups read.

The groups do not import ``leadkit.lead`` (it imports them): they name the lead ``Self``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadkit.errors import LeadClosed, LeadMerged

if TYPE_CHECKING:
    from decimal import Decimal
    from typing import Self

    from leadkit.events import LeadEvent
    from leadkit.fields import Rating
    from leadkit.profiles import FieldProfile
    from leadkit.scoring.result import ManualScore
    from leadkit.status import LeadState, StatusReason
    from leadkit.timeline import Activity, Note, Stakeholder
    from leadkit.values import LeadId

__all__ = ["LeadBase"]


class LeadBase:
    """What every command group of a lead shares: its guards (and, for type checkers only, the
    fields and methods of ``Lead`` the groups use)."""

    __slots__ = ()

    if TYPE_CHECKING:
        id: LeadId
        state: LeadState
        reason: StatusReason
        merged_into: LeadId | None
        stakeholders: tuple[Stakeholder, ...]
        timeline_seq: int
        ticked_criteria: frozenset[str]
        manual_score: ManualScore | None
        score: Decimal | None
        stars: int | None
        score_rating: Rating | None
        score_model: str | None
        score_model_version: int | None

        def note(self, note_id: int) -> Note: ...

        def activity(self, activity_id: int) -> Activity: ...

        def clear_events(self) -> Self: ...

        def _record(self, event: LeadEvent, profile: FieldProfile | None = None) -> Self: ...

    def _require_open(self, action: str) -> None:
        if self.state.is_closed:
            raise LeadClosed(self.id, self.state, action)

    def _require_not_merged(self, action: str) -> None:
        if self.merged_into is not None:
            raise LeadMerged(self.id, self.merged_into, action)
