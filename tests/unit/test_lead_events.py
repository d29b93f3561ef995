"""How each event changes a lead: ``_apply``, ``replay`` and the appliers of
``leadkit._lead_apply`` (the single place where a lead's state changes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from leadkit.errors import InvalidValue
from leadkit.events import LeadCreated, LeadEvent, LeadRated, StatusReasonChanged
from leadkit.fields import Rating
from leadkit.lead import Lead, replay
from leadkit.patch import LeadPatch
from leadkit.status import LeadState, StatusReason
from leadkit.timeline import ActivityKind, Stakeholder, StakeholderRole
from leadkit.values import AccountId, ContactId, LeadId, OpportunityId, PersonName, UserRef

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ANN = UserRef("u1", "Ann")
BOB = UserRef("u2", "Bob")
LID = LeadId("L-1")


def at(minutes: int) -> datetime:
    """A fixed, timezone-aware time ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def new_lead() -> Lead:
    fields = LeadPatch(topic="Printers", name=PersonName(last="Lovelace"))
    return Lead.create(LID, fields, at=T0, by=ANN)


def _refusal(build: Callable[[], object]) -> tuple[str, object, str]:
    with pytest.raises(InvalidValue) as caught:
        build()
    return caught.value.field, caught.value.value, caught.value.reason


# -------------------------------------------------------------------------------------------
# The history's shape


def test_replay_refusals_name_the_events_and_the_exact_reason() -> None:
    created = new_lead().pending_events[0]
    contacted = new_lead().mark_contacted(at=at(1), by=ANN).pending_events[-1]
    assert _refusal(lambda: replay([])) == ("events", (), "an empty history rebuilds nothing")
    assert _refusal(lambda: replay([contacted])) == (
        "events",
        contacted,
        "the first event must be LeadCreated",
    )
    assert _refusal(lambda: replay([created, created])) == (
        "events",
        created,
        "LeadCreated must be the first event",
    )


@attrs.frozen(kw_only=True)
class Unknown(LeadEvent):
    """An event type no applier knows."""


@attrs.frozen(kw_only=True)
class LoudRating(LeadRated):
    """A host's subclass of a known event: it applies like its base."""


def test_an_event_of_an_unknown_type_is_refused_naming_it() -> None:
    event = Unknown(lead_id=LID, at=at(1), by=ANN)
    lead = new_lead()
    assert _refusal(lambda: lead.apply(event)) == (
        "events",
        event,
        "unknown event type Unknown",
    )


def test_a_subclass_of_a_known_event_applies_like_its_base() -> None:
    event = LoudRating(lead_id=LID, at=at(1), by=BOB, rating=Rating.HOT, previous=None)
    applied = new_lead().apply(event)
    assert applied.rating is Rating.HOT
    assert (applied.modified_at, applied.modified_by) == (at(1), BOB)


def test_an_event_made_naive_after_its_checks_is_refused_on_apply() -> None:
    # Events refuse a naive time when built; apply checks again (a store may bypass __init__).
    event = StatusReasonChanged(
        lead_id=LID, at=at(1), by=ANN, reason=StatusReason.CONTACTED, previous=StatusReason.NEW
    )
    naive = at(1).replace(tzinfo=None)
    object.__setattr__(event, "at", naive)
    lead = new_lead()
    field, value, _ = _refusal(lambda: lead.apply(event))
    assert (field, value) == ("at", naive)
    created = new_lead().pending_events[0]
    assert isinstance(created, LeadCreated)
    object.__setattr__(created, "at", naive)
    field, value, _ = _refusal(lambda: replay([created]))
    assert (field, value) == ("at", naive)


def test_creation_stamps_the_creator_and_the_owner() -> None:
    lead = Lead.create(
        LID,
        LeadPatch(topic="Printers", name=PersonName(last="Lovelace")),
        at=at(3),
        by=ANN,
        owner=BOB,
        reason=StatusReason.CONTACTED,
    )
    assert (lead.created_at, lead.created_by, lead.modified_at, lead.modified_by) == (
        at(3),
        ANN,
        at(3),
        ANN,
    )
    assert (lead.owner, lead.reason, lead.state) == (BOB, StatusReason.CONTACTED, LeadState.OPEN)
    assert (lead.topic, lead.name.last) == ("Printers", "Lovelace")
    assert replay(lead.pending_events) == lead


# -------------------------------------------------------------------------------------------
# Each applier changes only what its event names


def two_notes_and_activities() -> Lead:
    return (
        new_lead()
        .add_note("first", at=at(1), by=ANN)
        .add_note("second", at=at(2), by=ANN)
        .log_activity(ActivityKind.TASK, "one", at=at(3), by=ANN)
        .log_activity(ActivityKind.TASK, "two", at=at(4), by=ANN)
    )


def test_editing_a_note_changes_only_that_note_and_stamps_it() -> None:
    lead = two_notes_and_activities()
    edited = lead.edit_note(2, at=at(9), by=BOB, text="changed", title="T")
    first, second = edited.notes
    assert first == lead.notes[0]
    assert (second.text, second.title, second.edited_at, second.edited_by) == (
        "changed",
        "T",
        at(9),
        BOB,
    )
    assert replay(edited.pending_events) == edited


def test_removing_a_note_removes_only_that_note() -> None:
    lead = two_notes_and_activities()
    removed = lead.remove_note(1, at=at(9), by=BOB)
    assert removed.notes == (lead.notes[1],)
    assert removed.timeline_seq == lead.timeline_seq == 4
    assert replay(removed.pending_events) == removed


def test_completing_an_activity_completes_only_that_activity() -> None:
    lead = two_notes_and_activities()
    done = lead.complete_activity(4, at=at(9), by=BOB, done_at=at(8))
    one, two = done.activities
    assert one == lead.activities[0]
    assert two.done_at == at(8)
    assert replay(done.pending_events) == done


def test_timeline_numbers_keep_the_highest_seen() -> None:
    lead = two_notes_and_activities()
    assert [n.id for n in lead.notes] == [1, 2]
    assert [a.id for a in lead.activities] == [3, 4]
    assert lead.timeline_seq == 4


def test_removing_a_stakeholder_keeps_the_others() -> None:
    ada, grace = ContactId("C-1"), ContactId("C-2")
    lead = (
        new_lead()
        .add_stakeholder(ada, at=at(1), by=ANN)
        .add_stakeholder(grace, StakeholderRole.DECISION_MAKER, at=at(2), by=ANN)
        .add_stakeholder(ada, StakeholderRole.DECISION_MAKER, at=at(3), by=ANN)
    )
    removed = lead.remove_stakeholder(ada, StakeholderRole.DECISION_MAKER, at=at(4), by=BOB)
    assert removed.stakeholders == (
        Stakeholder(ada, StakeholderRole.STAKEHOLDER),
        Stakeholder(grace, StakeholderRole.DECISION_MAKER),
    )
    assert replay(removed.pending_events) == removed


def test_qualifying_records_each_reference_and_a_requalification_keeps_them() -> None:
    account, contact, deal = AccountId("A-1"), ContactId("C-1"), OpportunityId("O-1")
    lead = new_lead().mark_qualified(
        at=at(1), by=BOB, account_id=account, contact_id=contact, opportunity_id=deal
    )
    assert (lead.qualified_account, lead.qualified_contact, lead.qualifying_opportunity) == (
        account,
        contact,
        deal,
    )
    again = lead.reactivate(at=at(2), by=ANN).mark_qualified(at=at(3), by=ANN)
    assert (again.qualified_account, again.qualified_contact, again.qualifying_opportunity) == (
        account,
        contact,
        deal,
    )
    other = AccountId("A-2")
    moved = lead.reactivate(at=at(2), by=ANN).mark_qualified(at=at(3), by=ANN, account_id=other)
    assert (moved.qualified_account, moved.qualified_contact) == (other, contact)
    assert replay(moved.pending_events) == moved


def test_linking_records_the_link_and_the_filled_values() -> None:
    @attrs.frozen
    class Account:
        id: AccountId
        name: str

    lead = new_lead().link_account(Account(AccountId("A-1"), "Acme"), at=at(1), by=BOB)
    assert (lead.existing_account, lead.company) == (AccountId("A-1"), "Acme")
    unlinked = lead.unlink_account(at=at(2), by=ANN)
    assert (unlinked.existing_account, unlinked.company) == (None, "Acme")
    assert (unlinked.modified_at, unlinked.modified_by) == (at(2), ANN)
    assert replay(unlinked.pending_events) == unlinked
