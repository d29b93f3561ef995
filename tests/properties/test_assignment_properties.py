"""Properties of lead assignment: deterministic, even round-robin, capacity respected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadkit.assignment import (
    AssignmentState,
    AssignmentStatus,
    CapacityWeighted,
    RoundRobin,
    Seller,
    Team,
    assign_leads,
)
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.status import StatusReason
from leadkit.values import LeadId, UserRef

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ADMIN = UserRef("admin")


def _lead(n: int, closed: bool) -> Lead:
    lead = Lead.create(
        LeadId(f"L-{n}"), LeadPatch(topic=f"T{n}", name=f"P {n}"), at=T0, by=ADMIN
    ).clear_events()
    return lead.disqualify(StatusReason.LOST, at=T0, by=ADMIN).clear_events() if closed else lead


def leads_() -> st.SearchStrategy[list[Lead]]:
    return st.lists(st.booleans(), max_size=40).map(
        lambda flags: [_lead(i, closed) for i, closed in enumerate(flags)]
    )


teams = st.integers(1, 6).map(lambda n: Team("t", tuple(UserRef(f"s{i}") for i in range(n))))
sellers = st.lists(st.integers(0, 6), min_size=1, max_size=5).map(
    lambda caps: tuple(Seller(UserRef(f"s{i}"), c) for i, c in enumerate(caps))
)


@given(leads=leads_(), team=teams, cursor=st.integers(0, 10))
def test_round_robin_is_deterministic_and_spreads_evenly(
    leads: list[Lead], team: Team, cursor: int
) -> None:
    state = AssignmentState(cursors={"t": cursor})
    first = assign_leads(leads, RoundRobin(team), at=T0, by=ADMIN, state=state)
    again = assign_leads(leads, RoundRobin(team), at=T0, by=ADMIN, state=state)
    assert first == again
    per_member = {m.id: 0 for m in team.members}
    for outcome in first.outcomes:
        if outcome.owner is not None:
            per_member[outcome.owner.id] += 1
    assert max(per_member.values()) - min(per_member.values()) <= 1
    closed_ids = {lead.id for lead in leads if lead.is_closed}
    assert all(
        (o.status is AssignmentStatus.SKIPPED_CLOSED) == (o.lead_id in closed_ids)
        for o in first.outcomes
    )


@given(
    leads=leads_(),
    pool=sellers,
    loads=st.lists(st.integers(0, 8), min_size=5, max_size=5),
)
def test_capacity_is_never_exceeded_while_capacity_remains(
    leads: list[Lead], pool: tuple[Seller, ...], loads: list[int]
) -> None:
    start = {s.user.id: min(load, s.capacity) for s, load in zip(pool, loads, strict=False)}
    state = AssignmentState(open_counts=start)
    result = assign_leads(leads, CapacityWeighted(pool), at=T0, by=ADMIN, state=state)
    assert result == assign_leads(leads, CapacityWeighted(pool), at=T0, by=ADMIN, state=state)
    counts = dict(start)
    room = sum(s.capacity - counts.get(s.user.id, 0) for s in pool)
    for outcome in result.outcomes:
        if outcome.status is AssignmentStatus.ASSIGNED:
            assert outcome.owner is not None
            counts[outcome.owner.id] = counts.get(outcome.owner.id, 0) + 1
            room -= 1
        elif outcome.status is AssignmentStatus.UNASSIGNED:
            assert room == 0  # a lead is left only when nobody has room
    for seller in pool:
        assert counts.get(seller.user.id, 0) <= seller.capacity


_COUNTS = st.dictionaries(st.text(min_size=1, max_size=5), st.integers(0, 50), max_size=6)


@given(cursors=_COUNTS, counts=_COUNTS)
def test_the_state_a_strategy_sees_equals_the_one_the_constructor_builds(
    cursors: dict[str, int], counts: dict[str, int]
) -> None:
    from leadkit import assignment

    seen = assignment._state_view(cursors, counts)
    built = AssignmentState(cursors=cursors, open_counts=counts)
    assert seen == built
    assert type(seen) is AssignmentState
    assert dict(seen.cursors) == cursors
    assert dict(seen.open_counts) == counts
    cursors["moved"] = 1  # a copy: what the run writes later is not seen
    counts["moved"] = 1
    assert "moved" not in seen.cursors
    assert "moved" not in seen.open_counts
    with pytest.raises(TypeError):
        seen.open_counts["x"] = 1  # type: ignore[index]
