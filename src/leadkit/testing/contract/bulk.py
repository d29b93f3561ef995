"""The bulk part of the adapter contract: :class:`leadkit.ports.BulkLeadRepository`.

Mixed into :class:`leadkit.testing.contract.LeadStoreContract`; a store whose lead repository
has no bulk methods sets ``supports_bulk = False`` (the services then fall back to one call
per lead, see :mod:`leadkit.bulk`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final

import attrs
import pytest

from leadkit.bulk import bulk_repository
from leadkit.errors import ConcurrencyConflict, InvalidValue, NotFound
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import BulkLeadRepository, LeadQuery, LeadSort, LeadStore, UnitOfWork
from leadkit.shards import Shard
from leadkit.status import LeadState
from leadkit.values import LeadId, PersonName, UserRef

__all__ = ["BulkContract"]

_T0: Final = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
_ANN: Final = UserRef("ann")


def _new(key: str, n: int = 0) -> Lead:
    patch = LeadPatch(topic=f"Topic {key}", name=PersonName(last=f"Last{n}"))
    return Lead.create(LeadId(key), patch, at=_T0 + timedelta(minutes=n), by=_ANN)


def _stored(store: LeadStore, count: int, prefix: str = "b") -> list[Lead]:
    with store.unit_of_work() as uow:
        leads = [uow.leads.add(_new(f"{prefix}{n:03d}", n)) for n in range(count)]
        uow.commit()
    return leads


def _edited(lead: Lead, text: str) -> Lead:
    return lead.update(LeadPatch(description=text), at=_T0 + timedelta(days=1), by=_ANN)


class BulkContract:
    """Tests of ``get_many``, ``save_many`` and ``scan`` (``supports_bulk``)."""

    supports_bulk: ClassVar[bool] = True

    def _bulk(self, uow: UnitOfWork) -> BulkLeadRepository:
        if not self.supports_bulk:
            pytest.skip("the store does not declare supports_bulk")
        found = bulk_repository(uow.leads)
        assert found is not None, (
            "uow.leads has no get_many/save_many/scan: set supports_bulk = False"
        )
        return found

    # get_many ---------------------------------------------------------------------------------

    def test_get_many_reads_the_stored_leads_and_leaves_out_missing_ids(
        self, empty_store: LeadStore
    ) -> None:
        stored = _stored(empty_store, 3)
        with empty_store.unit_of_work() as uow:
            ids = [LeadId("b002"), LeadId("nope"), LeadId("b000"), LeadId("b002")]
            found = self._bulk(uow).get_many(ids)
        assert set(found) == {LeadId("b000"), LeadId("b002")}
        assert found[LeadId("b000")] == stored[0]
        assert found[LeadId("b002")] == stored[2]

    def test_get_many_sees_the_changes_of_its_own_unit_of_work(
        self, empty_store: LeadStore
    ) -> None:
        stored = _stored(empty_store, 2)
        with empty_store.unit_of_work() as uow:
            saved = uow.leads.save(_edited(stored[0], "changed here"))
            uow.leads.delete(LeadId("b001"))
            found = self._bulk(uow).get_many([LeadId("b000"), LeadId("b001")])
        assert found == {LeadId("b000"): saved}

    def test_leads_added_in_the_unit_of_work_are_read_and_saved_in_bulk(
        self, empty_store: LeadStore
    ) -> None:
        with empty_store.unit_of_work() as uow:
            bulk = self._bulk(uow)
            added = [uow.leads.add(_new(f"n{n}", n)) for n in range(3)]
            assert bulk.get_many([x.id for x in added]) == {x.id: x for x in added}
            saved = bulk.save_many([_edited(x, "same unit") for x in added])
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert [uow.leads.get(x.id) for x in added] == list(saved)
            assert all(x.version == 2 for x in saved)

    def test_get_many_refuses_a_key_that_is_not_a_lead_id(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow:
            bulk = self._bulk(uow)
            with pytest.raises(InvalidValue) as caught:
                bulk.get_many(["b000"])  # type: ignore[list-item]
        assert caught.value.field == "lead_id"

    # save_many --------------------------------------------------------------------------------

    def test_save_many_stores_every_lead_with_its_version_bumped(
        self, empty_store: LeadStore
    ) -> None:
        stored = _stored(empty_store, 4)
        changed = [_edited(lead, f"text {n}") for n, lead in enumerate(stored)]
        with empty_store.unit_of_work() as uow:
            saved = self._bulk(uow).save_many(changed)
            assert [e.lead_id.value for e in uow.events] == [x.id.value for x in changed]
            uow.commit()
        assert [lead.version for lead in saved] == [2, 2, 2, 2]
        assert all(not lead.pending_events for lead in saved)
        with empty_store.unit_of_work() as uow:
            for lead in saved:
                assert uow.leads.get(lead.id) == lead
                assert uow.leads.get(lead.id).description == lead.description

    def test_save_many_of_nothing_returns_nothing(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow:
            assert self._bulk(uow).save_many([]) == ()

    def test_save_many_with_one_stale_lead_raises_and_stores_none_of_them(
        self, empty_store: LeadStore
    ) -> None:
        stored = _stored(empty_store, 3)
        with empty_store.unit_of_work() as uow:
            uow.leads.save(_edited(stored[1], "someone else"))
            uow.commit()
        changed = [_edited(lead, "bulk") for lead in stored]
        with empty_store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyConflict) as caught:
                self._bulk(uow).save_many(changed)
            assert str(caught.value.key) == "b001"
            assert caught.value.expected_version == 1
            assert caught.value.actual_version == 2
            assert not uow.events
            # Nothing of the refused batch is seen, even in its own unit of work.
            assert uow.leads.get(LeadId("b000")) == stored[0]
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert uow.leads.get(LeadId("b000")).version == 1
            assert uow.leads.get(LeadId("b002")).version == 1
            assert uow.leads.get(LeadId("b001")).description == "someone else"

    def test_save_many_keeps_the_earlier_changes_of_its_unit_of_work_after_a_refusal(
        self, empty_store: LeadStore
    ) -> None:
        stored = _stored(empty_store, 2)
        with empty_store.unit_of_work() as uow:
            bulk = self._bulk(uow)
            first = bulk.save_many([_edited(stored[0], "first")])
            with pytest.raises(ConcurrencyConflict):
                bulk.save_many([_edited(stored[0], "stale"), _edited(stored[1], "second")])
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert uow.leads.get(LeadId("b000")) == first[0]
            assert uow.leads.get(LeadId("b001")) == stored[1]

    def test_save_many_of_a_lead_never_stored_raises_not_found_and_stores_none(
        self, empty_store: LeadStore
    ) -> None:
        stored = _stored(empty_store, 1)
        ghost = attrs.evolve(_new("ghost"), version=1, pending_events=())
        with empty_store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                self._bulk(uow).save_many([_edited(stored[0], "x"), ghost])
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert uow.leads.get(LeadId("b000")) == stored[0]

    def test_save_many_refuses_a_lead_listed_twice_and_a_value_that_is_not_a_lead(
        self, empty_store: LeadStore
    ) -> None:
        stored = _stored(empty_store, 1)
        with empty_store.unit_of_work() as uow:
            bulk = self._bulk(uow)
            with pytest.raises(InvalidValue) as twice:
                bulk.save_many([stored[0], _edited(stored[0], "again")])
            with pytest.raises(InvalidValue) as other:
                bulk.save_many(["b000"])  # type: ignore[list-item]
            uow.commit()
        assert twice.value.field == "leads"
        assert other.value.field == "lead"
        with empty_store.unit_of_work() as uow:
            assert uow.leads.get(LeadId("b000")) == stored[0]

    def test_save_many_keeps_notes_and_closed_states(self, empty_store: LeadStore) -> None:
        stored = _stored(empty_store, 2)
        noted = stored[0].add_note("called", at=_T0 + timedelta(hours=1), by=_ANN)
        noted = noted.add_note("again", at=_T0 + timedelta(hours=2), by=_ANN)
        with empty_store.unit_of_work() as uow:
            first = self._bulk(uow).save_many([noted, _edited(stored[1], "x")])
            uow.commit()
        fewer = first[0].add_note("third", at=_T0 + timedelta(hours=3), by=_ANN)
        with empty_store.unit_of_work() as uow:
            second = self._bulk(uow).save_many([fewer])
            uow.commit()
        with empty_store.unit_of_work() as uow:
            back = uow.leads.get(LeadId("b000"))
        assert back == second[0]
        assert [note.text for note in back.notes] == ["called", "again", "third"]
        assert back.state is LeadState.OPEN

    # scan -------------------------------------------------------------------------------------

    def test_scan_pages_through_every_matching_lead_in_the_query_order(
        self, empty_store: LeadStore
    ) -> None:
        _stored(empty_store, 7)
        query = LeadQuery(sort=LeadSort.ID)
        with empty_store.unit_of_work() as uow:
            bulk = self._bulk(uow)
            seen: list[str] = []
            after: str | None = None
            for _ in range(10):
                page = bulk.scan(query, limit=3, after=after)
                seen.extend(lead.id.value for lead in page.items)
                after = page.next_cursor
                if after is None:
                    break
        assert seen == [f"b{n:03d}" for n in range(7)]

    def test_scan_of_the_shards_together_returns_each_lead_once(
        self, empty_store: LeadStore
    ) -> None:
        _stored(empty_store, 12)
        query = LeadQuery(sort=LeadSort.ID, descending=True)
        with empty_store.unit_of_work() as uow:
            bulk = self._bulk(uow)
            whole = [x.id.value for x in bulk.scan(query, limit=100).items]
            for count in (1, 2, 3, 5):
                for limit in (1, 4, 100):
                    parts: list[str] = []
                    for index in range(count):
                        shard = Shard(index, count)
                        after: str | None = None
                        while True:
                            page = bulk.scan(query, limit=limit, after=after, shard=shard)
                            assert all(shard.contains(x.id.value) for x in page.items)
                            parts.extend(x.id.value for x in page.items)
                            after = page.next_cursor
                            if after is None:
                                break
                    assert sorted(parts) == sorted(whole), (count, limit)
        assert len(whole) == 12

    def test_scan_refuses_a_limit_out_of_range_and_a_foreign_cursor(
        self, empty_store: LeadStore
    ) -> None:
        _stored(empty_store, 3)
        with empty_store.unit_of_work() as uow:
            bulk = self._bulk(uow)
            for limit in (0, 100_001):
                with pytest.raises(InvalidValue) as caught:
                    bulk.scan(LeadQuery(), limit=limit)
                assert caught.value.field == "limit"
            cursor = bulk.scan(LeadQuery(sort=LeadSort.ID), limit=1).next_cursor
            assert cursor is not None
            with pytest.raises(InvalidValue) as foreign:
                bulk.scan(LeadQuery(sort=LeadSort.TOPIC), limit=1, after=cursor)
        assert foreign.value.field == "after"
