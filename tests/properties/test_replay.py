"""``replay(events)`` rebuilds exactly the lead the commands produced."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from leadkit import Lead, LeadEvent, LeadState, make_converter, replay
from leadkit.events import LeadScored
from leadkit.testing import strategies as s

History = tuple[Lead, list[s.Command]]

converter = make_converter()


def histories() -> st.SearchStrategy[History]:
    """Random histories, some driven to a closed state at the end."""
    return st.sampled_from((None, *LeadState)).flatmap(lambda state: s.lead_histories(state))


@given(history=histories())
def test_replaying_the_pending_events_rebuilds_the_lead(history: History) -> None:
    lead, _ = history
    rebuilt = replay(lead.pending_events)
    assert rebuilt == lead
    assert rebuilt.pending_events == ()
    # Events name the lead; the first is the creation, the last edit the modified stamp.
    events = lead.pending_events
    assert all(e.lead_id == lead.id for e in events)
    assert lead.created_at == events[0].at
    # A recorded score is derived data and leaves the modified stamp alone.
    edits = [e for e in events if not isinstance(e, LeadScored)]
    assert lead.modified_at == edits[-1].at
    assert lead.modified_by == edits[-1].by


@given(history=s.lead_histories())
def test_every_prefix_of_the_history_replays_to_the_lead_at_that_point(history: History) -> None:
    lead, commands = history
    created, *later = lead.pending_events
    current = replay([created])
    assert len(later) <= len(commands)  # a command that changes nothing records nothing
    for command in commands:
        current = command(current)
        assert replay([created, *current.pending_events]) == current
    # Running the same commands again records the same events: commands are deterministic.
    assert current == lead
    assert current.pending_events == tuple(later)


@given(history=histories())
def test_replay_of_stored_events_rebuilds_the_stored_lead(history: History) -> None:
    lead, _ = history
    stored = [converter.dumps(e) for e in lead.pending_events]
    loaded = tuple(converter.loads(text, LeadEvent) for text in stored)
    assert loaded == lead.pending_events
    assert replay(loaded) == converter.loads(converter.dumps(lead), Lead) == lead
