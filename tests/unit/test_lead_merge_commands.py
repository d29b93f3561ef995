"""The merge commands of a lead: ``absorb``, ``merge_into`` and ``restore``
(``leadkit._lead_merging``, a part of ``leadkit.lead.Lead``; ``leadkit.merging`` plans them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from leadkit.errors import InvalidValue, LeadMerged
from leadkit.events import LeadMergedInto, LeadsMerged, LeadUnmerged
from leadkit.lead import Lead, replay
from leadkit.patch import LeadPatch
from leadkit.scoring.result import ManualScore
from leadkit.status import LeadState, StatusReason
from leadkit.timeline import Activity, ActivityKind, Note, Stakeholder, StakeholderRole
from leadkit.values import ContactId, LeadId, MergeId, PersonName, UserRef

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ANN = UserRef("u1", "Ann")
BOB = UserRef("u2", "Bob")
MASTER = LeadId("L-1")
OTHER = LeadId("L-2")
M1 = MergeId("M-1")


def at(minutes: int) -> datetime:
    """A fixed, timezone-aware time ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def new_lead(lead_id: LeadId = MASTER) -> Lead:
    fields = LeadPatch(topic="Printers", name=PersonName(last="Lovelace"))
    return Lead.create(lead_id, fields, at=T0, by=ANN)


def merged_lead() -> Lead:
    return new_lead(OTHER).merge_into(MASTER, M1, at=at(1), by=ANN)


def note(number: int) -> Note:
    return Note(id=number, text=f"note {number}", at=at(2), by=BOB)


def activity(number: int) -> Activity:
    return Activity(id=number, kind=ActivityKind.PHONE_CALL, subject="call", at=at(2), by=BOB)


def absorb_plain(
    master: Lead, notes: tuple[Note, ...] = (), activities: tuple[Activity, ...] = ()
) -> Lead:
    """``master`` absorbing moved entries from OTHER and no surviving value."""
    return master.absorb(
        M1,
        (OTHER,),
        LeadPatch(),
        at=at(3),
        by=BOB,
        ticked_criteria=frozenset(),
        manual_score=None,
        notes=notes,
        activities=activities,
    )


# -------------------------------------------------------------------------------------------
# absorb


def test_absorbing_records_every_surviving_value_and_moved_child() -> None:
    master = new_lead().add_note("mine", at=at(1), by=ANN)  # timeline number 1
    other = new_lead(OTHER)
    manual = ManualScore(stars=4, author=BOB, at=at(1))
    helper = Stakeholder(ContactId("C-1"), StakeholderRole.DECISION_MAKER)
    absorbed = master.absorb(
        M1,
        (OTHER,),
        LeadPatch(topic="Copiers"),
        at=at(3),
        by=BOB,
        ticked_criteria=frozenset({"has_budget"}),
        manual_score=manual,
        notes=(note(3),),
        activities=(activity(2),),
        stakeholders=(helper,),
        before=(master, other),
    )
    event = absorbed.pending_events[-1]
    assert event == LeadsMerged(
        lead_id=MASTER,
        at=at(3),
        by=BOB,
        merge_id=M1,
        merged=(OTHER,),
        changed=LeadPatch(topic="Copiers"),
        ticked_criteria=frozenset({"has_budget"}),
        manual_score=manual,
        notes=(note(3),),
        activities=(activity(2),),
        stakeholders=(helper,),
        before=(master, other),
    )
    assert isinstance(event, LeadsMerged)
    assert all(lead.pending_events == () for lead in event.before)
    assert absorbed.topic == "Copiers"
    assert absorbed.manual_score == manual
    assert absorbed.ticked_criteria == frozenset({"has_budget"})
    assert absorbed.stakeholders == (helper,)
    assert [n.id for n in absorbed.notes] == [1, 3]
    assert [a.id for a in absorbed.activities] == [2]
    assert absorbed.timeline_seq == 3
    assert (absorbed.modified_at, absorbed.modified_by) == (at(3), BOB)
    assert replay(absorbed.pending_events) == absorbed


def test_a_closed_master_may_absorb() -> None:
    master = new_lead().disqualify(StatusReason.LOST, at=at(1), by=ANN)
    absorbed = absorb_plain(master)
    assert absorbed.state is LeadState.DISQUALIFIED
    assert isinstance(absorbed.pending_events[-1], LeadsMerged)


@pytest.mark.parametrize(
    ("notes", "activities", "numbers"),
    [
        ((note(1),), (), [1]),  # 1 is taken: the next free number is 2
        ((note(2), note(2)), (), [2, 2]),
        ((note(2),), (activity(4),), [2, 4]),  # a gap
        ((), (activity(3),), [3]),
    ],
)
def test_moved_entries_must_follow_the_masters_timeline(
    notes: tuple[Note, ...], activities: tuple[Activity, ...], numbers: list[int]
) -> None:
    master = new_lead().add_note("mine", at=at(1), by=ANN)
    with pytest.raises(InvalidValue) as caught:
        absorb_plain(master, notes, activities)
    assert caught.value.field == "notes"
    assert caught.value.value == numbers
    assert caught.value.reason == "moved entries must follow the timeline numbering"


def test_moved_entries_in_any_order_that_fill_the_next_numbers_are_taken() -> None:
    master = new_lead().add_note("mine", at=at(1), by=ANN)
    absorbed = absorb_plain(master, (note(3),), (activity(2),))
    assert absorbed.timeline_seq == 3


# -------------------------------------------------------------------------------------------
# merge_into


def test_merging_into_a_master_deactivates_the_lead() -> None:
    lead = new_lead(OTHER).add_note("n", at=at(1), by=ANN).mark_contacted(at=at(1), by=ANN)
    merged = lead.merge_into(MASTER, M1, at=at(2), by=BOB)
    assert merged.pending_events[-1] == LeadMergedInto(
        lead_id=OTHER,
        at=at(2),
        by=BOB,
        merge_id=M1,
        master_id=MASTER,
        previous_state=LeadState.OPEN,
        previous=StatusReason.CONTACTED,
    )
    assert (merged.state, merged.reason) == (LeadState.DISQUALIFIED, StatusReason.CANCELED)
    assert (merged.merged_into, merged.merge_id) == (MASTER, M1)
    assert (merged.notes, merged.activities, merged.stakeholders) == ((), (), ())
    assert merged.is_merged
    assert replay(merged.pending_events) == merged


def test_a_lead_cannot_be_merged_into_itself() -> None:
    with pytest.raises(InvalidValue) as caught:
        new_lead().merge_into(MASTER, M1, at=at(2), by=BOB)
    assert (caught.value.field, caught.value.value, caught.value.reason) == (
        "master_id",
        MASTER,
        "a lead cannot be merged into itself",
    )


# -------------------------------------------------------------------------------------------
# LeadMerged: what a merged lead refuses, naming the command


@pytest.mark.parametrize(
    ("action", "command"),
    [
        ("merge", lambda lead: lead.merge_into(LeadId("L-3"), M1, at=at(5), by=BOB)),
        (
            "merge into",
            absorb_plain,
        ),
        ("add a note to", lambda lead: lead.add_note("n", at=at(5), by=BOB)),
        (
            "log an activity on",
            lambda lead: lead.log_activity(ActivityKind.TASK, "s", at=at(5), by=BOB),
        ),
        ("complete an activity of", lambda lead: lead.complete_activity(1, at=at(5), by=BOB)),
        ("reactivate", lambda lead: lead.reactivate(at=at(5), by=BOB)),
    ],
)
def test_a_merged_lead_refuses_naming_the_lead_its_master_and_the_action(
    action: str, command: Callable[[Lead], Lead]
) -> None:
    with pytest.raises(LeadMerged) as caught:
        command(merged_lead())
    assert (caught.value.lead_id, caught.value.master_id, caught.value.action) == (
        OTHER,
        MASTER,
        action,
    )


# -------------------------------------------------------------------------------------------
# restore


def test_restoring_takes_every_field_from_the_image_but_the_version() -> None:
    image = new_lead(OTHER).add_note("n", at=at(1), by=ANN).clear_events()
    merged = merged_lead()
    restored = merged.restore(second := MergeId("M-2"), image, at=at(9), by=BOB)
    assert restored.pending_events[-1] == LeadUnmerged(
        lead_id=OTHER, at=at(9), by=BOB, merge_id=second, restored=image
    )
    event = restored.pending_events[-1]
    assert isinstance(event, LeadUnmerged)
    assert event.restored.pending_events == ()
    assert restored == image
    assert replay(restored.pending_events) == restored


def test_restoring_another_leads_image_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        merged_lead().restore(M1, new_lead(), at=at(9), by=BOB)
    assert (caught.value.field, caught.value.value, caught.value.reason) == (
        "restored",
        MASTER,
        "not an image of lead L-2",
    )
