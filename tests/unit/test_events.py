"""Specification of the domain events (leadkit.events)."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest

from leadkit import events
from leadkit.errors import InvalidValue
from leadkit.events import EVENT_TYPES, LeadCreated, LeadEvent, LeadRated, NoteRemoved
from leadkit.fields import Rating
from leadkit.patch import LeadPatch
from leadkit.status import StatusReason
from leadkit.values import LeadId, UserRef

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
NAIVE = datetime(2024, 5, 1, 9, 30)
ANN = UserRef("u1", "Ann")
LID = LeadId("L-1")


def _all_subclasses(kind: type[LeadEvent]) -> set[type[LeadEvent]]:
    found: set[type[LeadEvent]] = set()
    for sub in kind.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def test_every_event_type_is_in_event_types_under_its_name() -> None:
    # By name: attrs replaces each class by a slotted copy, and the replaced original may
    # linger among the subclasses until the garbage collector runs. Only leadkit's own: other
    # tests subclass events to show how unknown ones are treated.
    ours = {kind for kind in _all_subclasses(LeadEvent) if kind.__module__.startswith("leadkit.")}
    assert {kind.__name__ for kind in ours} == set(EVENT_TYPES)
    assert all(name == kind.__name__ for name, kind in EVENT_TYPES.items())


def test_every_exported_event_is_in_event_types() -> None:
    exported = {name for name in events.__all__ if name not in ("EVENT_TYPES", "LeadEvent")}

    assert exported == set(EVENT_TYPES)
    assert all(EVENT_TYPES[name] is getattr(events, name) for name in exported)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_event_is_keyword_only_and_starts_with_lead_time_and_author(name: str) -> None:
    kind = EVENT_TYPES[name]
    fields = attrs.fields(kind)

    assert attrs.has(kind)
    assert [f.name for f in fields][:3] == ["lead_id", "at", "by"]
    assert all(f.kw_only for f in fields)


def test_an_event_refuses_a_naive_time() -> None:
    with pytest.raises(InvalidValue, match="timezone-aware") as caught:
        NoteRemoved(lead_id=LID, at=NAIVE, by=ANN, note_id=1)

    assert caught.value.field == "at"


def test_the_lead_event_base_refuses_a_naive_time_too() -> None:
    with pytest.raises(InvalidValue):
        LeadRated(lead_id=LID, at=NAIVE, by=ANN, rating=Rating.HOT, previous=None)


def test_an_event_names_its_type() -> None:
    event = NoteRemoved(lead_id=LID, at=AT, by=ANN, note_id=1)

    assert event.type == "NoteRemoved"


def test_events_are_values() -> None:
    a = LeadCreated(
        lead_id=LID, at=AT, by=ANN, fields=LeadPatch(topic="T"), owner=ANN, reason=StatusReason.NEW
    )
    b = LeadCreated(
        lead_id=LID, at=AT, by=ANN, fields=LeadPatch(topic="T"), owner=ANN, reason=StatusReason.NEW
    )

    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.owner = UserRef("u2")  # type: ignore[misc]


def test_events_take_keyword_arguments_only() -> None:
    with pytest.raises(TypeError):
        NoteRemoved(LID, AT, ANN, 1)  # type: ignore[call-arg]
