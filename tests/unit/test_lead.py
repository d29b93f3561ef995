"""Specification of the Lead aggregate: commands, lifecycle rules and replay (leadkit.lead)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from leadkit.errors import IllegalTransition, InvalidValue, LeadClosed, OpportunityLinked
from leadkit.events import (
    ActivityCompleted,
    ActivityLogged,
    ExistingAccountLinked,
    ExistingAccountUnlinked,
    ExistingContactLinked,
    ExistingContactUnlinked,
    LeadAssigned,
    LeadCreated,
    LeadDisqualified,
    LeadQualified,
    LeadRated,
    LeadReactivated,
    LeadUpdated,
    NoteAdded,
    NoteEdited,
    NoteRemoved,
    OpportunityUnlinked,
    StakeholderAdded,
    StakeholderRemoved,
    StatusReasonChanged,
)
from leadkit.fields import Rating
from leadkit.lead import AUTOFILL_FROM_CONTACT, Lead, replay
from leadkit.patch import LeadPatch
from leadkit.profiles import BCM_PROFILE, FieldProfile, FieldRule
from leadkit.status import LeadState, StatusReason
from leadkit.timeline import ActivityKind, Attachment, Stakeholder, StakeholderRole
from leadkit.values import (
    AccountId,
    ContactId,
    EmailAddress,
    LeadId,
    MergeId,
    Money,
    OpportunityId,
    PersonName,
    PhoneNumber,
    UserRef,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
NAIVE = datetime(2024, 5, 1, 9, 0)
ANN = UserRef("u1", "Ann")
BOB = UserRef("u2", "Bob")
LID = LeadId("L-1")
ACME = AccountId("A-1")
ADA = ContactId("C-1")
GRACE = ContactId("C-2")
DEAL = OpportunityId("O-1")
PDF = Attachment("offer.pdf", "application/pdf", 10, "ab" * 32)


def at(minutes: int) -> datetime:
    """A fixed, timezone-aware time ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


@attrs.frozen
class FakeAccount:
    """An existing account as autofill reads it."""

    id: AccountId
    name: str


@attrs.frozen
class FakeContact:
    """An existing contact as autofill reads it."""

    id: ContactId
    name: PersonName
    job_title: str = ""
    business_phone: PhoneNumber | None = None
    mobile_phone: PhoneNumber | None = None
    email: EmailAddress | None = None


def new_lead(**fields: Any) -> Lead:
    values: dict[str, Any] = {"topic": "Printers", "name": "Lovelace", **fields}
    return Lead.create(LID, LeadPatch.from_mapping(values), at=T0, by=ANN)


def qualified(lead: Lead | None = None) -> Lead:
    return (lead or new_lead()).mark_qualified(
        at=at(50), by=ANN, account_id=ACME, contact_id=ADA, opportunity_id=DEAL
    )


def disqualified(lead: Lead | None = None) -> Lead:
    return (lead or new_lead()).disqualify(StatusReason.LOST, at=at(50), by=ANN)


def events_after(before: Lead, after: Lead) -> tuple[object, ...]:
    return after.pending_events[len(before.pending_events) :]


# ---------------------------------------------------------------------------------------------
# create


def test_create_builds_an_open_new_lead_owned_by_its_creator() -> None:
    lead = new_lead(company="Contoso")

    assert lead.id == LID
    assert (lead.topic, lead.name.last, lead.company) == ("Printers", "Lovelace", "Contoso")
    assert lead.state is LeadState.OPEN
    assert lead.reason == StatusReason.NEW
    assert lead.is_open
    assert not lead.is_closed
    assert lead.owner == ANN
    assert (lead.created_at, lead.created_by) == (T0, ANN)
    assert (lead.modified_at, lead.modified_by) == (T0, ANN)
    assert lead.version == 0


def test_create_records_one_lead_created_event() -> None:
    lead = new_lead()

    assert lead.pending_events == (
        LeadCreated(
            lead_id=LID,
            at=T0,
            by=ANN,
            fields=LeadPatch(topic="Printers", name="Lovelace"),
            owner=ANN,
            reason=StatusReason.NEW,
        ),
    )


def test_create_may_give_the_lead_to_another_owner_and_an_open_reason() -> None:
    lead = Lead.create(
        LID,
        LeadPatch(topic="Printers", name="Lovelace"),
        at=T0,
        by=ANN,
        owner=BOB,
        reason=StatusReason.CONTACTED,
    )

    assert lead.owner == BOB
    assert lead.created_by == ANN
    assert lead.reason == StatusReason.CONTACTED


def test_create_refuses_a_naive_time() -> None:
    with pytest.raises(InvalidValue, match="timezone-aware") as caught:
        Lead.create(LID, LeadPatch(topic="Printers", name="Lovelace"), at=NAIVE, by=ANN)

    assert caught.value.field == "at"


@pytest.mark.parametrize(
    "reason", [StatusReason.QUALIFIED, StatusReason.LOST, StatusReason.CANCELED]
)
def test_create_refuses_a_reason_that_is_not_an_open_reason(reason: StatusReason) -> None:
    with pytest.raises(InvalidValue, match="needs an Open reason") as caught:
        Lead.create(LID, LeadPatch(topic="T", name="L"), at=T0, by=ANN, reason=reason)

    assert caught.value.field == "reason"


def test_create_lists_every_field_the_profile_finds_missing() -> None:
    with pytest.raises(InvalidValue) as caught:
        Lead.create(LID, LeadPatch(company="Contoso"), at=T0, by=ANN)

    assert caught.value.fields == ("topic", "name.last")


def test_create_lists_too_long_fields() -> None:
    with pytest.raises(InvalidValue) as caught:
        new_lead(topic="t" * 301, job_title="j" * 101)

    assert caught.value.fields == ("topic", "job_title")


def test_create_follows_the_profile_it_is_given() -> None:
    profile = FieldProfile("Company", (FieldRule("company", required=True),))

    with pytest.raises(InvalidValue) as caught:
        Lead.create(LID, LeadPatch(), at=T0, by=ANN, profile=profile)
    lead = Lead.create(LID, LeadPatch(company="Contoso"), at=T0, by=ANN, profile=profile)

    assert caught.value.fields == ("company",)
    assert lead.company == "Contoso"


def test_lead_queries() -> None:
    lead = new_lead(name="Dr. Ada Lovelace")

    assert lead.full_name == "Dr. Ada Lovelace"
    assert lead.can_qualify()
    assert lead.can_disqualify()
    assert not lead.can_reactivate()


def test_patch_values_holds_every_editable_field() -> None:
    lead = new_lead(rating="Hot", email="ada@example.com")

    values = lead.patch_values()

    assert values.topic == "Printers"
    assert values.rating is Rating.HOT
    assert values.email == EmailAddress("ada@example.com")
    assert values.business_phone is None
    assert len(values.as_dict()) == 21


def test_pending_events_take_no_part_in_equality() -> None:
    lead = new_lead()

    assert lead.clear_events() == lead
    assert lead.clear_events().pending_events == ()


def test_a_lead_is_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        new_lead().topic = "changed"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# update


def test_update_changes_fields_and_records_before_and_after_of_changed_fields_only() -> None:
    lead = new_lead(company="Contoso")

    updated = lead.update(
        LeadPatch(topic="Printers", company="Fabrikam", job_title="CTO"), at=at(5), by=BOB
    )

    assert (updated.company, updated.job_title) == ("Fabrikam", "CTO")
    assert (updated.modified_at, updated.modified_by) == (at(5), BOB)
    assert (updated.created_at, updated.created_by) == (T0, ANN)
    assert events_after(lead, updated) == (
        LeadUpdated(
            lead_id=LID,
            at=at(5),
            by=BOB,
            before=LeadPatch(company="Contoso", job_title=""),
            after=LeadPatch(company="Fabrikam", job_title="CTO"),
        ),
    )


def test_update_can_clear_a_field() -> None:
    lead = new_lead(email="ada@example.com")

    updated = lead.update(LeadPatch(email=None), at=at(5), by=ANN)

    assert updated.email is None
    event = updated.pending_events[-1]
    assert isinstance(event, LeadUpdated)
    assert event.before == LeadPatch(email="ada@example.com")
    assert event.after == LeadPatch(email=None)


@pytest.mark.parametrize(
    "patch",
    [LeadPatch(), LeadPatch(topic="Printers"), LeadPatch(topic=" Printers ", company=None)],
)
def test_an_update_that_changes_nothing_returns_the_same_lead_without_an_event(
    patch: LeadPatch,
) -> None:
    lead = new_lead()

    assert lead.update(patch, at=at(5), by=BOB) is lead


def test_an_update_breaking_the_profile_is_refused_and_changes_nothing() -> None:
    lead = new_lead()

    with pytest.raises(InvalidValue) as caught:
        lead.update(LeadPatch(topic="", name=None), at=at(5), by=ANN)

    assert caught.value.fields == ("topic", "name.last")
    assert lead.topic == "Printers"
    assert len(lead.pending_events) == 1


def test_update_follows_the_profile_it_is_given() -> None:
    lead = Lead.create(LID, LeadPatch(name="Ada"), at=T0, by=ANN, profile=BCM_PROFILE)

    updated = lead.update(LeadPatch(topic=""), at=at(5), by=ANN, profile=BCM_PROFILE)
    with pytest.raises(InvalidValue) as caught:
        updated.update(LeadPatch(name=None), at=at(6), by=ANN, profile=BCM_PROFILE)

    assert updated is lead  # the topic was already empty
    assert caught.value.fields == ("name.full",)


# ---------------------------------------------------------------------------------------------
# rate


def test_rate_sets_the_rating_and_records_the_previous_one() -> None:
    lead = new_lead()

    hot = lead.rate(Rating.HOT, at=at(1), by=ANN)
    cold = hot.rate(Rating.COLD, at=at(2), by=ANN)
    cleared = cold.rate(None, at=at(3), by=ANN)

    assert (hot.rating, cold.rating, cleared.rating) == (Rating.HOT, Rating.COLD, None)
    assert events_after(lead, cleared) == (
        LeadRated(lead_id=LID, at=at(1), by=ANN, rating=Rating.HOT, previous=None),
        LeadRated(lead_id=LID, at=at(2), by=ANN, rating=Rating.COLD, previous=Rating.HOT),
        LeadRated(lead_id=LID, at=at(3), by=ANN, rating=None, previous=Rating.COLD),
    )


def test_rating_with_the_current_rating_changes_nothing() -> None:
    lead = new_lead(rating="Warm")

    assert lead.rate(Rating.WARM, at=at(1), by=ANN) is lead


def test_rate_refuses_what_is_not_a_rating() -> None:
    with pytest.raises(InvalidValue) as caught:
        new_lead().rate(7, at=at(1), by=ANN)  # type: ignore[arg-type]

    assert caught.value.field == "rating"


# ---------------------------------------------------------------------------------------------
# Existing account and contact (autofill)


def test_linking_an_account_fills_an_empty_company_and_records_it() -> None:
    lead = new_lead()

    linked = lead.link_account(FakeAccount(ACME, "Contoso"), at=at(1), by=ANN)

    assert linked.existing_account == ACME
    assert linked.company == "Contoso"
    assert events_after(lead, linked) == (
        ExistingAccountLinked(
            lead_id=LID, at=at(1), by=ANN, account_id=ACME, filled=LeadPatch(company="Contoso")
        ),
    )


def test_linking_an_account_never_overwrites_a_company_the_user_typed() -> None:
    lead = new_lead(company="Fabrikam")

    linked = lead.link_account(FakeAccount(ACME, "Contoso"), at=at(1), by=ANN)

    assert linked.company == "Fabrikam"
    event = linked.pending_events[-1]
    assert isinstance(event, ExistingAccountLinked)
    assert event.filled.is_empty


def test_linking_an_account_whose_name_breaks_the_profile_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        new_lead().link_account(FakeAccount(ACME, "C" * 101), at=at(1), by=ANN)

    assert caught.value.fields == ("company",)


def test_unlinking_the_account_keeps_the_filled_company() -> None:
    linked = new_lead().link_account(FakeAccount(ACME, "Contoso"), at=at(1), by=ANN)

    unlinked = linked.unlink_account(at=at(2), by=ANN)

    assert unlinked.existing_account is None
    assert unlinked.company == "Contoso"
    assert unlinked.pending_events[-1] == ExistingAccountUnlinked(
        lead_id=LID, at=at(2), by=ANN, account_id=ACME
    )


def test_unlinking_an_account_when_none_is_linked_is_refused() -> None:
    with pytest.raises(InvalidValue, match="no account is linked") as caught:
        new_lead().unlink_account(at=at(1), by=ANN)

    assert caught.value.field == "existing_account"


def test_autofill_reads_exactly_these_contact_fields() -> None:
    assert AUTOFILL_FROM_CONTACT == (
        "name.first",
        "name.last",
        "job_title",
        "business_phone",
        "mobile_phone",
        "email",
    )


def test_linking_a_contact_fills_only_empty_fields_and_records_what_it_filled() -> None:
    lead = new_lead(name="Lovelace", mobile_phone="+46 70 111 11 11")
    contact = FakeContact(
        ADA,
        PersonName(first="Ada", last="Byron"),
        job_title="Analyst",
        business_phone=PhoneNumber("+44 20 7946 0958"),
        mobile_phone=PhoneNumber("+44 7700 900123"),
        email=EmailAddress("ada@example.com"),
    )

    linked = lead.link_contact(contact, at=at(1), by=ANN)

    assert linked.existing_contact == ADA
    assert linked.name == PersonName(first="Ada", last="Lovelace")  # last name kept
    assert linked.job_title == "Analyst"
    assert linked.business_phone == PhoneNumber("+44 20 7946 0958")
    assert linked.mobile_phone == PhoneNumber("+46 70 111 11 11")  # typed value kept
    assert linked.email == EmailAddress("ada@example.com")
    assert events_after(lead, linked) == (
        ExistingContactLinked(
            lead_id=LID,
            at=at(1),
            by=ANN,
            contact_id=ADA,
            filled=LeadPatch(
                name=PersonName(first="Ada", last="Lovelace"),
                job_title="Analyst",
                business_phone=PhoneNumber("+44 20 7946 0958"),
                email=EmailAddress("ada@example.com"),
            ),
        ),
    )


def test_linking_a_contact_never_overwrites_values_the_user_typed() -> None:
    lead = new_lead(name="Grace Hopper", job_title="Admiral", email="grace@example.com")
    contact = FakeContact(
        ADA, PersonName(first="Ada", last="Byron"), "Analyst", email=EmailAddress("a@b.se")
    )

    linked = lead.link_contact(contact, at=at(1), by=ANN)

    assert linked.name == lead.name
    assert linked.job_title == "Admiral"
    assert linked.email == EmailAddress("grace@example.com")
    event = linked.pending_events[-1]
    assert isinstance(event, ExistingContactLinked)
    assert event.filled.is_empty


def test_a_contact_with_blank_fields_fills_nothing() -> None:
    lead = new_lead()

    linked = lead.link_contact(FakeContact(ADA, PersonName()), at=at(1), by=ANN)

    event = linked.pending_events[-1]
    assert isinstance(event, ExistingContactLinked)
    assert event.filled.is_empty
    assert linked.name == lead.name


def test_linking_a_contact_whose_values_break_the_profile_is_refused() -> None:
    lead = new_lead(name="Lovelace")
    contact = FakeContact(ADA, PersonName(first="F" * 51, last="Byron"))

    with pytest.raises(InvalidValue) as caught:
        lead.link_contact(contact, at=at(1), by=ANN)

    assert caught.value.fields == ("name.first",)


def test_unlinking_the_contact_keeps_the_filled_values() -> None:
    contact = FakeContact(ADA, PersonName(first="Ada"), job_title="Analyst")
    linked = new_lead().link_contact(contact, at=at(1), by=ANN)

    unlinked = linked.unlink_contact(at=at(2), by=ANN)

    assert unlinked.existing_contact is None
    assert unlinked.job_title == "Analyst"
    assert unlinked.pending_events[-1] == ExistingContactUnlinked(
        lead_id=LID, at=at(2), by=ANN, contact_id=ADA
    )


def test_unlinking_a_contact_when_none_is_linked_is_refused() -> None:
    with pytest.raises(InvalidValue, match="no contact is linked") as caught:
        new_lead().unlink_contact(at=at(1), by=ANN)

    assert caught.value.field == "existing_contact"


# ---------------------------------------------------------------------------------------------
# Notes


def test_notes_are_numbered_in_order_and_recorded() -> None:
    lead = new_lead()

    with_notes = lead.add_note("First call", at=at(1), by=ANN).add_note(
        "", at=at(2), by=BOB, title="Offer", attachment=PDF
    )

    first, second = with_notes.notes
    assert (first.id, first.text, first.at, first.by) == (1, "First call", at(1), ANN)
    assert (second.id, second.title, second.attachment) == (2, "Offer", PDF)
    assert with_notes.note(2) == second
    assert events_after(lead, with_notes) == (
        NoteAdded(lead_id=LID, at=at(1), by=ANN, note=first),
        NoteAdded(lead_id=LID, at=at(2), by=BOB, note=second),
    )


def test_note_ids_are_never_reused_after_a_removal() -> None:
    lead = new_lead().add_note("one", at=at(1), by=ANN).add_note("two", at=at(2), by=ANN)

    lead = lead.remove_note(2, at=at(3), by=ANN).add_note("three", at=at(4), by=ANN)

    assert [n.id for n in lead.notes] == [1, 3]
    assert replay(lead.pending_events).add_note("four", at=at(5), by=ANN).notes[-1].id == 4


def test_notes_and_activities_share_one_numbering() -> None:
    lead = (
        new_lead()
        .add_note("one", at=at(1), by=ANN)
        .log_activity(ActivityKind.PHONE_CALL, "Call", at=at(2), by=ANN)
        .add_note("three", at=at(3), by=ANN)
    )

    assert [n.id for n in lead.notes] == [1, 3]
    assert [a.id for a in lead.activities] == [2]
    assert lead.timeline_seq == 3


def test_an_empty_note_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        new_lead().add_note("  ", at=at(1), by=ANN)

    assert caught.value.field == "note.text"


def test_a_note_at_a_naive_time_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        new_lead().add_note("text", at=NAIVE, by=ANN)

    assert caught.value.field == "note.at"


def test_editing_a_note_records_the_previous_values() -> None:
    lead = new_lead().add_note("draft", at=at(1), by=ANN, title="Call")

    edited = lead.edit_note(1, at=at(2), by=BOB, text="final", attachment=PDF)

    note = edited.note(1)
    assert (note.text, note.title, note.attachment) == ("final", "Call", PDF)
    assert (note.at, note.by) == (at(1), ANN)
    assert (note.edited_at, note.edited_by) == (at(2), BOB)
    assert edited.pending_events[-1] == NoteEdited(
        lead_id=LID,
        at=at(2),
        by=BOB,
        note_id=1,
        title="Call",
        text="final",
        attachment=PDF,
        previous_title="Call",
        previous_text="draft",
        previous_attachment=None,
    )


def test_editing_a_note_can_drop_its_attachment() -> None:
    lead = new_lead().add_note("offer", at=at(1), by=ANN, attachment=PDF)

    edited = lead.edit_note(1, at=at(2), by=ANN, attachment=None)

    assert edited.note(1).attachment is None


def test_an_edit_that_changes_nothing_returns_the_same_lead() -> None:
    lead = new_lead().add_note("text", at=at(1), by=ANN, title="T")

    assert lead.edit_note(1, at=at(2), by=ANN) is lead
    assert lead.edit_note(1, at=at(2), by=ANN, text="text", title="T") is lead


def test_editing_a_note_into_an_empty_note_is_refused() -> None:
    lead = new_lead().add_note("text", at=at(1), by=ANN)

    with pytest.raises(InvalidValue) as caught:
        lead.edit_note(1, at=at(2), by=ANN, text="")

    assert caught.value.field == "note.text"


@pytest.mark.parametrize("command", ["edit", "remove", "query"])
def test_an_unknown_note_is_refused(command: str) -> None:
    lead = new_lead().add_note("text", at=at(1), by=ANN)
    run: dict[str, Callable[[], object]] = {
        "edit": lambda: lead.edit_note(9, at=at(2), by=ANN, text="x"),
        "remove": lambda: lead.remove_note(9, at=at(2), by=ANN),
        "query": lambda: lead.note(9),
    }

    with pytest.raises(InvalidValue, match="no such note") as caught:
        run[command]()

    assert caught.value.field == "note_id"
    assert caught.value.value == 9


def test_removing_a_note_removes_it_and_records_it() -> None:
    lead = new_lead().add_note("one", at=at(1), by=ANN).add_note("two", at=at(2), by=ANN)

    removed = lead.remove_note(1, at=at(3), by=BOB)

    assert [n.id for n in removed.notes] == [2]
    assert removed.pending_events[-1] == NoteRemoved(lead_id=LID, at=at(3), by=BOB, note_id=1)


# ---------------------------------------------------------------------------------------------
# Activities


def test_logging_an_activity_adds_it_to_the_timeline() -> None:
    lead = new_lead()

    logged = lead.log_activity(
        ActivityKind.MEETING, "Demo", at=at(1), by=ANN, description="On site", due_at=at(60)
    )

    (activity,) = logged.activities
    assert (activity.id, activity.kind, activity.subject) == (1, ActivityKind.MEETING, "Demo")
    assert (activity.description, activity.due_at, activity.is_done) == ("On site", at(60), False)
    assert logged.activity(1) == activity
    assert events_after(lead, logged) == (
        ActivityLogged(lead_id=LID, at=at(1), by=ANN, activity=activity),
    )


def test_completing_an_activity_marks_it_done_at_the_command_time_by_default() -> None:
    lead = new_lead().log_activity(ActivityKind.TASK, "Send offer", at=at(1), by=ANN)

    done = lead.complete_activity(1, at=at(5), by=BOB)
    done_earlier = lead.complete_activity(1, at=at(5), by=BOB, done_at=at(3))

    assert done.activity(1).done_at == at(5)
    assert done.activity(1).is_done
    assert done_earlier.activity(1).done_at == at(3)
    assert done.pending_events[-1] == ActivityCompleted(
        lead_id=LID, at=at(5), by=BOB, activity_id=1, done_at=at(5)
    )


def test_completing_an_activity_twice_is_refused() -> None:
    lead = new_lead().log_activity(ActivityKind.TASK, "Send offer", at=at(1), by=ANN)
    done = lead.complete_activity(1, at=at(2), by=ANN)

    with pytest.raises(InvalidValue, match="already done") as caught:
        done.complete_activity(1, at=at(3), by=ANN)

    assert caught.value.field == "activity_id"


def test_an_activity_logged_as_done_cannot_be_completed_again() -> None:
    lead = new_lead().log_activity(ActivityKind.PHONE_CALL, "Call", at=at(1), by=ANN, done_at=at(1))

    with pytest.raises(InvalidValue, match="already done"):
        lead.complete_activity(1, at=at(2), by=ANN)


def test_completing_an_unknown_activity_is_refused() -> None:
    with pytest.raises(InvalidValue, match="no such activity") as caught:
        new_lead().complete_activity(1, at=at(2), by=ANN)

    assert caught.value.field == "activity_id"


def test_completing_an_activity_at_a_naive_time_is_refused() -> None:
    lead = new_lead().log_activity(ActivityKind.TASK, "Task", at=at(1), by=ANN)

    with pytest.raises(InvalidValue) as caught:
        lead.complete_activity(1, at=at(2), by=ANN, done_at=NAIVE)

    assert caught.value.field == "done_at"


def test_logging_an_activity_without_a_subject_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        new_lead().log_activity(ActivityKind.TASK, "", at=at(1), by=ANN)

    assert caught.value.field == "activity.subject"


# ---------------------------------------------------------------------------------------------
# Stakeholders


def test_adding_and_removing_stakeholders_is_recorded() -> None:
    lead = new_lead()

    added = lead.add_stakeholder(ADA, at=at(1), by=ANN).add_stakeholder(
        ADA, StakeholderRole.DECISION_MAKER, at=at(2), by=ANN
    )
    removed = added.remove_stakeholder(ADA, at=at(3), by=ANN)

    assert added.stakeholders == (
        Stakeholder(ADA),
        Stakeholder(ADA, StakeholderRole.DECISION_MAKER),
    )
    assert removed.stakeholders == (Stakeholder(ADA, StakeholderRole.DECISION_MAKER),)
    assert events_after(lead, removed) == (
        StakeholderAdded(lead_id=LID, at=at(1), by=ANN, stakeholder=Stakeholder(ADA)),
        StakeholderAdded(
            lead_id=LID,
            at=at(2),
            by=ANN,
            stakeholder=Stakeholder(ADA, StakeholderRole.DECISION_MAKER),
        ),
        StakeholderRemoved(lead_id=LID, at=at(3), by=ANN, stakeholder=Stakeholder(ADA)),
    )


def test_adding_the_same_stakeholder_twice_is_refused_whatever_the_role_case() -> None:
    lead = new_lead().add_stakeholder(ADA, StakeholderRole.DECISION_MAKER, at=at(1), by=ANN)

    with pytest.raises(InvalidValue, match="already a") as caught:
        lead.add_stakeholder(ADA, StakeholderRole("decision maker"), at=at(2), by=ANN)

    assert caught.value.field == "stakeholders"


def test_removing_a_stakeholder_the_lead_does_not_have_is_refused() -> None:
    lead = new_lead().add_stakeholder(ADA, at=at(1), by=ANN)

    with pytest.raises(InvalidValue, match="is not a") as caught:
        lead.remove_stakeholder(GRACE, at=at(2), by=ANN)
    with pytest.raises(InvalidValue):
        lead.remove_stakeholder(ADA, StakeholderRole.INFLUENCER, at=at(2), by=ANN)

    assert caught.value.field == "stakeholders"


# ---------------------------------------------------------------------------------------------
# Ownership and status reason


def test_assigning_gives_the_lead_to_a_new_owner_and_names_the_rule() -> None:
    lead = new_lead()

    assigned = lead.assign(BOB, at=at(1), by=ANN, rule="Round robin")

    assert assigned.owner == BOB
    assert assigned.pending_events[-1] == LeadAssigned(
        lead_id=LID, at=at(1), by=ANN, owner=BOB, previous=ANN, rule="Round robin"
    )


def test_assigning_by_hand_names_no_rule() -> None:
    assigned = new_lead().assign(BOB, at=at(1), by=ANN)

    assert assigned.pending_events[-1] == LeadAssigned(
        lead_id=LID, at=at(1), by=ANN, owner=BOB, previous=ANN, rule=""
    )


def test_assigning_to_the_current_owner_changes_nothing() -> None:
    lead = new_lead()

    assert lead.assign(ANN, at=at(1), by=BOB) is lead


def test_mark_contacted_moves_new_to_contacted() -> None:
    lead = new_lead()

    contacted = lead.mark_contacted(at=at(1), by=ANN)

    assert contacted.reason == StatusReason.CONTACTED
    assert contacted.state is LeadState.OPEN
    assert contacted.pending_events[-1] == StatusReasonChanged(
        lead_id=LID, at=at(1), by=ANN, reason=StatusReason.CONTACTED, previous=StatusReason.NEW
    )
    assert contacted.mark_contacted(at=at(2), by=ANN) is contacted


def test_change_reason_accepts_a_custom_open_reason() -> None:
    nurturing = StatusReason(100, "Nurturing", LeadState.OPEN)

    lead = new_lead().change_reason(nurturing, at=at(1), by=ANN)

    assert lead.reason == nurturing
    assert lead.change_reason(nurturing, at=at(2), by=ANN) is lead


@pytest.mark.parametrize("reason", [StatusReason.QUALIFIED, StatusReason.LOST])
def test_change_reason_refuses_a_reason_of_another_state(reason: StatusReason) -> None:
    with pytest.raises(InvalidValue, match="not an Open reason") as caught:
        new_lead().change_reason(reason, at=at(1), by=ANN)

    assert caught.value.field == "reason"


# ---------------------------------------------------------------------------------------------
# Disqualify


@pytest.mark.parametrize(
    "reason",
    [
        StatusReason.LOST,
        StatusReason.CANNOT_CONTACT,
        StatusReason.NO_LONGER_INTERESTED,
        StatusReason.CANCELED,
    ],
)
def test_disqualify_closes_the_lead_with_a_disqualification_reason(
    reason: StatusReason,
) -> None:
    lead = new_lead().mark_contacted(at=at(1), by=ANN)

    closed = lead.disqualify(reason, at=at(2), by=BOB)

    assert closed.state is LeadState.DISQUALIFIED
    assert closed.reason == reason
    assert closed.is_closed
    assert closed.can_reactivate()
    assert not closed.can_disqualify()
    assert closed.pending_events[-1] == LeadDisqualified(
        lead_id=LID, at=at(2), by=BOB, reason=reason, previous=StatusReason.CONTACTED
    )


@pytest.mark.parametrize("reason", [StatusReason.NEW, StatusReason.QUALIFIED])
def test_disqualify_refuses_a_reason_that_is_not_a_disqualification_reason(
    reason: StatusReason,
) -> None:
    with pytest.raises(InvalidValue, match="not a disqualification reason") as caught:
        new_lead().disqualify(reason, at=at(1), by=ANN)

    assert caught.value.field == "reason"


@pytest.mark.parametrize("close", [qualified, disqualified], ids=["qualified", "disqualified"])
def test_disqualify_from_a_closed_lead_is_an_illegal_transition(
    close: Callable[[], Lead],
) -> None:
    lead = close()

    with pytest.raises(IllegalTransition) as caught:
        lead.disqualify(StatusReason.CANCELED, at=at(60), by=ANN)

    assert caught.value.lead_id == LID
    assert caught.value.current is lead.state
    assert caught.value.requested is LeadState.DISQUALIFIED


def test_disqualify_is_refused_while_an_opportunity_is_linked() -> None:
    lead = qualified().reactivate(at=at(60), by=ANN)

    with pytest.raises(OpportunityLinked) as caught:
        lead.disqualify(StatusReason.LOST, at=at(61), by=ANN)

    assert (caught.value.lead_id, caught.value.opportunity_id) == (LID, DEAL)
    assert not lead.can_disqualify()


def test_unlinking_the_opportunity_allows_disqualify_again() -> None:
    lead = qualified().reactivate(at=at(60), by=ANN)

    unlinked = lead.unlink_opportunity(at=at(61), by=ANN)
    closed = unlinked.disqualify(StatusReason.LOST, at=at(62), by=ANN)

    assert unlinked.qualifying_opportunity is None
    assert unlinked.qualified_account == ACME  # only the opportunity link goes
    assert unlinked.can_disqualify()
    assert unlinked.pending_events[-1] == OpportunityUnlinked(
        lead_id=LID, at=at(61), by=ANN, opportunity_id=DEAL
    )
    assert closed.state is LeadState.DISQUALIFIED


def test_unlinking_an_opportunity_when_none_is_linked_is_refused() -> None:
    with pytest.raises(InvalidValue, match="no opportunity is linked") as caught:
        new_lead().unlink_opportunity(at=at(1), by=ANN)

    assert caught.value.field == "qualifying_opportunity"


# ---------------------------------------------------------------------------------------------
# Qualify


def test_mark_qualified_closes_the_lead_and_records_the_linked_records() -> None:
    lead = new_lead()

    closed = qualified(lead)

    assert closed.state is LeadState.QUALIFIED
    assert closed.reason == StatusReason.QUALIFIED
    assert (closed.qualified_account, closed.qualified_contact) == (ACME, ADA)
    assert closed.qualifying_opportunity == DEAL
    assert not closed.can_qualify()
    assert events_after(lead, closed) == (
        LeadQualified(
            lead_id=LID,
            at=at(50),
            by=ANN,
            reason=StatusReason.QUALIFIED,
            previous=StatusReason.NEW,
            account_id=ACME,
            contact_id=ADA,
            opportunity_id=DEAL,
        ),
    )


def test_mark_qualified_may_record_nothing_created() -> None:
    closed = new_lead().mark_qualified(at=at(1), by=ANN)

    assert closed.state is LeadState.QUALIFIED
    assert closed.qualifying_opportunity is None


def test_a_requalification_that_creates_nothing_keeps_the_earlier_references() -> None:
    again = qualified().reactivate(at=at(60), by=ANN).mark_qualified(at=at(61), by=ANN)

    assert (again.qualified_account, again.qualified_contact) == (ACME, ADA)
    assert again.qualifying_opportunity == DEAL


@pytest.mark.parametrize("reason", [StatusReason.NEW, StatusReason.LOST])
def test_mark_qualified_refuses_a_reason_that_is_not_a_qualified_reason(
    reason: StatusReason,
) -> None:
    with pytest.raises(InvalidValue, match="not a qualification reason") as caught:
        new_lead().mark_qualified(at=at(1), by=ANN, reason=reason)

    assert caught.value.field == "reason"


@pytest.mark.parametrize("close", [qualified, disqualified], ids=["qualified", "disqualified"])
def test_mark_qualified_from_a_closed_lead_is_an_illegal_transition(
    close: Callable[[], Lead],
) -> None:
    lead = close()

    with pytest.raises(IllegalTransition) as caught:
        lead.mark_qualified(at=at(60), by=ANN)

    assert caught.value.current is lead.state
    assert caught.value.requested is LeadState.QUALIFIED


# ---------------------------------------------------------------------------------------------
# Reactivate


def test_reactivate_reopens_a_disqualified_lead_keeping_notes_stakeholders_and_history() -> None:
    lead = (
        new_lead()
        .add_note("call", at=at(1), by=ANN)
        .add_stakeholder(ADA, at=at(2), by=ANN)
        .log_activity(ActivityKind.PHONE_CALL, "Call", at=at(3), by=ANN)
    )
    closed = disqualified(lead)

    reopened = closed.reactivate(at=at(60), by=BOB)

    assert reopened.state is LeadState.OPEN
    assert reopened.reason == StatusReason.NEW
    assert reopened.notes == lead.notes
    assert reopened.stakeholders == lead.stakeholders
    assert reopened.activities == lead.activities
    assert reopened.pending_events[: len(closed.pending_events)] == closed.pending_events
    assert reopened.pending_events[-1] == LeadReactivated(
        lead_id=LID,
        at=at(60),
        by=BOB,
        reason=StatusReason.NEW,
        previous_state=LeadState.DISQUALIFIED,
        previous=StatusReason.LOST,
    )


def test_reactivating_a_qualified_lead_keeps_the_opportunity_linked() -> None:
    reopened = qualified().reactivate(at=at(60), by=ANN, reason=StatusReason.CONTACTED)

    assert reopened.is_open
    assert reopened.reason == StatusReason.CONTACTED
    assert reopened.qualifying_opportunity == DEAL
    event = reopened.pending_events[-1]
    assert isinstance(event, LeadReactivated)
    assert event.previous_state is LeadState.QUALIFIED


def test_reactivating_an_open_lead_is_an_illegal_transition() -> None:
    with pytest.raises(IllegalTransition) as caught:
        new_lead().reactivate(at=at(1), by=ANN)

    assert caught.value.current is LeadState.OPEN
    assert caught.value.requested is LeadState.OPEN


@pytest.mark.parametrize("reason", [StatusReason.QUALIFIED, StatusReason.LOST])
def test_reactivate_refuses_a_reason_that_is_not_an_open_reason(reason: StatusReason) -> None:
    with pytest.raises(InvalidValue, match="not an Open reason") as caught:
        disqualified().reactivate(at=at(60), by=ANN, reason=reason)

    assert caught.value.field == "reason"


# ---------------------------------------------------------------------------------------------
# Closed leads are read-only (except the append-only timeline)


def _rich_lead() -> Lead:
    """An open lead with something to edit, remove or unlink."""
    return (
        new_lead()
        .add_note("note", at=at(1), by=ANN)
        .log_activity(ActivityKind.TASK, "Task", at=at(2), by=ANN)
        .add_stakeholder(ADA, at=at(3), by=ANN)
        .link_account(FakeAccount(ACME, "Contoso"), at=at(4), by=ANN)
        .link_contact(FakeContact(ADA, PersonName(first="Ada")), at=at(5), by=ANN)
    )


EDITS: dict[str, Callable[[Lead], Lead]] = {
    "update": lambda lead: lead.update(LeadPatch(topic="New topic"), at=at(90), by=ANN),
    "rate": lambda lead: lead.rate(Rating.HOT, at=at(90), by=ANN),
    "link account": lambda lead: lead.link_account(
        FakeAccount(AccountId("A-2"), "Fabrikam"), at=at(90), by=ANN
    ),
    "unlink account": lambda lead: lead.unlink_account(at=at(90), by=ANN),
    "link contact": lambda lead: lead.link_contact(
        FakeContact(GRACE, PersonName(last="Hopper")), at=at(90), by=ANN
    ),
    "unlink contact": lambda lead: lead.unlink_contact(at=at(90), by=ANN),
    "edit note": lambda lead: lead.edit_note(1, at=at(90), by=ANN, text="changed"),
    "remove note": lambda lead: lead.remove_note(1, at=at(90), by=ANN),
    "add stakeholder": lambda lead: lead.add_stakeholder(GRACE, at=at(90), by=ANN),
    "remove stakeholder": lambda lead: lead.remove_stakeholder(ADA, at=at(90), by=ANN),
    "assign": lambda lead: lead.assign(BOB, at=at(90), by=ANN),
    "change status reason": lambda lead: lead.change_reason(
        StatusReason.CONTACTED, at=at(90), by=ANN
    ),
    "unlink opportunity": lambda lead: lead.unlink_opportunity(at=at(90), by=ANN),
}


@pytest.mark.parametrize("close", [qualified, disqualified], ids=["qualified", "disqualified"])
@pytest.mark.parametrize("action", list(EDITS))
def test_a_closed_lead_refuses_edits(close: Callable[[Lead], Lead], action: str) -> None:
    lead = close(_rich_lead())

    with pytest.raises(LeadClosed) as caught:
        EDITS[action](lead)

    assert caught.value.lead_id == LID
    assert caught.value.state is lead.state
    assert caught.value.action == action


def test_a_closed_lead_refuses_to_relate_an_opportunity() -> None:
    lead = disqualified(new_lead())

    with pytest.raises(LeadClosed) as caught:
        lead.relate_opportunity(DEAL, at=at(90), by=ANN)

    assert (caught.value.lead_id, caught.value.action) == (LID, "relate opportunity")


def test_the_same_edits_are_accepted_while_the_lead_is_open() -> None:
    lead = qualified(_rich_lead()).reactivate(at=at(60), by=ANN)

    for action, edit in EDITS.items():
        changed = edit(lead)
        assert changed is not lead, action
        assert changed.pending_events[-1].at == at(90), action


def test_mark_contacted_on_a_closed_lead_is_refused() -> None:
    with pytest.raises(LeadClosed):
        disqualified().mark_contacted(at=at(90), by=ANN)


@pytest.mark.parametrize("close", [qualified, disqualified], ids=["qualified", "disqualified"])
def test_a_closed_lead_still_takes_notes_and_activities(close: Callable[[Lead], Lead]) -> None:
    lead = close(_rich_lead())

    later = (
        lead.add_note("Called after closing", at=at(90), by=ANN)
        .log_activity(ActivityKind.PHONE_CALL, "Follow-up", at=at(91), by=ANN)
        .complete_activity(2, at=at(92), by=ANN)
    )

    assert later.state is lead.state
    assert [n.id for n in later.notes] == [1, 3]
    assert [a.id for a in later.activities] == [2, 4]
    assert later.activity(2).is_done
    assert replay(later.pending_events) == later


# ---------------------------------------------------------------------------------------------
# Timeline


def test_the_timeline_lists_notes_and_activities_oldest_first() -> None:
    lead = (
        new_lead()
        .add_note("late note", at=at(30), by=ANN)
        .log_activity(ActivityKind.EMAIL, "early mail", at=at(10), by=ANN)
        .add_note("tied note", at=at(10), by=ANN)
        .log_activity(ActivityKind.TASK, "middle task", at=at(20), by=ANN)
    )

    entries = lead.timeline()

    assert [e.id for e in entries] == [2, 3, 4, 1]
    assert [e.at for e in entries] == [at(10), at(10), at(20), at(30)]


def test_an_empty_lead_has_an_empty_timeline() -> None:
    assert new_lead().timeline() == ()


# ---------------------------------------------------------------------------------------------
# replay


def test_replay_rebuilds_the_lead_the_commands_produced() -> None:
    lead = (
        _rich_lead()
        .update(
            LeadPatch(budget_amount=Money(Decimal(5000), "EUR"), rating="Warm"), at=at(6), by=ANN
        )
        .edit_note(1, at=at(7), by=BOB, title="Edited")
        .complete_activity(2, at=at(8), by=ANN)
        .assign(BOB, at=at(9), by=ANN)
        .mark_contacted(at=at(10), by=BOB)
        .mark_qualified(at=at(11), by=BOB, opportunity_id=DEAL)
        .reactivate(at=at(12), by=BOB)
        .unlink_opportunity(at=at(13), by=BOB)
        .remove_note(1, at=at(14), by=BOB)
        .remove_stakeholder(ADA, at=at(15), by=BOB)
        .unlink_account(at=at(16), by=BOB)
        .unlink_contact(at=at(17), by=BOB)
        .rate(None, at=at(18), by=BOB)
        .disqualify(StatusReason.CANCELED, at=at(19), by=BOB)
    )

    rebuilt = replay(lead.pending_events)

    assert rebuilt == lead
    assert rebuilt.pending_events == ()
    assert rebuilt.modified_at == at(19)


def test_replay_of_an_empty_history_is_refused() -> None:
    with pytest.raises(InvalidValue, match="empty history") as caught:
        replay([])

    assert caught.value.field == "events"


def test_replay_must_start_with_lead_created() -> None:
    events = new_lead().mark_contacted(at=at(1), by=ANN).pending_events

    with pytest.raises(InvalidValue, match="first event must be LeadCreated") as caught:
        replay(events[1:])

    assert caught.value.field == "events"


def test_replay_refuses_a_second_lead_created() -> None:
    created = new_lead().pending_events[0]

    with pytest.raises(InvalidValue, match="LeadCreated must be the first event") as caught:
        replay([created, created])

    assert caught.value.field == "events"


def test_replay_refuses_an_event_of_another_lead() -> None:
    mine = new_lead().pending_events
    other = Lead.create(LeadId("L-2"), LeadPatch(topic="T", name="L"), at=T0, by=ANN)
    theirs = other.mark_contacted(at=at(1), by=ANN).pending_events[-1]

    with pytest.raises(InvalidValue, match="another lead") as caught:
        replay([*mine, theirs])

    assert caught.value.field == "lead_id"
    assert caught.value.value == LeadId("L-2")


def test_apply_builds_the_next_state_without_recording_the_event() -> None:
    lead = new_lead()
    event = lead.mark_contacted(at=at(1), by=ANN).pending_events[-1]

    applied = lead.clear_events().apply(event)

    assert applied.reason == StatusReason.CONTACTED
    assert applied.pending_events == ()


# Every refusal names its field, the value refused and the exact reason -------------------


def _refusal(build: Callable[[], object]) -> tuple[str, object, str]:
    with pytest.raises(InvalidValue) as caught:
        build()
    return caught.value.field, caught.value.value, caught.value.reason


def _create(**changes: Any) -> Callable[[], object]:
    arguments: dict[str, Any] = {
        "lead_id": LID,
        "fields": LeadPatch(topic="T", name="L"),
        "at": T0,
        "by": ANN,
        **changes,
    }
    return lambda: Lead.create(**arguments)


@pytest.mark.parametrize(
    ("build", "field", "value", "reason"),
    [
        (_create(lead_id="L-1"), "lead_id", "L-1", "must be a LeadId"),
        (_create(fields={"topic": "T"}), "fields", {"topic": "T"}, "must be a LeadPatch"),
        (_create(by="u1"), "by", "u1", "must be a UserRef"),
        (_create(reason="new"), "reason", "new", "must be a StatusReason"),
        (_create(owner="u2"), "owner", "u2", "must be a UserRef or None"),
        (_create(at=NAIVE), "at", NAIVE, "must be timezone-aware (a naive datetime is refused)"),
        (
            _create(reason=StatusReason.LOST),
            "reason",
            StatusReason.LOST,
            "a new lead needs an Open reason",
        ),
        (_create(profile="bcm"), "profile", "bcm", "must be a FieldProfile"),
    ],
    ids=["id", "fields", "by", "reason type", "owner", "naive", "closed reason", "profile"],
)
def test_create_names_each_bad_argument_and_why(
    build: Callable[[], object], field: str, value: object, reason: str
) -> None:
    assert _refusal(build) == (field, value, reason)


def test_lookups_of_a_missing_note_or_activity_name_the_lead() -> None:
    lead = new_lead()

    assert _refusal(lambda: lead.note(7)) == ("note_id", 7, "lead L-1 has no such note")
    assert _refusal(lambda: lead.activity(8)) == (
        "activity_id",
        8,
        "lead L-1 has no such activity",
    )


def test_lifecycle_refusals_name_the_reason_refused() -> None:
    lead = new_lead()
    closed = disqualified()

    assert _refusal(lambda: lead.change_reason(StatusReason.LOST, at=at(1), by=ANN)) == (
        "reason",
        StatusReason.LOST,
        "not an Open reason (use qualify or disqualify)",
    )
    assert _refusal(lambda: lead.disqualify(StatusReason.NEW, at=at(1), by=ANN)) == (
        "reason",
        StatusReason.NEW,
        "not a disqualification reason",
    )
    assert _refusal(lambda: lead.mark_qualified(at=at(1), by=ANN, reason=StatusReason.LOST)) == (
        "reason",
        StatusReason.LOST,
        "not a qualification reason",
    )
    assert _refusal(lambda: closed.reactivate(at=at(60), by=ANN, reason=StatusReason.LOST)) == (
        "reason",
        StatusReason.LOST,
        "not an Open reason",
    )


def test_opportunity_link_refusals_name_the_link() -> None:
    lead = new_lead()
    related = lead.relate_opportunity(DEAL, at=at(1), by=ANN)
    other = OpportunityId("O-2")

    assert _refusal(lambda: lead.relate_opportunity("O-1", at=at(2), by=ANN)) == (  # type: ignore[arg-type]
        "opportunity_id",
        "O-1",
        "must be an OpportunityId",
    )
    assert _refusal(lambda: related.relate_opportunity(other, at=at(2), by=ANN)) == (
        "qualifying_opportunity",
        DEAL,
        "another opportunity is already related (unlink it first)",
    )
    assert _refusal(lambda: lead.unlink_opportunity(at=at(2), by=ANN)) == (
        "qualifying_opportunity",
        None,
        "no opportunity is linked",
    )


def test_link_refusals_name_what_is_missing() -> None:
    lead = new_lead()

    assert _refusal(lambda: lead.unlink_account(at=at(1), by=ANN)) == (
        "existing_account",
        None,
        "no account is linked",
    )
    assert _refusal(lambda: lead.unlink_contact(at=at(1), by=ANN)) == (
        "existing_contact",
        None,
        "no contact is linked",
    )


def test_merge_refusals_name_the_lead() -> None:
    lead = new_lead()
    other = Lead.create(LeadId("L-2"), LeadPatch(topic="T", name="L"), at=T0, by=ANN)

    assert _refusal(lambda: lead.merge_into(LID, MergeId("M-1"), at=at(1), by=ANN)) == (
        "master_id",
        LID,
        "a lead cannot be merged into itself",
    )
    assert _refusal(lambda: lead.restore(MergeId("M-1"), other, at=at(1), by=ANN)) == (
        "restored",
        LeadId("L-2"),
        "not an image of lead L-1",
    )
    created = other.pending_events[0]
    assert _refusal(lambda: lead.apply(created)) == (
        "lead_id",
        LeadId("L-2"),
        "event is for another lead than L-1",
    )


def test_a_created_lead_is_the_replayed_lead_holding_its_one_event() -> None:
    lead = Lead.create(
        LeadId("L-9"),
        LeadPatch(topic="Pumps", name=PersonName(first="Ada", last="Berg")),
        at=T0,
        by=UserRef("anna"),
    )
    (event,) = lead.pending_events

    assert isinstance(event, LeadCreated)
    rebuilt = attrs.evolve(replay([event]), pending_events=(event,))
    assert attrs.asdict(lead, recurse=False) == attrs.asdict(rebuilt, recurse=False)
