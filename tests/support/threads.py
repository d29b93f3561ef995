"""Threads of read-modify-save cycles against one store, for the adapters' reliability tests."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from leadkit.errors import ConcurrencyConflict
from leadkit.patch import LeadPatch
from leadkit.ports import LeadStore
from leadkit.values import LeadId, UserRef

__all__ = ["Cycles", "read_modify_save_cycles"]


@dataclass
class Cycles:
    """What the threads did: saves that landed per lead, conflicts, and any other error."""

    landed: dict[LeadId, int]
    conflicts: int = 0
    failures: list[BaseException] = field(default_factory=list)


def read_modify_save_cycles(
    store: LeadStore,
    keys: Sequence[LeadId],
    *,
    threads: int,
    cycles: int,
    at: datetime,
    by: UserRef,
    join_timeout: float = 120.0,
) -> Cycles:
    """Start ``threads`` threads together; each runs ``cycles`` units of work that read a
    random lead of ``keys`` (seeded by the thread's number), change its description, save and
    commit it. A ConcurrencyConflict is counted, any other error collected for the caller."""
    result = Cycles(landed=dict.fromkeys(keys, 0))
    guard = threading.Lock()
    start = threading.Barrier(threads)

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            start.wait()
            for cycle in range(cycles):
                key = rng.choice(keys)
                try:
                    with store.unit_of_work() as uow:
                        lead = uow.leads.get(key)
                        changed = lead.update(
                            LeadPatch(description=f"{seed}-{cycle}"), at=at, by=by
                        )
                        uow.leads.save(changed)
                        uow.commit()
                except ConcurrencyConflict:
                    with guard:
                        result.conflicts += 1
                    continue
                with guard:
                    result.landed[key] += 1
        except BaseException as e:  # reported by the test thread
            result.failures.append(e)

    workers = [threading.Thread(target=work, args=(seed,)) for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=join_timeout)
    return result
