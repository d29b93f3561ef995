"""The scoring commands of a lead: ticking criteria, the manual score and recorded scores
(``leadkit._lead_scoring``, a part of ``leadkit.lead.Lead``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from leadkit.errors import InvalidValue, LeadClosed
from leadkit.events import (
    CriterionTicked,
    CriterionUnticked,
    LeadScored,
    ManualScoreCleared,
    ManualScoreSet,
)
from leadkit.fields import Rating
from leadkit.lead import Lead, replay
from leadkit.patch import LeadPatch
from leadkit.scoring.result import Explanation, ManualScore, Score, ScoreSource
from leadkit.status import LeadState, StatusReason
from leadkit.values import LeadId, PersonName, UserRef

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ANN = UserRef("u1", "Ann")
BOB = UserRef("u2", "Bob")
LID = LeadId("L-1")


def at(minutes: int) -> datetime:
    """A fixed, timezone-aware time ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def new_lead() -> Lead:
    return Lead.create(
        LID,
        LeadPatch(topic="Printers", company="Acme", name=PersonName(last="Lovelace")),
        at=T0,
        by=ANN,
    )


def closed_lead() -> Lead:
    return new_lead().disqualify(StatusReason.LOST, at=at(1), by=ANN).clear_events()


def a_score(
    *,
    lead_id: LeadId = LID,
    value: str = "42.5",
    stars: int = 3,
    rating: Rating = Rating.WARM,
    model_id: str = "default",
    model_version: int = 1,
) -> Score:
    explanation = Explanation(
        base=Decimal(0),
        contributions=(),
        criteria_value=Decimal(value),
        met_weight=Decimal(0),
        total_weight=Decimal(0),
    )
    return Score(
        lead_id=lead_id,
        value=Decimal(value),
        stars=stars,
        max_stars=5,
        rating=rating,
        source=ScoreSource.CRITERIA,
        model_id=model_id,
        model_version=model_version,
        explanation=explanation,
    )


def only_event(before: Lead, after: Lead) -> object:
    """The one event ``after`` recorded on top of ``before``."""
    assert after.pending_events[: len(before.pending_events)] == before.pending_events
    (event,) = after.pending_events[len(before.pending_events) :]
    return event


# -------------------------------------------------------------------------------------------
# Ticking criteria


def test_ticking_a_criterion_records_it_and_stamps_the_edit() -> None:
    lead = new_lead()
    ticked = lead.tick_criterion("has_budget", at=at(5), by=BOB)
    assert ticked.ticked_criteria == frozenset({"has_budget"})
    assert (ticked.modified_at, ticked.modified_by) == (at(5), BOB)
    assert only_event(lead, ticked) == CriterionTicked(
        lead_id=LID, at=at(5), by=BOB, criterion_id="has_budget"
    )
    both = ticked.tick_criterion("met_in_person", at=at(6), by=ANN)
    assert both.ticked_criteria == frozenset({"has_budget", "met_in_person"})
    assert replay(both.pending_events) == both


def test_ticking_a_ticked_criterion_changes_nothing() -> None:
    lead = new_lead().tick_criterion("has_budget", at=at(5), by=BOB)
    assert lead.tick_criterion("has_budget", at=at(9), by=ANN) is lead


def test_unticking_removes_only_that_criterion() -> None:
    lead = (
        new_lead()
        .tick_criterion("has_budget", at=at(5), by=BOB)
        .tick_criterion("met_in_person", at=at(6), by=BOB)
    )
    unticked = lead.untick_criterion("has_budget", at=at(7), by=ANN)
    assert unticked.ticked_criteria == frozenset({"met_in_person"})
    assert (unticked.modified_at, unticked.modified_by) == (at(7), ANN)
    assert only_event(lead, unticked) == CriterionUnticked(
        lead_id=LID, at=at(7), by=ANN, criterion_id="has_budget"
    )
    assert replay(unticked.pending_events) == unticked


def test_unticking_a_criterion_not_ticked_changes_nothing() -> None:
    lead = new_lead().tick_criterion("has_budget", at=at(5), by=BOB)
    assert lead.untick_criterion("met_in_person", at=at(9), by=ANN) is lead


@pytest.mark.parametrize("command", ["tick_criterion", "untick_criterion"])
@pytest.mark.parametrize("bad", ["", "Has Budget", "-x", "a" * 65, 7])
def test_a_malformed_criterion_id_is_refused_naming_the_field(command: str, bad: object) -> None:
    lead = new_lead().tick_criterion("ok", at=at(1), by=ANN)
    with pytest.raises(InvalidValue) as caught:
        getattr(lead, command)(bad, at=at(5), by=BOB)
    assert caught.value.field == "criterion_id"
    assert caught.value.value == bad
    assert "1-64 characters" in caught.value.reason


@pytest.mark.parametrize(
    ("command", "action"),
    [("tick_criterion", "tick criterion"), ("untick_criterion", "untick criterion")],
)
def test_ticking_on_a_closed_lead_raises_lead_closed(command: str, action: str) -> None:
    lead = closed_lead()
    with pytest.raises(LeadClosed) as caught:
        getattr(lead, command)("has_budget", at=at(5), by=BOB)
    assert (caught.value.lead_id, caught.value.state, caught.value.action) == (
        LID,
        LeadState.DISQUALIFIED,
        action,
    )


def test_a_closed_lead_checks_closed_before_the_id() -> None:
    with pytest.raises(LeadClosed):
        closed_lead().tick_criterion("Not A Slug", at=at(5), by=BOB)


# -------------------------------------------------------------------------------------------
# The manual score


def test_setting_a_manual_score_records_the_override() -> None:
    lead = new_lead()
    scored = lead.set_manual_score(4, at=at(5), by=BOB, reason="met them", expires_at=at(60))
    manual = ManualScore(stars=4, author=BOB, at=at(5), reason="met them", expires_at=at(60))
    assert scored.manual_score == manual
    assert (scored.modified_at, scored.modified_by) == (at(5), BOB)
    assert only_event(lead, scored) == ManualScoreSet(
        lead_id=LID, at=at(5), by=BOB, manual=manual, previous=None
    )
    assert replay(scored.pending_events) == scored


def test_setting_a_manual_score_defaults_to_no_reason_and_no_expiry() -> None:
    scored = new_lead().set_manual_score(2, at=at(5), by=BOB)
    assert scored.manual_score == ManualScore(stars=2, author=BOB, at=at(5))


def test_a_new_manual_score_names_the_one_it_replaces() -> None:
    lead = new_lead().set_manual_score(4, at=at(5), by=BOB)
    again = lead.set_manual_score(1, at=at(6), by=ANN)
    assert again.manual_score == ManualScore(stars=1, author=ANN, at=at(6))
    event = only_event(lead, again)
    assert isinstance(event, ManualScoreSet)
    assert event.previous == lead.manual_score


def test_setting_the_same_manual_score_again_changes_nothing() -> None:
    lead = new_lead().set_manual_score(4, at=at(5), by=BOB, reason="r", expires_at=at(60))
    # Only the time differs: the same stars, reason, expiry and author.
    assert lead.set_manual_score(4, at=at(9), by=BOB, reason="r", expires_at=at(60)) is lead


@pytest.mark.parametrize(
    "change",
    [
        {"stars": 5},
        {"reason": "other"},
        {"expires_at": at(61)},
        {"expires_at": None},
        {"by": ANN},
    ],
)
def test_a_manual_score_differing_in_one_part_is_recorded(change: dict[str, object]) -> None:
    # The parameters are shared by every run of the test: read them, never change them.
    args: dict[str, object] = {"at": at(9), "by": BOB, "reason": "r", "expires_at": at(60)}
    args.update((k, v) for k, v in change.items() if k != "stars")
    stars = change.get("stars", 4)
    lead = new_lead().set_manual_score(4, at=at(5), by=BOB, reason="r", expires_at=at(60))
    changed = lead.set_manual_score(stars, **args)  # type: ignore[arg-type]
    assert changed is not lead
    assert isinstance(only_event(lead, changed), ManualScoreSet)
    assert changed.manual_score is not None
    assert changed.manual_score.stars == stars


@pytest.mark.parametrize("stars", [-1, 11, True])
def test_stars_outside_the_scale_are_refused(stars: int) -> None:
    lead = new_lead()
    with pytest.raises(InvalidValue) as caught:
        lead.set_manual_score(stars, at=at(5), by=BOB)
    assert caught.value.value == stars
    assert lead.manual_score is None


def test_clearing_the_manual_score_names_what_it_cleared() -> None:
    lead = new_lead().set_manual_score(4, at=at(5), by=BOB)
    manual = ManualScore(stars=4, author=BOB, at=at(5))
    cleared = lead.clear_manual_score(at=at(7), by=ANN)
    assert cleared.manual_score is None
    assert (cleared.modified_at, cleared.modified_by) == (at(7), ANN)
    assert only_event(lead, cleared) == ManualScoreCleared(
        lead_id=LID, at=at(7), by=ANN, previous=manual
    )
    assert replay(cleared.pending_events) == cleared


def test_clearing_when_no_manual_score_is_set_changes_nothing() -> None:
    lead = new_lead()
    assert lead.clear_manual_score(at=at(7), by=ANN) is lead


@pytest.mark.parametrize(
    ("command", "action"),
    [("set_manual_score", "set manual score"), ("clear_manual_score", "clear manual score")],
)
def test_the_manual_score_of_a_closed_lead_cannot_change(command: str, action: str) -> None:
    open_lead = new_lead().set_manual_score(3, at=at(1), by=ANN)
    lead = open_lead.disqualify(StatusReason.LOST, at=at(2), by=ANN)
    args = (4,) if command == "set_manual_score" else ()
    with pytest.raises(LeadClosed) as caught:
        getattr(lead, command)(*args, at=at(5), by=BOB)
    assert (caught.value.lead_id, caught.value.state, caught.value.action) == (
        LID,
        LeadState.DISQUALIFIED,
        action,
    )


# -------------------------------------------------------------------------------------------
# Recorded scores


def test_recording_a_score_stores_its_summary_and_keeps_the_modified_stamp() -> None:
    lead = new_lead()
    score = a_score()
    scored = lead.record_score(score, at=at(5), by=BOB)
    assert (
        scored.score,
        scored.stars,
        scored.score_rating,
        scored.score_model,
        scored.score_model_version,
    ) == (Decimal("42.5"), 3, Rating.WARM, "default", 1)
    assert (scored.modified_at, scored.modified_by) == (T0, ANN)
    assert only_event(lead, scored) == LeadScored(
        lead_id=LID, at=at(5), by=BOB, score=score, previous=None
    )
    assert replay(scored.pending_events) == scored


def test_a_new_score_names_the_previous_value() -> None:
    lead = new_lead().record_score(a_score(), at=at(5), by=BOB)
    again = lead.record_score(a_score(value="50"), at=at(6), by=BOB)
    event = only_event(lead, again)
    assert isinstance(event, LeadScored)
    assert event.previous == Decimal("42.5")


def test_recording_the_same_score_again_changes_nothing() -> None:
    lead = new_lead().record_score(a_score(), at=at(5), by=BOB)
    assert lead.record_score(a_score(), at=at(9), by=ANN) is lead


@pytest.mark.parametrize(
    "change",
    [
        {"value": "42.6"},
        {"stars": 4},
        {"rating": Rating.HOT},
        {"model_id": "other"},
        {"model_version": 2},
    ],
)
def test_a_score_differing_in_one_part_is_recorded(change: dict[str, object]) -> None:
    lead = new_lead().record_score(a_score(), at=at(5), by=BOB)
    score = a_score(**change)  # type: ignore[arg-type]
    rescored = lead.record_score(score, at=at(9), by=ANN)
    assert rescored is not lead
    assert only_event(lead, rescored) == LeadScored(
        lead_id=LID, at=at(9), by=ANN, score=score, previous=Decimal("42.5")
    )


def test_a_score_of_another_lead_is_refused() -> None:
    lead = new_lead()
    other = LeadId("L-2")
    with pytest.raises(InvalidValue) as caught:
        lead.record_score(a_score(lead_id=other), at=at(5), by=BOB)
    assert caught.value.field == "score.lead_id"
    assert caught.value.value == other
    assert caught.value.reason == "not a score of lead L-1"


def test_a_closed_lead_takes_a_score_and_nothing_else_changes() -> None:
    lead = closed_lead()
    scored = lead.record_score(a_score(), at=at(5), by=BOB)
    assert scored == attrs.evolve(
        lead,
        score=Decimal("42.5"),
        stars=3,
        score_rating=Rating.WARM,
        score_model="default",
        score_model_version=1,
    )
