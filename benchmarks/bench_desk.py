"""Benchmark: what the front door costs over hand-wired code.

Creates N leads, then updates each once, on a fresh MemoryStore, two ways measured in the
same run: hand-wired (``Lead.create`` + a unit of work, ``get`` + ``update`` + ``save``), the
same hand-wired through the duplicate check's store (the index kept current, as the desk
does), and through a ``Desk`` (fields by name). Prints operations/s for each and the desk's
time as a ratio of both hand-wired times. Run on demand::

    python benchmarks/bench_desk.py            # 5,000 leads
    python benchmarks/bench_desk.py --n 1000   # quicker
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from leadkit import Desk, EngineDuplicateCheck, Lead, LeadId, LeadPatch, LeadStore, UserRef
from leadkit.adapters.memory import MemoryStore

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANNA = UserRef("anna")


def _timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def hand_wired(n: int, *, indexed: bool) -> tuple[float, float]:
    """Hand-wired calls; with ``indexed``, through the duplicate check's store (so the same
    duplicate index is kept current as the desk keeps it)."""
    store: LeadStore = MemoryStore()
    if indexed:
        store = EngineDuplicateCheck.from_store(store, leads=True, lock=threading.Lock()).store

    def create() -> None:
        for i in range(n):
            lead = Lead.create(
                LeadId(f"L-{i}"),
                LeadPatch(topic=f"Enquiry {i}", name=f"Ada Lovelace{i}", email=f"a{i}@x.example"),
                at=AT,
                by=ANNA,
            )
            with store.unit_of_work() as uow:
                uow.leads.add(lead)
                uow.commit()

    def update() -> None:
        for i in range(n):
            with store.unit_of_work() as uow:
                lead = uow.leads.get(LeadId(f"L-{i}"))
                uow.leads.save(lead.update(LeadPatch(company="Fika AB"), at=AT, by=ANNA))
                uow.commit()

    return _timed(create), _timed(update)


def through_the_desk(n: int) -> tuple[float, float]:
    numbers = itertools.count()
    desk = Desk(MemoryStore(), clock=lambda: AT, ids=lambda: f"L-{next(numbers)}")
    anna = desk.acting_as(ANNA)

    def create() -> None:
        for i in range(n):
            anna.create(topic=f"Enquiry {i}", name=f"Ada Lovelace{i}", email=f"a{i}@x.example")

    def update() -> None:
        for i in range(n):
            anna.update(f"L-{i}", company="Fika AB")

    return _timed(create), _timed(update)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    n = parser.parse_args().n
    bare = hand_wired(n, indexed=False)
    indexed = hand_wired(n, indexed=True)
    desk = through_the_desk(n)
    for i, step in enumerate(("create", "update")):
        print(
            f"{step}: hand-wired {n / bare[i]:,.0f}/s, hand-wired with the duplicate index "
            f"{n / indexed[i]:,.0f}/s, desk {n / desk[i]:,.0f}/s (desk time = "
            f"{desk[i] / indexed[i]:.2f} x indexed hand-wired, {desk[i] / bare[i]:.2f} x bare)"
        )


if __name__ == "__main__":
    main()
