"""A closed lead never changes except by reactivate.

On a Qualified or Disqualified lead every editing command raises LeadClosed and changes
nothing; qualify and disqualify raise IllegalTransition. Only the append-only timeline
commands (add_note, log_activity, complete_activity), record_score (derived data) and
reactivate are accepted; the timeline commands only add to the timeline and a score only sets
the score fields: nothing already recorded on the lead changes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadkit import (
    ActivityKind,
    ContactId,
    IllegalTransition,
    Lead,
    LeadClosed,
    LeadPatch,
    LeadState,
    Rating,
    StakeholderRole,
    StatusReason,
    UserRef,
    make_converter,
)
from leadkit.testing import strategies as s

Edit = Callable[[Lead, st.DataObject, datetime, UserRef], Lead]

converter = make_converter()


def closed_leads() -> st.SearchStrategy[Lead]:
    return s.leads(state=LeadState.QUALIFIED) | s.leads(state=LeadState.DISQUALIFIED)


def _note_id(lead: Lead, data: st.DataObject) -> int:
    ids = [n.id for n in lead.notes] or [1]
    return data.draw(st.sampled_from(ids))


def _stakeholder(lead: Lead, data: st.DataObject) -> tuple[ContactId, StakeholderRole]:
    use_existing: bool = data.draw(st.booleans())
    if lead.stakeholders and use_existing:
        chosen = data.draw(st.sampled_from(lead.stakeholders))
        return chosen.contact_id, chosen.role
    return data.draw(s.contact_ids()), data.draw(s.stakeholder_roles())


def _criterion(lead: Lead, data: st.DataObject) -> str:
    ticked = sorted(lead.ticked_criteria)
    return data.draw(st.sampled_from(ticked) if ticked else s.criterion_ids())


EDITS: dict[str, Edit] = {
    "update": lambda lead, data, at, by: lead.update(
        data.draw(s.lead_patches(required=False)), at=at, by=by
    ),
    "update_nothing": lambda lead, data, at, by: lead.update(LeadPatch(), at=at, by=by),
    "rate": lambda lead, data, at, by: lead.rate(
        data.draw(st.none() | st.sampled_from(Rating)), at=at, by=by
    ),
    "link_account": lambda lead, data, at, by: lead.link_account(
        data.draw(s.accounts()), at=at, by=by
    ),
    "unlink_account": lambda lead, data, at, by: lead.unlink_account(at=at, by=by),
    "link_contact": lambda lead, data, at, by: lead.link_contact(
        data.draw(s.contacts()), at=at, by=by
    ),
    "unlink_contact": lambda lead, data, at, by: lead.unlink_contact(at=at, by=by),
    "edit_note": lambda lead, data, at, by: lead.edit_note(
        _note_id(lead, data), text="changed after closing", at=at, by=by
    ),
    "remove_note": lambda lead, data, at, by: lead.remove_note(_note_id(lead, data), at=at, by=by),
    "add_stakeholder": lambda lead, data, at, by: lead.add_stakeholder(
        *_stakeholder(lead, data), at=at, by=by
    ),
    "remove_stakeholder": lambda lead, data, at, by: lead.remove_stakeholder(
        *_stakeholder(lead, data), at=at, by=by
    ),
    "assign": lambda lead, data, at, by: lead.assign(
        data.draw(st.just(lead.owner) | s.user_refs()), at=at, by=by
    ),
    "change_reason": lambda lead, data, at, by: lead.change_reason(
        data.draw(s.status_reasons(LeadState.OPEN)), at=at, by=by
    ),
    "mark_contacted": lambda lead, data, at, by: lead.mark_contacted(at=at, by=by),
    "unlink_opportunity": lambda lead, data, at, by: lead.unlink_opportunity(at=at, by=by),
    "relate_opportunity": lambda lead, data, at, by: lead.relate_opportunity(
        data.draw(s.opportunity_ids()), at=at, by=by
    ),
    "tick_criterion": lambda lead, data, at, by: lead.tick_criterion(
        data.draw(s.criterion_ids()), at=at, by=by
    ),
    "untick_criterion": lambda lead, data, at, by: lead.untick_criterion(
        _criterion(lead, data), at=at, by=by
    ),
    "set_manual_score": lambda lead, data, at, by: lead.set_manual_score(
        data.draw(st.integers(0, 10)), at=at, by=by
    ),
    "clear_manual_score": lambda lead, data, at, by: lead.clear_manual_score(at=at, by=by),
}

TRANSITIONS: dict[str, Edit] = {
    "disqualify": lambda lead, data, at, by: lead.disqualify(
        data.draw(s.status_reasons(LeadState.DISQUALIFIED)), at=at, by=by
    ),
    "mark_qualified": lambda lead, data, at, by: lead.mark_qualified(
        opportunity_id=data.draw(st.none() | s.opportunity_ids()), at=at, by=by
    ),
}


# Accepted on closed leads: the append-only timeline, a recorded score (derived data) and the
# way out.
ACCEPTED = frozenset(
    {"add_note", "log_activity", "complete_activity", "record_score", "reactivate"}
)


# The merge machinery: leadkit.merging runs these on any lead, open or closed (a closed master
# when the merge policy allows it, the merged leads whatever their state), and refuses them on
# a lead already merged; tests/unit/test_merging.py and the merge properties hold them to that.
MERGING = frozenset({"absorb", "merge_into", "restore"})


def _commands() -> set[str]:
    """Every public command of Lead: the methods taking keyword-only ``at`` and ``by``."""
    found = set()
    for name, method in inspect.getmembers(Lead, inspect.isfunction):
        params = inspect.signature(method).parameters
        keyword_only = {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY}
        # mutmut (scripts/mutation) adds each mutant as a method named ``xǁClassǁname__mutmut_N``:
        # not a command.
        if not name.startswith("_") and name.isascii() and {"at", "by"} <= keyword_only:
            found.add(name)
    return found


def test_every_command_is_classified_as_an_edit_a_transition_or_accepted() -> None:
    # A new command must be added to one of the lists above, and so gets tested here.
    assert _commands() == set(EDITS) - {"update_nothing"} | set(TRANSITIONS) | ACCEPTED | MERGING


def _differences(before: Lead, after: Lead) -> set[str]:
    return {
        f.name
        for f in attrs.fields(Lead)
        if f.eq and getattr(before, f.name) != getattr(after, f.name)
    }


def _refused(lead: Lead, error: type[Exception], run: Callable[[], Lead]) -> Exception:
    stored = converter.dumps(lead)
    events = lead.pending_events
    with pytest.raises(error) as caught:
        run()
    assert converter.dumps(lead) == stored
    assert lead.pending_events == events
    return caught.value


@given(lead=closed_leads(), by=s.user_refs(), data=st.data())
def test_every_edit_of_a_closed_lead_raises_lead_closed(
    lead: Lead, by: UserRef, data: st.DataObject
) -> None:
    # Every edit is tried on every drawn lead: building closed leads is the costly part.
    at = lead.modified_at + timedelta(hours=1)
    for name, edit in EDITS.items():
        error = _refused(lead, LeadClosed, partial(edit, lead, data, at, by))
        assert isinstance(error, LeadClosed), name
        assert error.lead_id == lead.id
        assert error.state is lead.state


@given(lead=closed_leads(), by=s.user_refs(), data=st.data())
def test_a_closed_lead_cannot_be_qualified_or_disqualified_again(
    lead: Lead, by: UserRef, data: st.DataObject
) -> None:
    at = lead.modified_at + timedelta(hours=1)
    for name, transition in TRANSITIONS.items():
        error = _refused(lead, IllegalTransition, partial(transition, lead, data, at, by))
        assert isinstance(error, IllegalTransition), name
        assert error.current is lead.state


@given(lead=closed_leads(), by=s.user_refs(), text=st.text(min_size=1).map(str.strip))
def test_a_note_on_a_closed_lead_only_adds_to_the_timeline(
    lead: Lead, by: UserRef, text: str
) -> None:
    at = lead.modified_at + timedelta(hours=1)
    after = lead.add_note(text or "a call after closing", at=at, by=by)
    assert after.state is lead.state
    assert after.notes[:-1] == lead.notes
    assert after.notes[-1].id == lead.timeline_seq + 1
    assert _differences(lead, after) <= {"notes", "timeline_seq", "modified_at", "modified_by"}


@given(lead=closed_leads(), by=s.user_refs(), kind=st.sampled_from(ActivityKind))
def test_logging_and_completing_an_activity_on_a_closed_lead_only_touch_the_timeline(
    lead: Lead, by: UserRef, kind: ActivityKind
) -> None:
    at = lead.modified_at + timedelta(hours=1)
    logged = lead.log_activity(kind, "Follow-up call", at=at, by=by)
    assert logged.activities[:-1] == lead.activities
    assert _differences(lead, logged) <= {
        "activities",
        "timeline_seq",
        "modified_at",
        "modified_by",
    }
    done = logged.complete_activity(logged.activities[-1].id, at=at, by=by)
    assert done.activities[:-1] == lead.activities
    assert done.activities[-1].is_done
    assert done.state is lead.state
    assert _differences(logged, done) <= {"activities", "modified_at", "modified_by"}


@given(lead=closed_leads(), by=s.user_refs())
def test_reactivation_reopens_the_lead_and_keeps_everything_recorded(
    lead: Lead, by: UserRef
) -> None:
    at = lead.modified_at + timedelta(hours=1)
    reopened = lead.reactivate(at=at, by=by)
    assert reopened.state is LeadState.OPEN
    assert reopened.reason == StatusReason.NEW
    assert _differences(lead, reopened) <= {"state", "reason", "modified_at", "modified_by"}
    assert reopened.can_disqualify() == (lead.qualifying_opportunity is None)
    # Open again, it takes edits.
    assert reopened.update(LeadPatch(topic="Reopened"), at=at, by=by).topic == "Reopened"


@given(lead=closed_leads(), by=s.user_refs(), data=st.data())
def test_recording_a_score_on_a_closed_lead_changes_only_the_score(
    lead: Lead, by: UserRef, data: st.DataObject
) -> None:
    score = data.draw(s.scores(lead.id))
    after = lead.record_score(score, at=lead.modified_at + timedelta(hours=1), by=by)
    assert after.state is lead.state
    assert after.score == score.value
    assert _differences(lead, after) <= {
        "score",
        "stars",
        "score_rating",
        "score_model",
        "score_model_version",
    }
