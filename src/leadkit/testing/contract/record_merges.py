"""Contract tests of contact and account merge records (``supports_record_merges``)."""

from __future__ import annotations

import attrs
import pytest

from leadkit.errors import ConcurrencyConflict, NotFound
from leadkit.policies import RecordKind
from leadkit.ports import LeadStore
from leadkit.record_merge_service import merge_records, unmerge_records
from leadkit.record_merging import RecordSurvivorship, plan_record_merge
from leadkit.records import Contact, Opportunity
from leadkit.testing.contract._base import _ContractBase
from leadkit.testing.contract._examples import _ALICE, _BOB, _hours
from leadkit.values import ContactId, MergeId, OpportunityId, PersonName


class RecordMergeContract(_ContractBase):
    """Record merges: stored, versioned; a contact merge then its unmerge."""

    def test_a_contact_merge_is_stored_and_its_unmerge_restores_every_record(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_record_merges")
        name = PersonName(first="Ada", last="Lovelace")
        with empty_store.unit_of_work() as uow:
            master = uow.contacts.add(Contact(id=ContactId("c01"), name=name))
            other = uow.contacts.add(Contact(id=ContactId("c02"), name=name, job_title="CTO"))
            deal = uow.opportunities.add(
                Opportunity(id=OpportunityId("o01"), name="Deal", customer=other.id, currency="EUR")
            )
            uow.commit()
        plan = plan_record_merge(master, [other], RecordSurvivorship(RecordKind.CONTACT))
        result = merge_records(empty_store, plan, ids=lambda: "rm-1", at=_hours(1), by=_ALICE)
        with empty_store.unit_of_work() as uow:
            stored = uow.record_merges.get(MergeId("rm-1"))  # type: ignore[attr-defined]
            assert stored == result.record
            assert stored.version == 1
            assert uow.contacts.get(other.id).merged_into == master.id
            assert uow.contacts.get(master.id).job_title == "CTO"
            assert uow.opportunities.get(deal.id).customer == master.id
        undone = unmerge_records(empty_store, MergeId("rm-1"), at=_hours(2), by=_BOB)
        assert undone.record.version == 2
        with empty_store.unit_of_work() as uow:
            assert attrs.evolve(uow.contacts.get(other.id), version=0) == attrs.evolve(
                other, version=0
            )
            assert uow.opportunities.get(deal.id).customer == other.id
            with pytest.raises(ConcurrencyConflict):
                uow.record_merges.save(stored)  # type: ignore[attr-defined]
            with pytest.raises(NotFound):
                uow.record_merges.get(MergeId("rm-2"))  # type: ignore[attr-defined]
