"""Erasure benchmark: what ``secure_delete`` costs the SQL adapter's saves, and how long an
erasure takes against a store's size, each measured against a baseline in the same run.

    python benchmarks/bench_erasure.py                  # 2,000 saves; erase among 1k and 10k leads
    python benchmarks/bench_erasure.py --saves 500 --sizes 1000

1. ``--saves`` saves of leads with three notes (each save rewrites the lead's row and its
   child rows: the deletes ``secure_delete`` zeroes) on a SQLite file, one unit of work
   each, with ``PRAGMA secure_delete = ON`` (what leadkit sets) against ``OFF``, best of 3.
2. For each of ``--sizes``: ``erase`` of one lead (DELETE, by e-mail) among that many stored
   leads on a SQLite file and in memory, against ``delete_lead`` of one lead (the plain
   delete, no scan) on the same store. Erasure scans the whole store on purpose (every
   record, event and result may mention the person), so the ratio grows with the store.

Not part of the test suite. Prints one table per section.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadStore
from leadkit.privacy import erase
from leadkit.services import delete_lead
from leadkit.values import LeadId, UserRef

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ANN = UserRef("ann")


def lead(n: int) -> Lead:
    patch = LeadPatch(
        topic=f"Deal {n}",
        name=f"Person{n} Surname{n}",
        email=f"person{n}@example.com",
        business_phone=f"+46 8 {100000 + n:06d}",
        description=f"lead number {n}",
    )
    made = Lead.create(LeadId(f"L{n:07d}"), patch, at=T0, by=ANN)
    for k in range(3):
        made = made.add_note(f"note {k} of lead {n}", at=T0, by=ANN)
    return made


def fill(store: LeadStore, count: int) -> None:
    for start in range(0, count, 1000):
        with store.unit_of_work() as uow:
            for n in range(start, min(count, start + 1000)):
                uow.leads.add(lead(n))
            uow.commit()


def timed(run: Callable[[], object]) -> float:
    """Seconds ``run`` took."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def bench_saves(saves: int) -> None:
    def run(mode: str) -> float:
        with tempfile.TemporaryDirectory() as folder:
            store = SqlStore.open(path=Path(folder) / "saves.db")
            fill(store, 200)

            def work() -> None:
                for i in range(saves):
                    with store.unit_of_work() as uow:
                        uow.connection().exec_driver_sql(f"PRAGMA secure_delete = {mode}")
                        stored = uow.leads.get(LeadId(f"L{i % 200:07d}"))
                        uow.leads.save(stored.update(LeadPatch(description=f"v{i}"), at=T0, by=ANN))
                        uow.commit()

            seconds = timed(work)
            store.close()
            return seconds

    off = min(run("OFF") for _ in range(3))
    on = min(run("ON") for _ in range(3))
    print(f"\n1. {saves} saves of a lead with 3 notes, SQLite file (best of 3)")
    print(f"   secure_delete OFF (baseline)  {off * 1000 / saves:8.3f} ms/save")
    print(f"   secure_delete ON  (leadkit)   {on * 1000 / saves:8.3f} ms/save")
    print(f"   ratio ON/OFF                  {on / off:8.2f}x")


def bench_erase(sizes: list[int]) -> None:
    print("\n2. erase one person (DELETE, by e-mail) against delete_lead of one lead")
    print(f"   {'store':<8} {'leads':>7} {'delete_lead':>12} {'erase':>10} {'ratio':>8}")
    for size in sizes:
        for name in ("sqlite", "memory"):
            with tempfile.TemporaryDirectory() as folder:
                store: LeadStore = (
                    SqlStore.open(path=Path(folder) / "e.db") if name == "sqlite" else MemoryStore()
                )
                fill(store, size)
                start = time.perf_counter()
                delete_lead(store, LeadId("L0000001"))
                base = time.perf_counter() - start
                start = time.perf_counter()
                erase(store, "email:person2@example.com")
                took = time.perf_counter() - start
                store.close()
            ratio = took / base
            figures = f"{base * 1000:>10.1f}ms {took * 1000:>8.1f}ms {ratio:>7.0f}x"
            print(f"   {name:<8} {size:>7} {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=2000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    bench_saves(args.saves)
    bench_erase(args.sizes)


if __name__ == "__main__":
    main()
