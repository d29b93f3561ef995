"""Domain events: one past-tense event for every lead command.

Every event names the lead, when it happened (timezone-aware) and who did it. Events are
values: :func:`leadkit.lead.replay` folds them back into the lead they describe, and the
unit of work hands them to an event sink when a change is stored.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Final, TypeAlias

import attrs

from leadkit.fields import Rating
from leadkit.patch import LeadPatch
from leadkit.scoring.result import ManualScore, Score
from leadkit.status import LeadState, StatusReason
from leadkit.timeline import Activity, Attachment, Note, Stakeholder
from leadkit.values import (
    AccountId,
    ContactId,
    LeadId,
    MergeId,
    OpportunityId,
    UserRef,
    require_aware,
)

_Lead: TypeAlias = Any
"""``leadkit.lead.Lead`` in the merge events. ``leadkit.lead`` imports this module, so this one
cannot import it; ``leadkit.lead`` resolves these annotations to ``Lead`` once it exists (the
converter and the strategies then read the real type)."""

__all__ = [
    "EVENT_TYPES",
    "ActivityCompleted",
    "ActivityLogged",
    "CriterionTicked",
    "CriterionUnticked",
    "ExistingAccountLinked",
    "ExistingAccountUnlinked",
    "ExistingContactLinked",
    "ExistingContactUnlinked",
    "LeadAssigned",
    "LeadCreated",
    "LeadDisqualified",
    "LeadEvent",
    "LeadMergedInto",
    "LeadQualified",
    "LeadRated",
    "LeadReactivated",
    "LeadScored",
    "LeadUnmerged",
    "LeadUpdated",
    "LeadsMerged",
    "ManualScoreCleared",
    "ManualScoreSet",
    "NoteAdded",
    "NoteEdited",
    "NoteRemoved",
    "OpportunityRelated",
    "OpportunityUnlinked",
    "StakeholderAdded",
    "StakeholderRemoved",
    "StatusReasonChanged",
]


@attrs.frozen(kw_only=True)
class LeadEvent:
    """Base of every lead event. Raises InvalidValue for a naive ``at``."""

    lead_id: LeadId
    at: datetime
    by: UserRef

    def __attrs_post_init__(self) -> None:
        require_aware("at", self.at)

    @property
    def type(self) -> str:
        """The event's type name, e.g. ``"LeadCreated"``."""
        return type(self).__name__


@attrs.frozen(kw_only=True)
class LeadCreated(LeadEvent):
    """A lead was created with these fields, owner and initial status reason, under the field
    profile named ``profile`` (its later commands check the same profile)."""

    fields: LeadPatch
    owner: UserRef
    reason: StatusReason
    profile: str = "Dynamics 365"


@attrs.frozen(kw_only=True)
class LeadUpdated(LeadEvent):
    """Fields changed: ``before`` and ``after`` set exactly the changed fields."""

    before: LeadPatch
    after: LeadPatch


@attrs.frozen(kw_only=True)
class LeadRated(LeadEvent):
    """The rating changed."""

    rating: Rating | None
    previous: Rating | None


@attrs.frozen(kw_only=True)
class ExistingAccountLinked(LeadEvent):
    """The lead was linked to an existing account; ``filled`` holds what autofill filled."""

    account_id: AccountId
    filled: LeadPatch


@attrs.frozen(kw_only=True)
class ExistingAccountUnlinked(LeadEvent):
    """The link to an existing account was removed (filled values stay)."""

    account_id: AccountId


@attrs.frozen(kw_only=True)
class ExistingContactLinked(LeadEvent):
    """The lead was linked to an existing contact; ``filled`` holds what autofill filled."""

    contact_id: ContactId
    filled: LeadPatch


@attrs.frozen(kw_only=True)
class ExistingContactUnlinked(LeadEvent):
    """The link to an existing contact was removed (filled values stay)."""

    contact_id: ContactId


@attrs.frozen(kw_only=True)
class NoteAdded(LeadEvent):
    """A note was added to the timeline."""

    note: Note


@attrs.frozen(kw_only=True)
class NoteEdited(LeadEvent):
    """A note's title, text or attachment changed."""

    note_id: int
    title: str
    text: str
    attachment: Attachment | None
    previous_title: str
    previous_text: str
    previous_attachment: Attachment | None


@attrs.frozen(kw_only=True)
class NoteRemoved(LeadEvent):
    """A note (and its attachment metadata) was removed."""

    note_id: int


@attrs.frozen(kw_only=True)
class ActivityLogged(LeadEvent):
    """A phone call, e-mail, meeting or task was logged on the timeline."""

    activity: Activity


@attrs.frozen(kw_only=True)
class ActivityCompleted(LeadEvent):
    """An activity was marked done."""

    activity_id: int
    done_at: datetime


@attrs.frozen(kw_only=True)
class StakeholderAdded(LeadEvent):
    """A contact was added as a stakeholder with a role."""

    stakeholder: Stakeholder


@attrs.frozen(kw_only=True)
class StakeholderRemoved(LeadEvent):
    """A stakeholder was removed."""

    stakeholder: Stakeholder


@attrs.frozen(kw_only=True)
class LeadAssigned(LeadEvent):
    """The owner changed; ``rule`` names what decided it (empty for a manual assignment)."""

    owner: UserRef
    previous: UserRef
    rule: str = ""


@attrs.frozen(kw_only=True)
class StatusReasonChanged(LeadEvent):
    """The status reason changed within the Open state (e.g. New -> Contacted)."""

    reason: StatusReason
    previous: StatusReason


@attrs.frozen(kw_only=True)
class LeadDisqualified(LeadEvent):
    """The lead was closed as disqualified with a reason."""

    reason: StatusReason
    previous: StatusReason


@attrs.frozen(kw_only=True)
class LeadQualified(LeadEvent):
    """The lead was qualified; the references name the records created or linked."""

    reason: StatusReason
    previous: StatusReason
    account_id: AccountId | None = None
    contact_id: ContactId | None = None
    opportunity_id: OpportunityId | None = None


@attrs.frozen(kw_only=True)
class LeadReactivated(LeadEvent):
    """A closed lead was reopened; notes, stakeholders and history are kept."""

    reason: StatusReason
    previous_state: LeadState
    previous: StatusReason


@attrs.frozen(kw_only=True)
class OpportunityUnlinked(LeadEvent):
    """The qualifying opportunity was unlinked, so the lead may be disqualified again."""

    opportunity_id: OpportunityId


@attrs.frozen(kw_only=True)
class OpportunityRelated(LeadEvent):
    """An existing opportunity was related to the open lead as its originating lead (outside
    qualification); while it is related the lead cannot be disqualified."""

    opportunity_id: OpportunityId


@attrs.frozen(kw_only=True)
class LeadsMerged(LeadEvent):
    """Other leads were merged into this one (the master).

    ``changed`` sets the editable fields that survivorship took from the others;
    ``ticked_criteria`` and ``manual_score`` are the surviving values; ``notes``,
    ``activities`` and ``stakeholders`` are the children moved here (renumbered on this
    lead's timeline; the merge record keeps where each came from). ``before`` holds every
    lead as it was before the merge, the master first.
    """

    merge_id: MergeId
    merged: tuple[LeadId, ...]
    changed: LeadPatch
    ticked_criteria: frozenset[str]
    manual_score: ManualScore | None
    notes: tuple[Note, ...] = ()
    activities: tuple[Activity, ...] = ()
    stakeholders: tuple[Stakeholder, ...] = ()
    before: tuple[_Lead, ...] = ()


@attrs.frozen(kw_only=True)
class LeadMergedInto(LeadEvent):
    """The lead was merged into ``master_id``: it is now Disqualified (Canceled) with a
    reference to its master, its notes, activities and stakeholders moved there."""

    merge_id: MergeId
    master_id: LeadId
    previous_state: LeadState
    previous: StatusReason


@attrs.frozen(kw_only=True)
class LeadUnmerged(LeadEvent):
    """A merge was undone: the lead is back to ``restored`` (its image from before the merge,
    with any note or activity added to it since)."""

    merge_id: MergeId
    restored: _Lead


@attrs.frozen(kw_only=True)
class CriterionTicked(LeadEvent):
    """A user ticked a manual scoring criterion on the lead (an Outlook BCM check box)."""

    criterion_id: str


@attrs.frozen(kw_only=True)
class CriterionUnticked(LeadEvent):
    """A user unticked a manual scoring criterion on the lead."""

    criterion_id: str


@attrs.frozen(kw_only=True)
class ManualScoreSet(LeadEvent):
    """A user set the lead's stars by hand; the override wins until cleared or expired."""

    manual: ManualScore
    previous: ManualScore | None = None


@attrs.frozen(kw_only=True)
class ManualScoreCleared(LeadEvent):
    """The manual score override was cleared; computed scores decide again."""

    previous: ManualScore


@attrs.frozen(kw_only=True)
class LeadScored(LeadEvent):
    """The lead was scored: the full result with its explanation, and the previous value."""

    score: Score
    previous: Decimal | None = None


EVENT_TYPES: Final[dict[str, type[LeadEvent]]] = {
    cls.__name__: cls
    for cls in (
        LeadCreated,
        LeadUpdated,
        LeadRated,
        ExistingAccountLinked,
        ExistingAccountUnlinked,
        ExistingContactLinked,
        ExistingContactUnlinked,
        NoteAdded,
        NoteEdited,
        NoteRemoved,
        ActivityLogged,
        ActivityCompleted,
        StakeholderAdded,
        StakeholderRemoved,
        LeadAssigned,
        StatusReasonChanged,
        LeadDisqualified,
        LeadQualified,
        LeadReactivated,
        OpportunityUnlinked,
        OpportunityRelated,
        LeadsMerged,
        LeadMergedInto,
        LeadUnmerged,
        CriterionTicked,
        CriterionUnticked,
        ManualScoreSet,
        ManualScoreCleared,
        LeadScored,
    )
}
"""Every concrete event type by name (used by serialization)."""
