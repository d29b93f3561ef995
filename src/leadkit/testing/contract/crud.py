"""Contract tests of reading and writing one lead: get, add, types at the boundary, save,
delete, and the round trip of every field."""

from __future__ import annotations

from typing import Any, cast

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from leadkit.errors import AlreadyExists, ConcurrencyConflict, InvalidValue, NotFound
from leadkit.lead import Lead
from leadkit.ports import LeadQuery, LeadStore
from leadkit.testing.contract._base import StoreFactory, _ContractBase
from leadkit.testing.contract._examples import (
    _ALICE,
    _CAROL,
    _RECORD_KINDS,
    _account,
    _days,
    _full_lead,
    _hours,
    _lead,
    _round_trip_cases,
    _touch,
)
from leadkit.testing.contract._helpers import (
    _check_conflict,
    _count,
    _exists,
    _read,
    _store_leads,
    _store_records,
)
from leadkit.testing.strategies import leads
from leadkit.values import AccountId, LeadId


class CrudContract(_ContractBase):
    """get, add, save and delete of single leads, and the round trip of every field."""

    # get / add --------------------------------------------------------------------------------

    def test_a_key_of_the_wrong_type_is_refused_with_invalid_value(
        self, empty_store: LeadStore
    ) -> None:
        _store_leads(empty_store, _lead("x"))
        _store_records(empty_store, _RECORD_KINDS[0], _account(1, None))
        plain: Any = "x"  # a str where a LeadId belongs: refused, never NotFound or a crash
        with empty_store.unit_of_work() as uow:
            with pytest.raises(InvalidValue):
                uow.leads.get(plain)
            with pytest.raises(InvalidValue):
                uow.leads.delete(plain)
            with pytest.raises(InvalidValue):
                uow.accounts.get(cast(Any, "acc-001"))
            with pytest.raises(InvalidValue):
                uow.accounts.get(cast(Any, LeadId("acc-001")))  # another kind's id
            with pytest.raises(InvalidValue):
                uow.contacts.delete(cast(Any, "x"))
            uow.commit()
        assert _exists(empty_store, LeadId("x"))
        with empty_store.unit_of_work() as uow:
            assert [a.id.value for a in uow.accounts.list()] == ["acc-001"]

    def test_get_of_an_unknown_id_raises_not_found(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow, pytest.raises(NotFound) as caught:
            uow.leads.get(LeadId("nobody"))
        assert isinstance(caught.value, LookupError)

    def test_add_returns_the_stored_copy_with_version_1_and_no_pending_events(
        self, empty_store: LeadStore
    ) -> None:
        lead = _lead("a1")
        assert lead.pending_events
        with empty_store.unit_of_work() as uow:
            stored = uow.leads.add(lead)
            uow.commit()
        assert stored.version == 1
        assert stored.pending_events == ()
        assert stored == attrs.evolve(lead, version=1)

    def test_an_added_lead_reads_back_equal(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("a1", company="Contoso"))
        got = _read(empty_store, LeadId("a1"))
        assert got == stored
        assert got.version == 1
        assert got.pending_events == ()

    def test_add_of_a_stored_id_raises_already_exists(self, empty_store: LeadStore) -> None:
        _store_leads(empty_store, _lead("a1", topic="First"))
        with empty_store.unit_of_work() as uow:
            with pytest.raises(AlreadyExists) as caught:
                uow.leads.add(_lead("a1", topic="Second"))
            assert str(caught.value.key) == "a1"
        assert _read(empty_store, LeadId("a1")).topic == "First"

    def test_add_of_an_id_added_in_the_same_unit_of_work_raises_already_exists(
        self, empty_store: LeadStore
    ) -> None:
        with empty_store.unit_of_work() as uow:
            uow.leads.add(_lead("a1"))
            with pytest.raises(AlreadyExists):
                uow.leads.add(_lead("a1", topic="Again"))

    @pytest.mark.parametrize("version", [1, 2, -1])
    def test_add_of_a_lead_with_a_version_is_refused(
        self, empty_store: LeadStore, version: int
    ) -> None:
        with empty_store.unit_of_work() as uow:
            with pytest.raises(InvalidValue):
                uow.leads.add(attrs.evolve(_lead("a1"), version=version))
            uow.commit()
        assert not _exists(empty_store, LeadId("a1"))

    def test_add_hands_the_pending_events_to_the_unit_of_work(self, empty_store: LeadStore) -> None:
        lead = _lead("a1").add_note("Hello", at=_hours(1), by=_ALICE)
        with empty_store.unit_of_work() as uow:
            uow.leads.add(lead)
            assert list(uow.events) == list(lead.pending_events)

    # types at the boundary ---------------------------------------------------------------------

    @pytest.mark.parametrize("bad", ["a1", 42, None, b"a1", AccountId("a1")])
    def test_an_id_of_another_type_is_refused_naming_it(
        self, empty_store: LeadStore, bad: object
    ) -> None:
        _store_leads(empty_store, _lead("a1"))
        with empty_store.unit_of_work() as uow:
            with pytest.raises(InvalidValue) as caught:
                uow.leads.get(bad)  # type: ignore[arg-type]
            assert caught.value.field == "lead_id"
            with pytest.raises(InvalidValue):
                uow.leads.delete(bad)  # type: ignore[arg-type]
            with pytest.raises(InvalidValue) as caught:
                uow.accounts.get(LeadId("a1"))  # type: ignore[arg-type]
            assert caught.value.field == "account_id"

    def test_a_value_of_another_type_is_never_stored(self, empty_store: LeadStore) -> None:
        account = _account(1, None)
        with empty_store.unit_of_work() as uow:
            with pytest.raises(InvalidValue) as caught:
                uow.leads.add(account)  # type: ignore[arg-type]
            assert caught.value.field == "lead"
            with pytest.raises(InvalidValue):
                uow.leads.save(account)  # type: ignore[arg-type]
            with pytest.raises(InvalidValue) as caught:
                uow.contacts.add(account)  # type: ignore[arg-type]
            assert caught.value.field == "contact"
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert uow.leads.count(LeadQuery()) == 0
            assert list(uow.contacts.list()) == []

    # save -------------------------------------------------------------------------------------

    def test_save_bumps_the_version_and_returns_the_stored_copy(
        self, empty_store: LeadStore
    ) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        changed = _touch(stored, "changed")
        with empty_store.unit_of_work() as uow:
            saved = uow.leads.save(changed)
            assert list(uow.events) == list(changed.pending_events)
            uow.commit()
        assert saved.version == 2
        assert saved.pending_events == ()
        assert saved == attrs.evolve(changed, version=2)
        assert _read(empty_store, LeadId("s1")) == saved

    def test_save_without_changes_still_bumps_the_version(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow:
            assert uow.leads.save(stored).version == 2
            uow.commit()
        assert _read(empty_store, LeadId("s1")).version == 2

    def test_saving_twice_in_one_unit_of_work_bumps_twice(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow:
            second = uow.leads.save(_touch(stored, "one"))
            third = uow.leads.save(_touch(second, "two"))
            uow.commit()
        assert (second.version, third.version) == (2, 3)
        got = _read(empty_store, LeadId("s1"))
        assert got.version == 3
        assert got.description == "two"

    def test_save_of_a_stale_copy_raises_concurrency_conflict_with_both_versions(
        self, empty_store: LeadStore
    ) -> None:
        (stale,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow:
            uow.leads.save(_touch(uow.leads.get(LeadId("s1")), "theirs"))
            uow.commit()
        with empty_store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyConflict) as caught:
                uow.leads.save(_touch(stale, "mine"))
            uow.commit()
        _check_conflict(caught.value, "s1", expected=1, actual=2)
        got = _read(empty_store, LeadId("s1"))
        assert (got.version, got.description) == (2, "theirs")

    def test_save_of_a_copy_ahead_of_the_store_raises_concurrency_conflict(
        self, empty_store: LeadStore
    ) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow, pytest.raises(ConcurrencyConflict) as caught:
            uow.leads.save(attrs.evolve(stored, version=5))
        _check_conflict(caught.value, "s1", expected=5, actual=1)

    def test_save_with_the_expected_version_stores_the_lead(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow:
            saved = uow.leads.save(_touch(stored, "mine"), expected_version=1)
            uow.commit()
        assert saved.version == 2
        assert _read(empty_store, LeadId("s1")).description == "mine"

    def test_save_with_an_expected_version_the_store_no_longer_holds_conflicts(
        self, empty_store: LeadStore
    ) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow:
            current = uow.leads.save(_touch(stored, "theirs"))
            uow.commit()
        # A client saw version 1 (If-Match: "1"); the host read version 2 and changed it.
        with empty_store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyConflict) as caught:
                uow.leads.save(_touch(current, "mine"), expected_version=1)
            uow.commit()
        _check_conflict(caught.value, "s1", expected=1, actual=2)
        got = _read(empty_store, LeadId("s1"))
        assert (got.version, got.description) == (2, "theirs")

    def test_save_with_an_expected_version_of_a_missing_lead_raises_not_found(
        self, empty_store: LeadStore
    ) -> None:
        with empty_store.unit_of_work() as uow, pytest.raises(NotFound):
            uow.leads.save(attrs.evolve(_lead("ghost"), version=1), expected_version=3)

    @pytest.mark.parametrize("bad", ["1", 1.0, True])
    def test_save_refuses_an_expected_version_that_is_not_an_integer(
        self, empty_store: LeadStore, bad: object
    ) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow, pytest.raises(InvalidValue) as caught:
            uow.leads.save(stored, expected_version=bad)  # type: ignore[arg-type]
        assert caught.value.field == "expected_version"

    def test_save_of_a_lead_never_stored_raises_not_found(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.leads.save(_lead("ghost"))
            with pytest.raises(NotFound):
                uow.leads.save(attrs.evolve(_lead("ghost"), version=1))
            uow.commit()
        assert not _exists(empty_store, LeadId("ghost"))

    def test_save_of_a_deleted_lead_raises_not_found(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("s1"))
        with empty_store.unit_of_work() as uow:
            uow.leads.delete(LeadId("s1"))
            uow.commit()
        with empty_store.unit_of_work() as uow, pytest.raises(NotFound):
            uow.leads.save(_touch(stored, "too late"))

    # delete -----------------------------------------------------------------------------------

    def test_delete_removes_the_lead(self, empty_store: LeadStore) -> None:
        _store_leads(empty_store, _lead("d1"), _lead("d2"))
        with empty_store.unit_of_work() as uow:
            assert uow.leads.delete(LeadId("d1")) is None  # type: ignore[func-returns-value]
            uow.commit()
        assert not _exists(empty_store, LeadId("d1"))
        assert _exists(empty_store, LeadId("d2"))
        assert _count(empty_store) == 1

    def test_delete_with_the_stored_version_removes_the_lead(self, empty_store: LeadStore) -> None:
        (stored,) = _store_leads(empty_store, _lead("d1"))
        with empty_store.unit_of_work() as uow:
            saved = uow.leads.save(_touch(stored, "x"))
            uow.leads.delete(LeadId("d1"), expected_version=saved.version)
            uow.commit()
        assert not _exists(empty_store, LeadId("d1"))

    def test_delete_with_a_stale_version_raises_concurrency_conflict_and_keeps_the_lead(
        self, empty_store: LeadStore
    ) -> None:
        _store_leads(empty_store, _lead("d1"))
        with empty_store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyConflict) as caught:
                uow.leads.delete(LeadId("d1"), expected_version=2)
            uow.commit()
        _check_conflict(caught.value, "d1", expected=2, actual=1)
        assert _exists(empty_store, LeadId("d1"))

    def test_delete_of_an_unknown_id_raises_not_found(self, empty_store: LeadStore) -> None:
        with empty_store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.leads.delete(LeadId("nobody"))
            with pytest.raises(NotFound):
                uow.leads.delete(LeadId("nobody"), expected_version=1)

    def test_delete_of_a_lead_deleted_in_the_same_unit_of_work_raises_not_found(
        self, empty_store: LeadStore
    ) -> None:
        _store_leads(empty_store, _lead("d1"))
        with empty_store.unit_of_work() as uow:
            uow.leads.delete(LeadId("d1"))
            with pytest.raises(NotFound):
                uow.leads.delete(LeadId("d1"))

    def test_delete_removes_notes_activities_attachments_and_stakeholders(
        self, empty_store: LeadStore
    ) -> None:
        full = _full_lead("x1")
        assert full.notes
        assert full.activities
        assert full.stakeholders
        _store_leads(empty_store, full)
        with empty_store.unit_of_work() as uow:
            uow.leads.delete(LeadId("x1"))
            uow.commit()
        assert not _exists(empty_store, LeadId("x1"))
        _store_leads(empty_store, _lead("x1"))
        again = _read(empty_store, LeadId("x1"))
        assert (again.notes, again.activities, again.stakeholders) == ((), (), ())
        assert again.version == 1

    def test_delete_and_add_again_in_one_unit_of_work_leaves_only_the_new_lead(
        self, empty_store: LeadStore
    ) -> None:
        _store_leads(empty_store, _full_lead("x1"))
        with empty_store.unit_of_work() as uow:
            uow.leads.delete(LeadId("x1"))
            with pytest.raises(NotFound):
                uow.leads.get(LeadId("x1"))
            added = uow.leads.add(_lead("x1", topic="Fresh start"))
            uow.commit()
        got = _read(empty_store, LeadId("x1"))
        assert got == added
        assert (got.notes, got.activities, got.stakeholders) == ((), (), ())

    # round trip -------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        "lead", [pytest.param(lead, id=label) for label, lead in _round_trip_cases()]
    )
    def test_a_lead_reads_back_equal_after_add_and_after_save(
        self, empty_store: LeadStore, lead: Lead
    ) -> None:
        (stored,) = _store_leads(empty_store, lead)
        got = _read(empty_store, lead.id)
        assert got == attrs.evolve(lead, version=1)
        assert got == stored
        changed = got.add_note("One more", at=_days(90), by=_CAROL, title="Later")
        with empty_store.unit_of_work() as uow:
            saved = uow.leads.save(changed)
            uow.commit()
        assert _read(empty_store, lead.id) == saved == attrs.evolve(changed, version=2)

    def test_any_lead_reads_back_equal(self, make_store: StoreFactory) -> None:
        # An inner function, not @given on the method: every adapter's subclass runs this test,
        # and hypothesis refuses one property called from several classes.
        @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(lead=leads())
        def reads_back_equal(lead: Lead) -> None:
            store = make_store()
            try:
                _store_leads(store, lead)
                assert _read(store, lead.id) == attrs.evolve(lead, version=1)
            finally:
                store.close()

        reads_back_equal()
