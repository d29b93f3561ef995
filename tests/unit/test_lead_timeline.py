"""The timeline commands of a lead: notes, activities and stakeholders
(``leadkit._lead_timeline``, a part of ``leadkit.lead.Lead``); tests/unit/test_lead.py holds
the rules, this file the exact refusals and the fields each edit keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadkit.errors import InvalidValue
from leadkit.events import NoteEdited
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.timeline import ActivityKind, Attachment, Stakeholder, StakeholderRole
from leadkit.values import ContactId, LeadId, PersonName, UserRef

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ANN = UserRef("u1", "Ann")
BOB = UserRef("u2", "Bob")
ADA = ContactId("C-1")
PDF = Attachment("offer.pdf", "application/pdf", 10, "ab" * 32)


def at(minutes: int) -> datetime:
    """A fixed, timezone-aware time ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def new_lead() -> Lead:
    fields = LeadPatch(topic="Printers", name=PersonName(last="Lovelace"))
    return Lead.create(LeadId("L-1"), fields, at=T0, by=ANN)


def noted() -> Lead:
    return new_lead().add_note("text", at=at(1), by=ANN, title="title", attachment=PDF)


def test_editing_only_the_title_keeps_the_text_and_the_attachment() -> None:
    edited = noted().edit_note(1, at=at(2), by=BOB, title="new title")
    note = edited.note(1)
    assert (note.title, note.text, note.attachment) == ("new title", "text", PDF)


def test_editing_only_the_text_keeps_the_title() -> None:
    edited = noted().edit_note(1, at=at(2), by=BOB, text="new text")
    note = edited.note(1)
    assert (note.title, note.text, note.attachment) == ("title", "new text", PDF)


def test_dropping_the_attachment_records_the_one_dropped() -> None:
    lead = noted()
    edited = lead.edit_note(1, at=at(2), by=BOB, attachment=None)
    assert edited.note(1).attachment is None
    assert edited.pending_events[-1] == NoteEdited(
        lead_id=LeadId("L-1"),
        at=at(2),
        by=BOB,
        note_id=1,
        title="title",
        text="text",
        attachment=None,
        previous_title="title",
        previous_text="text",
        previous_attachment=PDF,
    )


def test_an_activity_has_no_description_unless_given() -> None:
    lead = new_lead().log_activity(ActivityKind.PHONE_CALL, "call", at=at(1), by=ANN)
    assert lead.activity(1).description == ""


def test_completing_a_done_activity_is_refused_naming_it() -> None:
    lead = new_lead().log_activity(ActivityKind.TASK, "t", at=at(1), by=ANN, done_at=at(1))
    with pytest.raises(InvalidValue) as caught:
        lead.complete_activity(1, at=at(2), by=BOB)
    assert (caught.value.field, caught.value.value, caught.value.reason) == (
        "activity_id",
        1,
        "the activity is already done",
    )


def test_adding_a_stakeholder_twice_in_one_role_is_refused_naming_it() -> None:
    lead = new_lead().add_stakeholder(ADA, StakeholderRole.DECISION_MAKER, at=at(1), by=ANN)
    with pytest.raises(InvalidValue) as caught:
        lead.add_stakeholder(ADA, StakeholderRole.DECISION_MAKER, at=at(2), by=BOB)
    role = StakeholderRole.DECISION_MAKER
    assert (caught.value.field, caught.value.value, caught.value.reason) == (
        "stakeholders",
        Stakeholder(ADA, role),
        f"C-1 is already a {role} of this lead",
    )


def test_removing_a_stakeholder_not_in_that_role_is_refused_naming_it() -> None:
    lead = new_lead().add_stakeholder(ADA, at=at(1), by=ANN)
    role = StakeholderRole.DECISION_MAKER
    with pytest.raises(InvalidValue) as caught:
        lead.remove_stakeholder(ADA, role, at=at(2), by=BOB)
    assert (caught.value.field, caught.value.value, caught.value.reason) == (
        "stakeholders",
        Stakeholder(ADA, role),
        f"C-1 is not a {role} of this lead",
    )
