"""The timeline commands of a lead: notes, activities and stakeholders.

A mixin of :class:`leadkit.lead.Lead` (see its docstring for the rules): adding a note, logging
or completing an activity is allowed on a closed lead (the timeline is append-only) but not on
one merged into another; editing or removing a note and adding or removing a stakeholder are
edits, refused on closed leads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

import attrs

from leadkit._lead_base import LeadBase
from leadkit.errors import InvalidValue
from leadkit.events import (
    ActivityCompleted,
    ActivityLogged,
    NoteAdded,
    NoteEdited,
    NoteRemoved,
    StakeholderAdded,
    StakeholderRemoved,
)
from leadkit.patch import UNSET
from leadkit.timeline import (
    Activity,
    ActivityKind,
    Attachment,
    Note,
    Stakeholder,
    StakeholderRole,
)
from leadkit.values import ContactId, UserRef, require_aware

__all__ = ["TimelineCommands"]


class TimelineCommands(LeadBase):
    """The timeline commands of :class:`leadkit.lead.Lead`."""

    __slots__ = ()

    def add_note(
        self,
        text: str,
        *,
        at: datetime,
        by: UserRef,
        title: str = "",
        attachment: Attachment | None = None,
    ) -> Self:
        """Add a note (allowed on closed leads too: the timeline is append-only).

        The note gets the next timeline number. Raises InvalidValue for an empty note, an
        over-long text or title, or a naive ``at``.
        """
        self._require_not_merged("add a note to")
        note = Note(
            id=self.timeline_seq + 1, text=text, at=at, by=by, title=title, attachment=attachment
        )
        return self._record(NoteAdded(lead_id=self.id, at=at, by=by, note=note))

    def edit_note(
        self,
        note_id: int,
        *,
        at: datetime,
        by: UserRef,
        text: str | None = None,
        title: str | None = None,
        attachment: Attachment | Any | None = UNSET,
    ) -> Self:
        """Change a note's text, title or attachment (pass ``attachment=None`` to drop it).

        Raises LeadClosed on a closed lead, InvalidValue for an unknown note or a bad value.
        """
        self._require_open("edit note")
        note = self.note(note_id)
        new_attachment = note.attachment if attachment is UNSET else attachment
        edited = attrs.evolve(
            note,
            text=note.text if text is None else text,
            title=note.title if title is None else title,
            attachment=new_attachment,
        )
        if edited == note:
            return self
        return self._record(
            NoteEdited(
                lead_id=self.id,
                at=at,
                by=by,
                note_id=note_id,
                title=edited.title,
                text=edited.text,
                attachment=edited.attachment,
                previous_title=note.title,
                previous_text=note.text,
                previous_attachment=note.attachment,
            )
        )

    def remove_note(self, note_id: int, *, at: datetime, by: UserRef) -> Self:
        """Remove a note with its attachment metadata. Raises LeadClosed on a closed lead,
        InvalidValue for an unknown note."""
        self._require_open("remove note")
        self.note(note_id)
        return self._record(NoteRemoved(lead_id=self.id, at=at, by=by, note_id=note_id))

    def log_activity(
        self,
        kind: ActivityKind,
        subject: str,
        *,
        at: datetime,
        by: UserRef,
        description: str = "",
        due_at: datetime | None = None,
        done_at: datetime | None = None,
    ) -> Self:
        """Log a phone call, e-mail, meeting or task (allowed on closed leads too).

        Raises InvalidValue for an empty subject, a bad kind or a naive timestamp.
        """
        self._require_not_merged("log an activity on")
        activity = Activity(
            id=self.timeline_seq + 1,
            kind=kind,
            subject=subject,
            at=at,
            by=by,
            description=description,
            due_at=due_at,
            done_at=done_at,
        )
        return self._record(ActivityLogged(lead_id=self.id, at=at, by=by, activity=activity))

    def complete_activity(
        self, activity_id: int, *, at: datetime, by: UserRef, done_at: datetime | None = None
    ) -> Self:
        """Mark an activity done at ``done_at`` (default ``at``); allowed on closed leads.

        Raises InvalidValue for an unknown activity or one already done.
        """
        self._require_not_merged("complete an activity of")
        activity = self.activity(activity_id)
        if activity.is_done:
            raise InvalidValue("activity_id", activity_id, "the activity is already done")
        done = require_aware("done_at", done_at if done_at is not None else at)
        return self._record(
            ActivityCompleted(lead_id=self.id, at=at, by=by, activity_id=activity_id, done_at=done)
        )

    def add_stakeholder(
        self,
        contact_id: ContactId,
        role: StakeholderRole = StakeholderRole.STAKEHOLDER,
        *,
        at: datetime,
        by: UserRef,
    ) -> Self:
        """Add a contact as a stakeholder with a role. Raises LeadClosed on a closed lead and
        InvalidValue when the contact already has that role."""
        self._require_open("add stakeholder")
        stakeholder = Stakeholder(contact_id, role)
        if stakeholder in self.stakeholders:
            raise InvalidValue(
                "stakeholders", stakeholder, f"{contact_id} is already a {role} of this lead"
            )
        return self._record(
            StakeholderAdded(lead_id=self.id, at=at, by=by, stakeholder=stakeholder)
        )

    def remove_stakeholder(
        self,
        contact_id: ContactId,
        role: StakeholderRole = StakeholderRole.STAKEHOLDER,
        *,
        at: datetime,
        by: UserRef,
    ) -> Self:
        """Remove a stakeholder. Raises LeadClosed on a closed lead and InvalidValue when the
        contact does not have that role."""
        self._require_open("remove stakeholder")
        stakeholder = Stakeholder(contact_id, role)
        if stakeholder not in self.stakeholders:
            raise InvalidValue(
                "stakeholders", stakeholder, f"{contact_id} is not a {role} of this lead"
            )
        return self._record(
            StakeholderRemoved(lead_id=self.id, at=at, by=by, stakeholder=stakeholder)
        )
