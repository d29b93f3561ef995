"""The merge commands of a lead (``leadkit.merging`` builds them from a MergePlan).

A mixin of :class:`leadkit.lead.Lead`: ``absorb`` on the master, ``merge_into`` on each lead
merged into it, ``restore`` to undo a merge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

from leadkit._lead_base import LeadBase
from leadkit.errors import InvalidValue
from leadkit.events import LeadMergedInto, LeadsMerged, LeadUnmerged
from leadkit.patch import LeadPatch
from leadkit.scoring.result import ManualScore
from leadkit.timeline import Activity, Note, Stakeholder
from leadkit.values import LeadId, MergeId, UserRef

__all__ = ["MergingCommands"]


class MergingCommands(LeadBase):
    """The merge commands of :class:`leadkit.lead.Lead`."""

    __slots__ = ()

    def absorb(
        self,
        merge_id: MergeId,
        merged: tuple[LeadId, ...],
        changed: LeadPatch,
        *,
        at: datetime,
        by: UserRef,
        ticked_criteria: frozenset[str],
        manual_score: ManualScore | None,
        notes: tuple[Note, ...] = (),
        activities: tuple[Activity, ...] = (),
        stakeholders: tuple[Stakeholder, ...] = (),
        before: tuple[Self, ...] = (),
    ) -> Self:
        """Take the surviving values and the moved children of the leads ``merged`` into this
        one (the master of a merge). Allowed on a closed master: the merge policy decides.

        Raises LeadMerged when this lead was itself merged into another, InvalidValue when a
        moved note or activity does not follow this lead's timeline numbering.
        """
        self._require_not_merged("merge into")
        numbers = [note.id for note in notes] + [activity.id for activity in activities]
        if sorted(numbers) != list(
            range(self.timeline_seq + 1, self.timeline_seq + 1 + len(numbers))
        ):
            raise InvalidValue("notes", numbers, "moved entries must follow the timeline numbering")
        return self._record(
            LeadsMerged(
                lead_id=self.id,
                at=at,
                by=by,
                merge_id=merge_id,
                merged=merged,
                changed=changed,
                ticked_criteria=ticked_criteria,
                manual_score=manual_score,
                notes=notes,
                activities=activities,
                stakeholders=stakeholders,
                before=tuple(lead.clear_events() for lead in before),
            )
        )

    def merge_into(
        self, master_id: LeadId, merge_id: MergeId, *, at: datetime, by: UserRef
    ) -> Self:
        """Deactivate this lead as merged into ``master_id``: Disqualified, reason Canceled,
        ``merged_into`` set; its notes, activities and stakeholders leave it (the master's
        ``absorb`` takes them).

        Raises LeadMerged when the lead was already merged, InvalidValue when ``master_id``
        is the lead itself.
        """
        self._require_not_merged("merge")
        if master_id == self.id:
            raise InvalidValue("master_id", master_id, "a lead cannot be merged into itself")
        return self._record(
            LeadMergedInto(
                lead_id=self.id,
                at=at,
                by=by,
                merge_id=merge_id,
                master_id=master_id,
                previous_state=self.state,
                previous=self.reason,
            )
        )

    def restore(self, merge_id: MergeId, restored: Self, *, at: datetime, by: UserRef) -> Self:
        """Undo a merge on this lead: every field takes its value from ``restored`` (built by
        ``leadkit.merging.plan_unmerge``); ``version`` stays the stored one.

        Raises InvalidValue when ``restored`` is another lead's image.
        """
        if restored.id != self.id:
            raise InvalidValue("restored", restored.id, f"not an image of lead {self.id}")
        return self._record(
            LeadUnmerged(
                lead_id=self.id, at=at, by=by, merge_id=merge_id, restored=restored.clear_events()
            )
        )
