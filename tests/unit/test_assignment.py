"""Specification of lead assignment (leadkit.assignment): manual, round-robin, capacity, rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from leadkit.assignment import (
    AssignmentRule,
    AssignmentRules,
    AssignmentState,
    AssignmentStatus,
    CapacityWeighted,
    FieldIn,
    ManualAssignment,
    NumberBetween,
    RoundRobin,
    Seller,
    Team,
    assign_leads,
    open_lead_counts,
)
from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.events import LeadAssigned
from leadkit.fields import CustomFields, LeadSource
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.status import StatusReason
from leadkit.values import Address, LeadId, UserRef

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ADMIN = UserRef("admin")
ANA, BO, CY = UserRef("ana"), UserRef("bo"), UserRef("cy")


def lead(n: int, **fields: object) -> Lead:
    patch = LeadPatch.from_mapping({"topic": f"Topic {n}", "name": f"Person {n}", **fields})
    return Lead.create(LeadId(f"L-{n}"), patch, at=T0, by=ADMIN).clear_events()


def test_manual_assignment_gives_every_open_lead_to_the_owner_and_names_the_rule() -> None:
    result = assign_leads([lead(1), lead(2)], ManualAssignment(ANA), at=T0, by=ADMIN)
    assert [x.owner for x in result.leads] == [ANA, ANA]
    event = result.leads[0].pending_events[-1]
    assert isinstance(event, LeadAssigned)
    assert event.rule == "manual"
    assert event.previous == ADMIN


def test_closed_leads_are_never_reassigned_and_take_no_round_robin_turn() -> None:
    closed = lead(1).disqualify(StatusReason.LOST, at=T0, by=ADMIN)
    team = Team("t", (ANA, BO))
    result = assign_leads([closed, lead(2)], RoundRobin(team), at=T0, by=ADMIN)
    assert result.outcomes[0].status is AssignmentStatus.SKIPPED_CLOSED
    assert result.leads[0].owner == ANA
    assert result.state.cursor("t") == 1


def test_round_robin_walks_the_team_and_hands_back_the_cursor() -> None:
    team = Team("t", (ANA, BO, CY))
    first = assign_leads([lead(i) for i in range(2)], RoundRobin(team), at=T0, by=ADMIN)
    assert [x.owner for x in first.leads] == [ANA, BO]
    again = assign_leads([lead(9)], RoundRobin(team), at=T0, by=ADMIN, state=first.state)
    assert again.leads[0].owner == CY
    assert again.leads[0].pending_events[-1].rule == "round-robin:t"  # type: ignore[attr-defined]
    assert again.state.cursor("t") == 0


def test_assigning_to_the_current_owner_is_unchanged() -> None:
    result = assign_leads([lead(1)], ManualAssignment(ADMIN), at=T0, by=ADMIN)
    assert result.leads == ()
    assert result.outcomes[0].status is AssignmentStatus.UNCHANGED


def test_capacity_prefers_the_least_loaded_seller_and_stops_when_everyone_is_full() -> None:
    strategy = CapacityWeighted((Seller(ANA, 2), Seller(BO, 4)))
    state = AssignmentState(open_counts={"ana": 1, "bo": 1})
    result = assign_leads([lead(i) for i in range(6)], strategy, at=T0, by=ADMIN, state=state)
    owners = [o.owner.id if o.owner else None for o in result.outcomes]
    assert owners == ["bo", "ana", "bo", "bo", None, None]
    assert result.outcomes[-1].status is AssignmentStatus.UNASSIGNED
    assert dict(result.state.open_counts) == {"ana": 2, "bo": 4}


def test_capacity_with_overflow_keeps_assigning_by_load() -> None:
    strategy = CapacityWeighted((Seller(ANA, 1),), overflow=True)
    result = assign_leads([lead(1), lead(2)], strategy, at=T0, by=ADMIN)
    assert [x.owner for x in result.leads] == [ANA, ANA]


def test_rules_first_match_wins_and_the_event_names_the_rule() -> None:
    rules = AssignmentRules(
        (
            AssignmentRule("web", (FieldIn("source", {"web"}),), ManualAssignment(ANA)),
            AssignmentRule(
                "nordics",
                (FieldIn("country", {"Sweden", "Norway"}),),
                RoundRobin(Team("north", (BO, CY))),
            ),
            AssignmentRule(
                "big", (NumberBetween("custom:employees", low=1000),), ManualAssignment(CY)
            ),
        ),
        fallback=ManualAssignment(UserRef("pool")),
    )
    leads = [
        lead(1, source=LeadSource.WEB, address=Address(country="Sweden")),
        lead(2, address=Address(country="sweden")),
        lead(3, custom_fields=CustomFields({"employees": 5000})),
        lead(4),
    ]
    result = assign_leads(leads, rules, at=T0, by=ADMIN)
    assert [o.owner.id for o in result.outcomes if o.owner] == ["ana", "bo", "cy", "pool"]
    assert [o.rule for o in result.outcomes] == [
        "web/manual",
        "nordics/round-robin:north",
        "big/manual",
        "manual",
    ]


def test_score_band_rules_skip_unscored_leads() -> None:
    rule = AssignmentRule("hot", (NumberBetween("score", 80, 101),), ManualAssignment(ANA))
    result = assign_leads([lead(1)], AssignmentRules((rule,)), at=T0, by=ADMIN)
    assert result.outcomes[0].status is AssignmentStatus.UNASSIGNED


def test_open_lead_counts_counts_only_open_leads() -> None:
    closed = lead(2).disqualify(StatusReason.LOST, at=T0, by=ADMIN)
    assert open_lead_counts([lead(1), closed]) == {"admin": 1}


@pytest.mark.parametrize(
    "build",
    [
        lambda: Team("t", ()),
        lambda: Team("t", (ANA, ANA)),
        lambda: Team(" ", (ANA,)),
        lambda: Seller(ANA, -1),
        lambda: CapacityWeighted(()),
        lambda: FieldIn("nope", {"x"}),
        lambda: FieldIn("source", set()),
        lambda: NumberBetween("score"),
        lambda: NumberBetween("score", Decimal(5), Decimal(5)),
        lambda: NumberBetween("country", 1, 2),
        lambda: AssignmentRule("r", (), ManualAssignment(ANA)),
        lambda: AssignmentRules(
            (
                AssignmentRule("r", (FieldIn("source", {"web"}),), ManualAssignment(ANA)),
                AssignmentRule("r", (FieldIn("source", {"web"}),), ManualAssignment(BO)),
            )
        ),
    ],
)
def test_bad_configurations_are_refused_when_built(build: object) -> None:
    with pytest.raises(ConfigurationError):
        build()  # type: ignore[operator]


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(InvalidValue):
        assign_leads([lead(1)], ManualAssignment(ANA), at=datetime(2024, 1, 1), by=ADMIN)
