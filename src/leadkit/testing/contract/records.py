"""Contract tests of accounts, contacts and opportunities: one set of tests for the three."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from leadkit.errors import AlreadyExists, ConcurrencyConflict, InvalidValue, NotFound
from leadkit.ports import LeadStore
from leadkit.testing.contract._base import _ContractBase
from leadkit.testing.contract._examples import _RECORD_KINDS, _RecordKind
from leadkit.testing.contract._helpers import _check_conflict, _store_records
from leadkit.values import LeadId


class RecordContract(_ContractBase):
    """Accounts, contacts and opportunities."""

    # accounts, contacts, opportunities --------------------------------------------------------

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_get_of_an_unknown_id_raises_not_found(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        missing = kind.key(kind.make(999, None))
        with empty_store.unit_of_work() as uow, pytest.raises(NotFound):
            kind.repository(uow).get(missing)

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_add_returns_version_1_and_reads_back_equal(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        record = kind.make(1, LeadId("lead-1"))
        (stored,) = _store_records(empty_store, kind, record)
        assert stored == attrs.evolve(record, version=1)
        with empty_store.unit_of_work() as uow:
            assert kind.repository(uow).get(kind.key(record)) == stored

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_add_of_a_stored_id_raises_already_exists(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        record = kind.make(1, None)
        _store_records(empty_store, kind, record)
        with empty_store.unit_of_work() as uow, pytest.raises(AlreadyExists):
            kind.repository(uow).add(kind.change(record, "Another"))

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_add_with_a_version_is_refused(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        with empty_store.unit_of_work() as uow, pytest.raises(InvalidValue):
            kind.repository(uow).add(attrs.evolve(kind.make(1, None), version=3))

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_save_bumps_the_version(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        (stored,) = _store_records(empty_store, kind, kind.make(1, None))
        changed = kind.change(stored, "Changed")
        with empty_store.unit_of_work() as uow:
            saved = kind.repository(uow).save(changed)
            uow.commit()
        assert saved == attrs.evolve(changed, version=2)
        with empty_store.unit_of_work() as uow:
            assert kind.repository(uow).get(kind.key(stored)) == saved

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_save_of_a_stale_copy_raises_concurrency_conflict(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        with empty_store.unit_of_work() as uow:
            stale = kind.repository(uow).add(kind.make(1, None))
            kind.repository(uow).save(kind.change(stale, "Theirs"))
            uow.commit()
        with empty_store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyConflict) as caught:
                kind.repository(uow).save(kind.change(stale, "Mine"))
            assert kind.repository(uow).get(kind.key(stale)).version == 2
        _check_conflict(caught.value, kind.key(stale), expected=1, actual=2)

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_save_of_an_unknown_record_raises_not_found(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        with empty_store.unit_of_work() as uow, pytest.raises(NotFound):
            kind.repository(uow).save(attrs.evolve(kind.make(1, None), version=1))

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_delete_removes_it(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        first, second = _store_records(empty_store, kind, kind.make(1, None), kind.make(2, None))
        with empty_store.unit_of_work() as uow:
            kind.repository(uow).delete(kind.key(first))
            kind.repository(uow).delete(kind.key(second), expected_version=1)
            uow.commit()
        with empty_store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                kind.repository(uow).get(kind.key(first))
            assert list(kind.repository(uow).list()) == []

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_delete_raises_not_found_or_concurrency_conflict(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        (stored,) = _store_records(empty_store, kind, kind.make(1, None))
        with empty_store.unit_of_work() as uow:
            repository = kind.repository(uow)
            with pytest.raises(NotFound):
                repository.delete(kind.key(kind.make(2, None)))
            with pytest.raises(ConcurrencyConflict) as caught:
                repository.delete(kind.key(stored), expected_version=7)
            uow.commit()
        _check_conflict(caught.value, kind.key(stored), expected=7, actual=1)
        with empty_store.unit_of_work() as uow:
            assert kind.repository(uow).get(kind.key(stored)) == stored

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_list_is_ordered_by_id_and_filters_by_originating_lead(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        one, two = LeadId("lead-1"), LeadId("lead-2")
        stored = _store_records(
            empty_store,
            kind,
            *(kind.make(n, lead) for n, lead in ((3, one), (1, two), (2, one), (4, None))),
        )
        by_id = sorted(stored, key=lambda r: str(kind.key(r)))
        with empty_store.unit_of_work() as uow:
            repository = kind.repository(uow)
            assert list(repository.list()) == by_id
            assert list(repository.list(originating_lead=one)) == [by_id[1], by_id[2]]
            assert list(repository.list(originating_lead=LeadId("none"))) == []
            added = repository.add(kind.make(0, one))
            repository.delete(kind.key(by_id[1]))
            assert list(repository.list(originating_lead=one)) == [added, by_id[2]]

    @pytest.mark.parametrize("kind", _RECORD_KINDS, ids=str)
    def test_record_changes_are_rolled_back_without_commit(
        self, empty_store: LeadStore, kind: _RecordKind[Any, Any]
    ) -> None:
        (stored,) = _store_records(empty_store, kind, kind.make(1, None))
        with empty_store.unit_of_work() as uow:
            kind.repository(uow).save(kind.change(stored, "Lost"))
            kind.repository(uow).add(kind.make(2, None))
        with empty_store.unit_of_work() as uow:
            assert list(kind.repository(uow).list()) == [stored]
