"""Contract tests of units of work (all or nothing, isolation, conflicts) and of closing a
store."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from leadkit.errors import AlreadyExists, ConcurrencyConflict, NotFound, StorageUnavailable
from leadkit.ports import LeadQuery, LeadSort, LeadStore, Views
from leadkit.testing.contract._base import _ContractBase, _lock_hint
from leadkit.testing.contract._examples import (
    _BOB,
    _T0,
    _account,
    _contact,
    _days,
    _hours,
    _lead,
    _opportunity,
    _touch,
)
from leadkit.testing.contract._helpers import (
    _Boom,
    _check_conflict,
    _exists,
    _ids,
    _read,
    _store_leads,
)
from leadkit.values import LeadId


class UnitOfWorkContract(_ContractBase):
    """Units of work: commit, rollback, isolation, conflicts; closing the store."""

    # unit of work -----------------------------------------------------------------------------

    def test_leaving_the_block_without_commit_rolls_back(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("u1"))
        with empty_store.unit_of_work() as uow:
            uow.leads.add(_lead("u2"))
            uow.leads.save(_touch(stored, "not kept"))
            uow.accounts.add(_account(1, None))
        assert not _exists(empty_store, LeadId("u2"))
        assert _read(empty_store, LeadId("u1")) == stored
        with empty_store.unit_of_work() as uow:
            assert list(uow.accounts.list()) == []

    def test_an_exception_in_the_block_rolls_back_and_propagates(
        self, empty_store: LeadStore
    ) -> None:
        (stored,) = _store_leads(empty_store, _lead("u1"))
        with pytest.raises(_Boom), empty_store.unit_of_work() as uow:  # noqa: PT012
            uow.leads.add(_lead("u2"))
            uow.leads.delete(LeadId("u1"))
            raise _Boom
        assert not _exists(empty_store, LeadId("u2"))
        assert _read(empty_store, LeadId("u1")) == stored

    def test_rollback_forgets_the_changes_since_the_last_commit(
        self, empty_store: LeadStore
    ) -> None:
        with empty_store.unit_of_work() as uow:
            uow.leads.add(_lead("u1"))
            uow.commit()
            uow.leads.add(_lead("u2"))
            uow.rollback()
            assert list(uow.events) == []
            with pytest.raises(NotFound):
                uow.leads.get(LeadId("u2"))
            uow.leads.add(_lead("u3"))
            uow.commit()
        assert [_exists(empty_store, LeadId(k)) for k in ("u1", "u2", "u3")] == [
            True,
            False,
            True,
        ]

    def test_a_unit_of_work_may_commit_more_than_once(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow:
            stored = uow.leads.add(_lead("u1"))
            uow.commit()
            uow.leads.save(_touch(stored, "second commit"))
            uow.commit()
        assert _read(empty_store, LeadId("u1")).version == 2

    def test_commit_stores_the_changes_of_every_repository(self, empty_store: LeadStore) -> None:
        lead_id = LeadId("q1")
        with empty_store.unit_of_work() as uow:
            uow.leads.add(_lead("q1"))
            account = uow.accounts.add(_account(1, lead_id))
            contact = uow.contacts.add(_contact(1, lead_id))
            opportunity = uow.opportunities.add(_opportunity(1, lead_id))
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert uow.leads.get(lead_id).version == 1
            assert uow.accounts.get(account.id) == account
            assert uow.contacts.get(contact.id) == contact
            assert uow.opportunities.get(opportunity.id) == opportunity

    def test_a_unit_of_work_reads_its_own_writes(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("w1", at=_T0), _lead("w2", at=_hours(1)))[:1]
        with empty_store.unit_of_work() as uow:
            added = uow.leads.add(_lead("w3", at=_hours(2), owner=_BOB))
            assert uow.leads.get(LeadId("w3")) == added
            saved = uow.leads.save(_touch(stored, "mine", at=_days(1)))
            assert uow.leads.get(LeadId("w1")) == saved
            uow.leads.delete(LeadId("w2"))
            with pytest.raises(NotFound):
                uow.leads.get(LeadId("w2"))
            assert uow.leads.count(LeadQuery()) == 2
            assert _ids(uow.leads.query(LeadQuery()).items) == ["w1", "w3"]
            assert list(uow.leads.stream(batch_size=1)) == [saved, added]
            assert _ids(uow.leads.query(Views.my_open_leads(_BOB)).items) == ["w3"]
            assert _ids(uow.leads.query(LeadQuery(sort=LeadSort.MODIFIED_AT)).items) == [
                "w3",
                "w1",
            ]
            account = uow.accounts.add(_account(1, LeadId("w3")))
            assert list(uow.accounts.list(originating_lead=LeadId("w3"))) == [account]

    @_lock_hint("supports_concurrent_readers")
    def test_uncommitted_writes_are_invisible_to_other_units_of_work(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_concurrent_readers")
        stored = _store_leads(empty_store, _lead("i1"), _lead("i2"))
        with empty_store.unit_of_work() as writer:
            writer.leads.add(_lead("i3"))
            writer.leads.save(_touch(stored[0], "uncommitted"))
            writer.leads.delete(LeadId("i2"))
            writer.accounts.add(_account(1, None))
            with empty_store.unit_of_work() as reader:
                with pytest.raises(NotFound):
                    reader.leads.get(LeadId("i3"))
                assert reader.leads.get(LeadId("i1")) == stored[0]
                assert reader.leads.get(LeadId("i2")) == stored[1]
                assert reader.leads.count(LeadQuery()) == 2
                assert _ids(reader.leads.query(LeadQuery()).items) == ["i1", "i2"]
                assert list(reader.accounts.list()) == []
            writer.commit()
        with empty_store.unit_of_work() as later:
            assert _ids(later.leads.query(LeadQuery(sort=LeadSort.ID)).items) == ["i1", "i3"]
            assert later.leads.get(LeadId("i1")).description == "uncommitted"

    def test_a_stale_save_stores_none_of_the_unit_of_works_changes(
        self, empty_store: LeadStore
    ) -> None:
        stale, other = _store_leads(empty_store, _lead("c1"), _lead("c2"))
        with empty_store.unit_of_work() as uow:
            uow.leads.save(_touch(uow.leads.get(LeadId("c1")), "theirs"))
            uow.commit()
        with pytest.raises(ConcurrencyConflict), empty_store.unit_of_work() as uow:  # noqa: PT012
            uow.leads.add(_lead("c3"))
            uow.leads.save(_touch(other, "mine too"))
            uow.accounts.add(_account(1, None))
            uow.leads.save(_touch(stale, "mine"))
            uow.commit()
        assert not _exists(empty_store, LeadId("c3"))
        assert _read(empty_store, LeadId("c2")) == other
        assert _read(empty_store, LeadId("c1")).description == "theirs"
        with empty_store.unit_of_work() as uow:
            assert list(uow.accounts.list()) == []

    @_lock_hint("supports_concurrent_writers")
    def test_a_conflict_at_commit_stores_nothing(self, empty_store: LeadStore) -> None:
        self._require("supports_concurrent_writers")
        _, other = _store_leads(empty_store, _lead("c1"), _lead("c2"))
        with empty_store.unit_of_work() as first, empty_store.unit_of_work() as second:
            first.leads.add(_lead("c3"))
            first.leads.save(_touch(other, "first"))
            first.contacts.add(_contact(1, None))
            first.leads.save(_touch(first.leads.get(LeadId("c1")), "first"))
            second.leads.save(_touch(second.leads.get(LeadId("c1")), "second"))
            second.commit()
            with pytest.raises(ConcurrencyConflict) as caught:
                first.commit()
        _check_conflict(caught.value, "c1", expected=1, actual=2)
        assert not _exists(empty_store, LeadId("c3"))
        assert _read(empty_store, LeadId("c2")) == other
        got = _read(empty_store, LeadId("c1"))
        assert (got.version, got.description) == (2, "second")
        with empty_store.unit_of_work() as uow:
            assert list(uow.contacts.list()) == []

    @_lock_hint("supports_concurrent_writers")
    def test_of_two_units_of_work_saving_one_lead_only_the_first_commit_lands(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_concurrent_writers")
        _store_leads(empty_store, _lead("c1"))
        with empty_store.unit_of_work() as first, empty_store.unit_of_work() as second:
            mine = first.leads.get(LeadId("c1"))
            theirs = second.leads.get(LeadId("c1"))
            first.leads.save(_touch(mine, "first"))
            first.commit()
            with pytest.raises(ConcurrencyConflict) as caught:  # noqa: PT012
                second.leads.save(_touch(theirs, "second"))
                second.commit()
        _check_conflict(caught.value, "c1", expected=1, actual=2)
        assert _read(empty_store, LeadId("c1")).description == "first"

    @_lock_hint("supports_concurrent_writers")
    def test_two_units_of_work_adding_one_id_store_only_the_first(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_concurrent_writers")
        with empty_store.unit_of_work() as first, empty_store.unit_of_work() as second:
            first.leads.add(_lead("c1", topic="First"))
            second.leads.add(_lead("c1", topic="Second"))
            first.commit()
            with pytest.raises((ConcurrencyConflict, AlreadyExists)):
                second.commit()
        assert _read(empty_store, LeadId("c1")).topic == "First"

    # closing ----------------------------------------------------------------------------------

    def test_a_closed_store_refuses_new_units_of_work(self, empty_store: LeadStore) -> None:
        _store_leads(empty_store, _lead("z1"))
        empty_store.close()
        with pytest.raises(StorageUnavailable), empty_store.unit_of_work() as uow:
            uow.leads.get(LeadId("z1"))

    def test_a_unit_of_work_open_when_the_store_closes_refuses_further_use(
        self, empty_store: LeadStore
    ) -> None:
        _store_leads(empty_store, _lead("z1"))
        with pytest.raises(StorageUnavailable), empty_store.unit_of_work() as uow:  # noqa: PT012
            uow.leads.add(_lead("z2"))
            empty_store.close()
            uow.commit()

    def test_a_unit_of_work_refuses_use_after_its_block(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("z1"))
        with empty_store.unit_of_work() as uow:
            uow.leads.get(LeadId("z1"))
        uses: list[Callable[[], object]] = [
            lambda: uow.leads.get(LeadId("z1")),
            lambda: uow.leads.add(_lead("z2")),
            lambda: uow.leads.save(stored),
            lambda: uow.leads.delete(LeadId("z1")),
            lambda: uow.leads.query(LeadQuery()),
            lambda: uow.leads.count(LeadQuery()),
            lambda: list(uow.leads.stream()),
            lambda: uow.accounts.list(),
            lambda: uow.commit(),
        ]
        for use in uses:
            with pytest.raises(StorageUnavailable):
                use()
        assert _read(empty_store, LeadId("z1")) == stored
