"""Contract tests of merge records (``supports_merges``)."""

from __future__ import annotations

import attrs
import pytest

from leadkit.errors import ConcurrencyConflict, NotFound
from leadkit.merging import MergeRecord, Survivorship, plan_merge
from leadkit.ports import LeadStore
from leadkit.services import merge, unmerge
from leadkit.status import LeadState
from leadkit.testing.contract._base import _ContractBase
from leadkit.testing.contract._examples import _ALICE, _BOB, _T0, _hours, _lead
from leadkit.testing.contract._helpers import _store_leads
from leadkit.timeline import StakeholderRole
from leadkit.values import ContactId, MergeId


class MergeContract(_ContractBase):
    """Merge records: stored, versioned, listed by master; merge then unmerge."""

    # merges (supports_merges) -----------------------------------------------------------------

    def test_merge_records_are_stored_versioned_and_listed_by_master(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_merges")
        master, other = _store_leads(
            empty_store, _lead("m01", company="Contoso"), _lead("m02", email="a@b.example")
        )
        plan = plan_merge(master, [other], Survivorship())
        with empty_store.unit_of_work() as uow:
            merged = plan.apply(MergeId("merge-1"), at=_hours(1), by=_ALICE)
            after = tuple(uow.leads.save(lead) for lead in merged)
            record = MergeRecord(
                id=MergeId("merge-1"),
                master=master.id,
                merged=(other.id,),
                at=_hours(1),
                by=_ALICE,
                before=(master, other),
                after=after,
                moved=plan.moved,
            )
            stored = uow.merges.add(record)  # type: ignore[attr-defined]
            assert stored == attrs.evolve(record, version=1)
            uow.rollback()
        with empty_store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.merges.get(MergeId("merge-1"))  # type: ignore[attr-defined]
            uow.merges.add(record)  # type: ignore[attr-defined]
            uow.commit()
        with empty_store.unit_of_work() as uow:
            assert uow.merges.get(MergeId("merge-1")) == stored  # type: ignore[attr-defined]
            assert list(uow.merges.list(originating_lead=master.id)) == [stored]  # type: ignore[attr-defined]
            assert list(uow.merges.list(originating_lead=other.id)) == []  # type: ignore[attr-defined]
            done = attrs.evolve(stored, undone_at=_hours(2), undone_by=_BOB)
            assert uow.merges.save(done).version == 2  # type: ignore[attr-defined]
            with pytest.raises(ConcurrencyConflict):
                uow.merges.save(done)  # type: ignore[attr-defined]
            uow.commit()

    def test_merge_then_unmerge_restores_every_lead(self, empty_store: LeadStore) -> None:
        self._require("supports_merges")
        master = _lead("m01").add_note("Mine", at=_T0, by=_ALICE)
        other = (
            _lead("m02", company="Fabrikam")
            .add_note("Theirs", at=_T0, by=_BOB)
            .add_stakeholder(ContactId("c1"), StakeholderRole.DECISION_MAKER, at=_T0, by=_BOB)
        )
        stored = _store_leads(empty_store, master, other)
        plan = plan_merge(stored[0], stored[1:], Survivorship())
        result = merge(empty_store, plan, ids=lambda: "merge-1", at=_hours(1), by=_ALICE)
        with empty_store.unit_of_work() as uow:
            merged_master = uow.leads.get(master.id)
            merged_other = uow.leads.get(other.id)
        assert [n.text for n in merged_master.notes] == ["Mine", "Theirs"]
        assert merged_master.company == "Fabrikam"
        assert merged_other.merged_into == master.id
        assert merged_other.state is LeadState.DISQUALIFIED
        unmerge(empty_store, result.merge_id, at=_hours(2), by=_ALICE)
        with empty_store.unit_of_work() as uow:
            back = [uow.leads.get(lead.id) for lead in stored]
        assert [attrs.evolve(lead, version=0) for lead in back] == [
            attrs.evolve(lead, version=0) for lead in stored
        ]
