"""Contract tests of the events a store publishes to its event sink."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from leadkit.errors import ConcurrencyConflict
from leadkit.events import LeadEvent
from leadkit.fields import Rating
from leadkit.ports import LeadStore
from leadkit.testing.contract._base import StoreFactory, _ContractBase, _lock_hint
from leadkit.testing.contract._examples import _ALICE, _BOB, _hours, _lead, _touch
from leadkit.testing.contract._helpers import (
    _Boom,
    _exists,
    _RecordingSink,
    _store_leads,
)
from leadkit.values import LeadId


class EventContract(_ContractBase):
    """The events a committed unit of work publishes, and only those."""

    # events -----------------------------------------------------------------------------------

    def test_events_reach_the_sink_once_in_order_only_after_commit(
        self, new_store: StoreFactory
    ) -> None:
        sink = _RecordingSink()
        store = new_store(event_sink=sink)
        created = _lead("e1").add_note("Hi", at=_hours(1), by=_ALICE)
        with store.unit_of_work() as uow:
            uow.leads.add(created)
            second = _lead("e2", at=_hours(2))
            rated = uow.leads.add(second).rate(Rating.HOT, at=_hours(3), by=_BOB)
            uow.leads.save(rated)
            expected = (*created.pending_events, *second.pending_events, *rated.pending_events)
            assert len(expected) == 4
            assert sink.deliveries == []
            assert tuple(uow.events) == expected
            uow.commit()
            assert sink.deliveries == [expected]
            assert list(uow.events) == []
        with store.unit_of_work() as uow:
            uow.leads.add(_lead("e3"))
            uow.rollback()
            uow.commit()
        with store.unit_of_work() as uow:
            uow.leads.add(_lead("e4"))
        assert sink.deliveries == [expected]

    @_lock_hint("supports_concurrent_readers")
    def test_the_sink_is_called_after_the_changes_are_stored(self, new_store: StoreFactory) -> None:
        self._require("supports_concurrent_readers")
        seen: list[bool] = []
        holder: list[LeadStore] = []
        sink = _RecordingSink(check=lambda _: seen.append(_exists(holder[0], LeadId("e1"))))
        store = new_store(event_sink=sink)
        holder.append(store)
        _store_leads(store, _lead("e1"))
        assert seen == [True]

    def test_a_sink_that_raises_does_not_undo_the_commit(self, new_store: StoreFactory) -> None:
        def explode(events: Sequence[LeadEvent]) -> None:
            raise _Boom

        store = new_store(event_sink=_RecordingSink(check=explode))
        with pytest.raises(_Boom):
            _store_leads(store, _lead("e1"))
        assert _exists(store, LeadId("e1"))

    def test_the_events_of_a_failed_unit_of_work_are_not_delivered(
        self, new_store: StoreFactory
    ) -> None:
        sink = _RecordingSink()
        store = new_store(event_sink=sink)
        (stale,) = _store_leads(store, _lead("e1"))
        with store.unit_of_work() as uow:
            uow.leads.save(_touch(stale, "theirs"))
            uow.commit()
        delivered = len(sink.deliveries)
        with pytest.raises(ConcurrencyConflict), store.unit_of_work() as uow:  # noqa: PT012
            uow.leads.add(_lead("e2"))
            uow.leads.save(_touch(stale, "mine"))
            uow.commit()
        assert len(sink.deliveries) == delivered
