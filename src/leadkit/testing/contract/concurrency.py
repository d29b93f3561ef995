"""Contract tests of threads (``supports_threads``) and persistence (``supports_reopen``)."""

from __future__ import annotations

import random
import threading

import attrs
import pytest

from leadkit.errors import ConcurrencyConflict, NotFound
from leadkit.ports import LeadStore
from leadkit.testing.contract._base import _ContractBase
from leadkit.testing.contract._examples import _account, _days, _full_lead, _lead, _touch
from leadkit.testing.contract._helpers import _store_leads
from leadkit.values import AccountId, LeadId


class ConcurrencyContract(_ContractBase):
    """Threads and persistence across a reopen."""

    # threads and persistence ------------------------------------------------------------------

    def test_concurrent_read_modify_save_cycles_lose_no_update(
        self, empty_store: LeadStore
    ) -> None:
        self._require("supports_threads")
        keys = [LeadId(f"t{n}") for n in range(3)]
        _store_leads(empty_store, *(_lead(key.value) for key in keys))
        landed = dict.fromkeys(keys, 0)
        errors: list[BaseException] = []
        guard = threading.Lock()
        start = threading.Barrier(4)

        def work(seed: int) -> None:
            rng = random.Random(seed)
            try:
                start.wait()
                for cycle in range(25):
                    key = rng.choice(keys)
                    try:
                        with empty_store.unit_of_work() as uow:
                            lead = uow.leads.get(key)  # add one to the lead's counter
                            counted = int(lead.description or "0") + 1
                            uow.leads.save(_touch(lead, str(counted), at=_days(30 + cycle)))
                            uow.commit()
                    except ConcurrencyConflict:
                        continue
                    with guard:
                        landed[key] += 1
            except BaseException as e:  # report in the test thread
                errors.append(e)

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert sum(landed.values()) > 0
        with empty_store.unit_of_work() as uow:
            stored = {key: uow.leads.get(key) for key in keys}
        # Contents, not only versions: a save that skipped the version check but bumped the
        # stored version would keep the counts right and lose the counters' increments.
        assert {key: int(lead.description or "0") for key, lead in stored.items()} == landed
        assert {key: lead.version - 1 for key, lead in stored.items()} == landed

    def test_committed_data_survives_reopening_the_store(self, empty_store: LeadStore) -> None:
        self._require("supports_reopen")
        full = _full_lead()
        _store_leads(empty_store, full, _lead("r2"))
        with empty_store.unit_of_work() as uow:
            uow.accounts.add(_account(1, full.id))
            uow.leads.save(_touch(uow.leads.get(LeadId("r2")), "saved"))
            uow.commit()
            uow.leads.add(_lead("r3"))  # never committed
        reopened = self.reopen_store(empty_store)
        try:
            with reopened.unit_of_work() as uow:
                assert uow.leads.get(full.id) == attrs.evolve(full, version=1)
                assert uow.leads.get(LeadId("r2")).version == 2
                with pytest.raises(NotFound):
                    uow.leads.get(LeadId("r3"))
                assert [a.id for a in uow.accounts.list()] == [AccountId("acc-001")]
                saved = uow.leads.save(_touch(uow.leads.get(LeadId("r2")), "again"))
                uow.commit()
            assert saved.version == 3
        finally:
            reopened.close()
