"""The lead lifecycle as a state machine, run against a plain dict model.

Hypothesis drives random commands (including ones the lead must refuse) at a real ``Lead``
and at a model that only knows the rules of the lifecycle table. After every step the lead's
state and reason match the model, replaying its events rebuilds it, and a JSON round trip
gives it back; every refused command raised the documented error and left the lead as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from leadkit import (
    ActivityKind,
    ContactId,
    IllegalTransition,
    InvalidValue,
    Lead,
    LeadClosed,
    LeadEvent,
    LeadkitError,
    LeadPatch,
    LeadState,
    OpportunityId,
    OpportunityLinked,
    Rating,
    StakeholderRole,
    StatusReason,
    UserRef,
    make_converter,
    replay,
)
from leadkit.events import (
    ActivityCompleted,
    ActivityLogged,
    LeadAssigned,
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
from leadkit.testing import FixedClock, StepClock
from leadkit.testing import strategies as s

USERS = (UserRef("u-1", "Åsa Öberg"), UserRef("u-2", "Łukasz Żak"), UserRef("u-3"))
CONTACTS = (ContactId("c-1"), ContactId("c-2"))
# "decision maker" is the same role as the preset: roles compare case-insensitively.
ROLES = (
    StakeholderRole.STAKEHOLDER,
    StakeholderRole.DECISION_MAKER,
    StakeholderRole("decision maker"),
)
OPEN, QUALIFIED, DISQUALIFIED = LeadState.OPEN, LeadState.QUALIFIED, LeadState.DISQUALIFIED

converter = make_converter()

Model = dict[str, Any]


def _model_of(lead: Lead) -> Model:
    """The model's starting point: what the lifecycle rules need to know about ``lead``."""
    return {
        "state": lead.state,
        "reason": lead.reason,
        "notes": {n.id for n in lead.notes},
        "activities": {a.id: a.is_done for a in lead.activities},
        "seq": lead.timeline_seq,
        "stakeholders": {(s.contact_id, s.role.name.casefold()) for s in lead.stakeholders},
        "opportunity": lead.qualifying_opportunity is not None,
        "owner": lead.owner,
    }


def _reopened(lead: Lead) -> Lead:
    """A qualified lead reactivated: Open, often with its opportunity still linked."""
    return lead.reactivate(at=lead.modified_at + timedelta(hours=1), by=USERS[0])


class LifecycleMachine(RuleBasedStateMachine):
    lead: Lead
    model: Model
    clock: StepClock

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.model["state"] is not OPEN

    def refused(self, error: type[Exception], command: Callable[[], Lead]) -> Exception:
        """Run a command the model says must fail; it raises exactly ``error`` and the lead
        stays as it was."""
        before = self.lead
        stored = converter.dumps(before)
        events = before.pending_events
        with pytest.raises(LeadkitError) as caught:
            command()
        assert type(caught.value) is error, f"expected {error.__name__}, got {caught.value!r}"
        assert converter.dumps(before) == stored
        assert before.pending_events == events
        return caught.value

    def accepted(
        self, event_type: type[LeadEvent], command: Callable[[], Lead], *, may_be_noop: bool = False
    ) -> Lead:
        """Run a command the model says must succeed; it records one ``event_type`` event
        (or nothing, for a command that changes nothing)."""
        before = self.lead
        after = command()
        if after is before:
            assert may_be_noop, f"{event_type.__name__} expected, nothing was recorded"
        else:
            assert after.pending_events[:-1] == before.pending_events
            assert type(after.pending_events[-1]) is event_type
        self.lead = after
        return after

    def pick(self, ids: set[int] | dict[int, bool], index: int) -> int:
        """An existing id when ``index`` is within range, else one that does not exist."""
        known = sorted(ids)
        return known[index] if index < len(known) else self.model["seq"] + 1 + index

    # -- start ---------------------------------------------------------------------------------

    @initialize(lead=s.leads() | s.leads(state=QUALIFIED).map(_reopened))
    def start(self, lead: Lead) -> None:
        self.lead = lead
        self.model = _model_of(lead)
        self.clock = StepClock(lead.modified_at + timedelta(minutes=1), step=timedelta(minutes=7))

    # -- editable fields -----------------------------------------------------------------------

    @rule(patch=s.lead_patches(required=False), who=st.sampled_from(USERS))
    def update(self, patch: LeadPatch, who: UserRef) -> None:
        run = partial(self.lead.update, patch, at=self.clock(), by=who)
        if self.closed:
            self.refused(LeadClosed, run)
            return
        after = self.accepted(LeadUpdated, run, may_be_noop=True)
        for name, value in patch.items():
            assert getattr(after, name) == value, name

    @rule()
    def clear_the_required_topic(self) -> None:
        run = partial(self.lead.update, LeadPatch(topic=""), at=self.clock(), by=USERS[0])
        if self.closed:
            self.refused(LeadClosed, run)
            return
        error = self.refused(InvalidValue, run)
        assert isinstance(error, InvalidValue)
        assert "topic" in error.fields

    @rule(rating=st.none() | st.sampled_from(Rating))
    def rate(self, rating: Rating | None) -> None:
        run = partial(self.lead.rate, rating, at=self.clock(), by=USERS[0])
        if self.closed:
            self.refused(LeadClosed, run)
            return
        assert self.accepted(LeadRated, run, may_be_noop=True).rating == rating

    @rule(owner=st.sampled_from(USERS))
    def assign(self, owner: UserRef) -> None:
        run = partial(self.lead.assign, owner, at=self.clock(), by=USERS[0])
        if self.closed:
            self.refused(LeadClosed, run)
            return
        self.accepted(LeadAssigned, run, may_be_noop=owner == self.model["owner"])
        self.model["owner"] = owner

    # -- timeline ------------------------------------------------------------------------------

    @rule(text=s.person_names().map(lambda n: n.full or "Called, no answer"))
    def add_note(self, text: str) -> None:
        after = self.accepted(
            NoteAdded, partial(self.lead.add_note, text, at=self.clock(), by=USERS[1])
        )
        self.model["seq"] += 1
        self.model["notes"].add(self.model["seq"])
        assert after.notes[-1].id == self.model["seq"]
        assert after.notes[-1].text == text

    @rule(index=st.integers(0, 2), text=st.sampled_from(("Budget confirmed", "Wants a demo")))
    def edit_note(self, index: int, text: str) -> None:
        note_id = self.pick(self.model["notes"], index)
        run = partial(self.lead.edit_note, note_id, text=text, at=self.clock(), by=USERS[1])
        if self.closed:
            self.refused(LeadClosed, run)
        elif note_id not in self.model["notes"]:
            self.refused(InvalidValue, run)
        else:
            after = self.accepted(NoteEdited, run, may_be_noop=True)
            assert after.note(note_id).text == text

    @rule(index=st.integers(0, 2))
    def remove_note(self, index: int) -> None:
        note_id = self.pick(self.model["notes"], index)
        run = partial(self.lead.remove_note, note_id, at=self.clock(), by=USERS[1])
        if self.closed:
            self.refused(LeadClosed, run)
        elif note_id not in self.model["notes"]:
            self.refused(InvalidValue, run)
        else:
            self.accepted(NoteRemoved, run)
            self.model["notes"].remove(note_id)

    @rule(kind=st.sampled_from(ActivityKind))
    def log_activity(self, kind: ActivityKind) -> None:
        self.accepted(
            ActivityLogged,
            partial(self.lead.log_activity, kind, "Follow up", at=self.clock(), by=USERS[2]),
        )
        self.model["seq"] += 1
        self.model["activities"][self.model["seq"]] = False

    @rule(index=st.integers(0, 2))
    def complete_activity(self, index: int) -> None:
        activity_id = self.pick(self.model["activities"], index)
        run = partial(self.lead.complete_activity, activity_id, at=self.clock(), by=USERS[2])
        # The timeline is append-only, so this works on closed leads too.
        if self.model["activities"].get(activity_id, True):
            self.refused(InvalidValue, run)  # unknown, or already done
        else:
            self.accepted(ActivityCompleted, run)
            self.model["activities"][activity_id] = True

    @rule(contact=st.sampled_from(CONTACTS), role=st.sampled_from(ROLES))
    def add_stakeholder(self, contact: ContactId, role: StakeholderRole) -> None:
        key = (contact, role.name.casefold())
        run = partial(self.lead.add_stakeholder, contact, role, at=self.clock(), by=USERS[0])
        if self.closed:
            self.refused(LeadClosed, run)
        elif key in self.model["stakeholders"]:
            self.refused(InvalidValue, run)
        else:
            self.accepted(StakeholderAdded, run)
            self.model["stakeholders"].add(key)

    @rule(contact=st.sampled_from(CONTACTS), role=st.sampled_from(ROLES))
    def remove_stakeholder(self, contact: ContactId, role: StakeholderRole) -> None:
        key = (contact, role.name.casefold())
        run = partial(self.lead.remove_stakeholder, contact, role, at=self.clock(), by=USERS[0])
        if self.closed:
            self.refused(LeadClosed, run)
        elif key not in self.model["stakeholders"]:
            self.refused(InvalidValue, run)
        else:
            self.accepted(StakeholderRemoved, run)
            self.model["stakeholders"].remove(key)

    # -- lifecycle -----------------------------------------------------------------------------

    @rule()
    def mark_contacted(self) -> None:
        run = partial(self.lead.mark_contacted, at=self.clock(), by=USERS[0])
        if self.closed:
            self.refused(LeadClosed, run)
            return
        noop = self.model["reason"] == StatusReason.CONTACTED
        self.accepted(StatusReasonChanged, run, may_be_noop=noop)
        self.model["reason"] = StatusReason.CONTACTED

    @rule(reason=s.status_reasons(DISQUALIFIED))
    def disqualify(self, reason: StatusReason) -> None:
        run = partial(self.lead.disqualify, reason, at=self.clock(), by=USERS[0])
        if self.closed:
            self.refused(IllegalTransition, run)
        elif self.model["opportunity"]:
            self.refused(OpportunityLinked, run)
        else:
            self.accepted(LeadDisqualified, run)
            self.model.update(state=DISQUALIFIED, reason=reason)

    @rule(reason=s.status_reasons(OPEN) | s.status_reasons(QUALIFIED))
    def disqualify_with_a_reason_of_another_state(self, reason: StatusReason) -> None:
        # The reason is checked first, whatever the state.
        run = partial(self.lead.disqualify, reason, at=self.clock(), by=USERS[0])
        error = self.refused(InvalidValue, run)
        assert isinstance(error, InvalidValue)
        assert error.field == "reason"

    @rule(opportunity=st.sampled_from((None, OpportunityId("opp-1"), OpportunityId("opp-2"))))
    def mark_qualified(self, opportunity: OpportunityId | None) -> None:
        run = partial(
            self.lead.mark_qualified, opportunity_id=opportunity, at=self.clock(), by=USERS[0]
        )
        if self.closed:
            self.refused(IllegalTransition, run)
            return
        self.accepted(LeadQualified, run)
        self.model.update(state=QUALIFIED, reason=StatusReason.QUALIFIED)
        # Qualifying without a new opportunity keeps one linked earlier.
        self.model["opportunity"] = self.model["opportunity"] or opportunity is not None

    @rule()
    def reactivate(self) -> None:
        run = partial(self.lead.reactivate, at=self.clock(), by=USERS[0])
        if not self.closed:
            self.refused(IllegalTransition, run)
            return
        self.accepted(LeadReactivated, run)
        self.model.update(state=OPEN, reason=StatusReason.NEW)

    @rule()
    def unlink_opportunity(self) -> None:
        run = partial(self.lead.unlink_opportunity, at=self.clock(), by=USERS[0])
        if self.closed:
            self.refused(LeadClosed, run)
        elif not self.model["opportunity"]:
            self.refused(InvalidValue, run)
        else:
            self.accepted(OpportunityUnlinked, run)
            self.model["opportunity"] = False

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def lead_matches_the_model(self) -> None:
        lead, model = self.lead, self.model
        assert lead.state is model["state"]
        assert lead.reason == model["reason"]
        assert lead.reason.state is lead.state
        assert {n.id for n in lead.notes} == model["notes"]
        assert {a.id: a.is_done for a in lead.activities} == model["activities"]
        assert lead.timeline_seq == model["seq"]
        assert {(s.contact_id, s.role.name.casefold()) for s in lead.stakeholders} == model[
            "stakeholders"
        ]
        assert (lead.qualifying_opportunity is not None) == model["opportunity"]
        assert lead.owner == model["owner"]
        assert lead.can_disqualify() == (not self.closed and not model["opportunity"])
        assert lead.can_reactivate() == self.closed

    @invariant()
    def replaying_the_events_rebuilds_the_lead(self) -> None:
        assert replay(self.lead.pending_events) == self.lead

    @invariant()
    def a_json_round_trip_gives_the_lead_back(self) -> None:
        assert converter.loads(converter.dumps(self.lead), Lead) == self.lead


LifecycleMachine.TestCase.settings = settings(stateful_step_count=30, deadline=None)
TestLifecycle = LifecycleMachine.TestCase


@given(start=s.aware_datetimes(), seconds=st.integers(0, 3600), readings=st.integers(1, 20))
def test_the_step_clock_the_machine_runs_on_moves_by_its_step(
    start: datetime, seconds: int, readings: int
) -> None:
    clock = StepClock(start, step=timedelta(seconds=seconds))
    times = [clock.now() for _ in range(readings)]
    assert times == [start + i * timedelta(seconds=seconds) for i in range(readings)]
    assert all(t.tzinfo is not None for t in times)
    assert FixedClock(start)() == FixedClock(start).now() == start


def test_clocks_refuse_a_naive_start_and_a_negative_step() -> None:
    naive = datetime(2024, 5, 1, 9, 0)
    with pytest.raises(InvalidValue):
        StepClock(naive)
    with pytest.raises(InvalidValue):
        FixedClock(naive)
    with pytest.raises(InvalidValue):
        StepClock(naive.replace(tzinfo=UTC), step=timedelta(seconds=-1))
