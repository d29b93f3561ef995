"""How each lead event changes a lead: a table of small named appliers.

:func:`leadkit.lead._apply` is the single place where lead state changes; it looks the event's
type up here. An applier returns the fields the event sets (``attrs.evolve`` takes them).
Edits (:data:`EDITS`) also stamp ``modified_at`` / ``modified_by``; derived data
(:data:`DERIVED`: a recorded score, an unmerge restoring an image) leaves them alone, or takes
them from the image.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

import attrs

from leadkit.events import (
    ActivityCompleted,
    ActivityLogged,
    CriterionTicked,
    CriterionUnticked,
    ExistingAccountLinked,
    ExistingAccountUnlinked,
    ExistingContactLinked,
    ExistingContactUnlinked,
    LeadAssigned,
    LeadDisqualified,
    LeadEvent,
    LeadMergedInto,
    LeadQualified,
    LeadRated,
    LeadReactivated,
    LeadScored,
    LeadsMerged,
    LeadUnmerged,
    LeadUpdated,
    ManualScoreCleared,
    ManualScoreSet,
    NoteAdded,
    NoteEdited,
    NoteRemoved,
    OpportunityRelated,
    OpportunityUnlinked,
    StakeholderAdded,
    StakeholderRemoved,
    StatusReasonChanged,
)
from leadkit.status import LeadState, StatusReason
from leadkit.timeline import Activity, Note, Stakeholder
from leadkit.values import AccountId, ContactId, OpportunityId

__all__ = ["DERIVED", "EDITS", "Applier", "applier_for"]


class _State(Protocol):
    """What the appliers read from the lead the event applies to (``Lead`` fits)."""

    @property
    def notes(self) -> tuple[Note, ...]: ...

    @property
    def activities(self) -> tuple[Activity, ...]: ...

    @property
    def stakeholders(self) -> tuple[Stakeholder, ...]: ...

    @property
    def timeline_seq(self) -> int: ...

    @property
    def ticked_criteria(self) -> frozenset[str]: ...

    @property
    def qualified_account(self) -> AccountId | None: ...

    @property
    def qualified_contact(self) -> ContactId | None: ...

    @property
    def qualifying_opportunity(self) -> OpportunityId | None: ...


Applier = Callable[[_State, Any], dict[str, Any]]
"""An event's effect: the lead before it and the event give the fields the event sets."""

_NOT_RESTORED: Final = ("id", "version", "pending_events")


def _image_fields(kind: type[Any]) -> tuple[str, ...]:
    """The fields an unmerge restores from a lead's image: all but its id and storage state."""
    return tuple(a.name for a in attrs.fields(kind) if a.name not in _NOT_RESTORED)


# -------------------------------------------------------------------------------------------
# Derived data: the modified stamp stays (or comes from the image).


def _unmerged(lead: _State, event: LeadUnmerged) -> dict[str, Any]:
    image = event.restored
    return {name: getattr(image, name) for name in _image_fields(type(image))}


def _scored(lead: _State, event: LeadScored) -> dict[str, Any]:
    # Derived data, not an edit: the lead's modified time stays.
    score = event.score
    return {
        "score": score.value,
        "stars": score.stars,
        "score_rating": score.rating,
        "score_model": score.model_id,
        "score_model_version": score.model_version,
    }


# -------------------------------------------------------------------------------------------
# Editable fields and links


def _updated(lead: _State, event: LeadUpdated) -> dict[str, Any]:
    return event.after.as_dict()


def _rated(lead: _State, event: LeadRated) -> dict[str, Any]:
    return {"rating": event.rating}


def _account_linked(lead: _State, event: ExistingAccountLinked) -> dict[str, Any]:
    return {**event.filled.as_dict(), "existing_account": event.account_id}


def _account_unlinked(lead: _State, event: ExistingAccountUnlinked) -> dict[str, Any]:
    return {"existing_account": None}


def _contact_linked(lead: _State, event: ExistingContactLinked) -> dict[str, Any]:
    return {**event.filled.as_dict(), "existing_contact": event.contact_id}


def _contact_unlinked(lead: _State, event: ExistingContactUnlinked) -> dict[str, Any]:
    return {"existing_contact": None}


# -------------------------------------------------------------------------------------------
# Timeline


def _note_added(lead: _State, event: NoteAdded) -> dict[str, Any]:
    note = event.note
    return {"notes": (*lead.notes, note), "timeline_seq": max(lead.timeline_seq, note.id)}


def _note_edited(lead: _State, event: NoteEdited) -> dict[str, Any]:
    return {"notes": tuple(_edit(n, event) if n.id == event.note_id else n for n in lead.notes)}


def _edit(note: Note, event: NoteEdited) -> Note:
    return attrs.evolve(
        note,
        title=event.title,
        text=event.text,
        attachment=event.attachment,
        edited_at=event.at,
        edited_by=event.by,
    )


def _note_removed(lead: _State, event: NoteRemoved) -> dict[str, Any]:
    return {"notes": tuple(n for n in lead.notes if n.id != event.note_id)}


def _activity_logged(lead: _State, event: ActivityLogged) -> dict[str, Any]:
    activity = event.activity
    return {
        "activities": (*lead.activities, activity),
        "timeline_seq": max(lead.timeline_seq, activity.id),
    }


def _activity_completed(lead: _State, event: ActivityCompleted) -> dict[str, Any]:
    return {
        "activities": tuple(
            attrs.evolve(a, done_at=event.done_at) if a.id == event.activity_id else a
            for a in lead.activities
        )
    }


def _stakeholder_added(lead: _State, event: StakeholderAdded) -> dict[str, Any]:
    return {"stakeholders": (*lead.stakeholders, event.stakeholder)}


def _stakeholder_removed(lead: _State, event: StakeholderRemoved) -> dict[str, Any]:
    return {"stakeholders": tuple(s for s in lead.stakeholders if s != event.stakeholder)}


# -------------------------------------------------------------------------------------------
# Ownership and lifecycle


def _assigned(lead: _State, event: LeadAssigned) -> dict[str, Any]:
    return {"owner": event.owner}


def _reason_changed(lead: _State, event: StatusReasonChanged) -> dict[str, Any]:
    return {"reason": event.reason}


def _disqualified(lead: _State, event: LeadDisqualified) -> dict[str, Any]:
    return {"state": LeadState.DISQUALIFIED, "reason": event.reason}


def _qualified(lead: _State, event: LeadQualified) -> dict[str, Any]:
    return {
        "state": LeadState.QUALIFIED,
        "reason": event.reason,
        # A re-qualification that creates nothing keeps the earlier references.
        "qualified_account": event.account_id or lead.qualified_account,
        "qualified_contact": event.contact_id or lead.qualified_contact,
        "qualifying_opportunity": event.opportunity_id or lead.qualifying_opportunity,
    }


def _reactivated(lead: _State, event: LeadReactivated) -> dict[str, Any]:
    return {"state": LeadState.OPEN, "reason": event.reason}


def _opportunity_related(lead: _State, event: OpportunityRelated) -> dict[str, Any]:
    return {"qualifying_opportunity": event.opportunity_id}


def _opportunity_unlinked(lead: _State, event: OpportunityUnlinked) -> dict[str, Any]:
    return {"qualifying_opportunity": None}


# -------------------------------------------------------------------------------------------
# Merging


def _merged(lead: _State, event: LeadsMerged) -> dict[str, Any]:
    entries = [n.id for n in event.notes] + [a.id for a in event.activities]
    return {
        **event.changed.as_dict(),
        "ticked_criteria": event.ticked_criteria,
        "manual_score": event.manual_score,
        "notes": (*lead.notes, *event.notes),
        "activities": (*lead.activities, *event.activities),
        "stakeholders": (*lead.stakeholders, *event.stakeholders),
        "timeline_seq": max((lead.timeline_seq, *entries)),
    }


def _merged_into(lead: _State, event: LeadMergedInto) -> dict[str, Any]:
    return {
        "state": LeadState.DISQUALIFIED,
        "reason": StatusReason.CANCELED,
        "merged_into": event.master_id,
        "merge_id": event.merge_id,
        "notes": (),
        "activities": (),
        "stakeholders": (),
    }


# -------------------------------------------------------------------------------------------
# Scoring


def _ticked(lead: _State, event: CriterionTicked) -> dict[str, Any]:
    return {"ticked_criteria": lead.ticked_criteria | {event.criterion_id}}


def _unticked(lead: _State, event: CriterionUnticked) -> dict[str, Any]:
    return {"ticked_criteria": lead.ticked_criteria - {event.criterion_id}}


def _manual_score_set(lead: _State, event: ManualScoreSet) -> dict[str, Any]:
    return {"manual_score": event.manual}


def _manual_score_cleared(lead: _State, event: ManualScoreCleared) -> dict[str, Any]:
    return {"manual_score": None}


DERIVED: Final[Mapping[type[LeadEvent], Applier]] = {
    LeadUnmerged: _unmerged,
    LeadScored: _scored,
}
"""Events that record derived data: they leave ``modified_at`` and ``modified_by`` alone."""

EDITS: Final[Mapping[type[LeadEvent], Applier]] = {
    LeadUpdated: _updated,
    LeadRated: _rated,
    ExistingAccountLinked: _account_linked,
    ExistingAccountUnlinked: _account_unlinked,
    ExistingContactLinked: _contact_linked,
    ExistingContactUnlinked: _contact_unlinked,
    NoteAdded: _note_added,
    NoteEdited: _note_edited,
    NoteRemoved: _note_removed,
    ActivityLogged: _activity_logged,
    ActivityCompleted: _activity_completed,
    StakeholderAdded: _stakeholder_added,
    StakeholderRemoved: _stakeholder_removed,
    LeadAssigned: _assigned,
    StatusReasonChanged: _reason_changed,
    LeadDisqualified: _disqualified,
    LeadQualified: _qualified,
    LeadReactivated: _reactivated,
    OpportunityRelated: _opportunity_related,
    LeadsMerged: _merged,
    LeadMergedInto: _merged_into,
    OpportunityUnlinked: _opportunity_unlinked,
    CriterionTicked: _ticked,
    CriterionUnticked: _unticked,
    ManualScoreSet: _manual_score_set,
    ManualScoreCleared: _manual_score_cleared,
}
"""Events that edit the lead: applying one also stamps ``modified_at`` and ``modified_by``."""


def applier_for(table: Mapping[type[LeadEvent], Applier], kind: type[LeadEvent]) -> Applier | None:
    """The applier ``table`` has for events of type ``kind`` (or of its nearest base class that
    has one, as a subclass of an event applies like it), else None."""
    for base in kind.__mro__:
        found = table.get(base)
        if found is not None:
            return found
    return None
