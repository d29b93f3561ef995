"""Outbox benchmark: what writing every committed event to the outbox costs, and how fast a
publisher drains it, measured in one run.

    python benchmarks/bench_outbox.py              # 20k leads
    python benchmarks/bench_outbox.py --n 5000     # a quick run

1. Bulk insert of ``--n`` leads (units of 1,000) into ``SqlStore`` on a SQLite file and into
   ``MemoryStore``, with the outbox as shipped against the same store with the outbox writing
   switched off (the baseline, patched out in this process only). Goal: the outbox costs at
   most 1.5x on SQLite.
2. Draining the outbox: ``claim(500)`` + ``ack`` until empty, events per second.

Not part of the test suite. Prints one table per section.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from leadkit.adapters import memory
from leadkit.adapters.memory import MemoryStore
from leadkit.adapters.sql import SqlStore
from leadkit.adapters.sql.store import SqlUnitOfWork
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadStore
from leadkit.values import LeadId, PersonName, UserRef

T0 = datetime(2025, 1, 1, tzinfo=UTC)
USER = UserRef("bench")


def make_leads(count: int, prefix: str) -> list[Lead]:
    return [
        Lead.create(
            LeadId(f"{prefix}-{n:07}"),
            LeadPatch(topic=f"Deal {n}", name=PersonName(first="Ada", last=f"Lee {n}")),
            at=T0 + timedelta(seconds=n),
            by=USER,
        )
        for n in range(count)
    ]


@contextmanager
def outbox_off() -> Iterator[None]:
    """Both stores without writing the outbox (the baseline)."""
    sql_write = SqlUnitOfWork._write_outbox
    memory_commit = memory.MemoryStore._commit

    def no_sql(self: SqlUnitOfWork, conn: object) -> None:
        return None

    def no_memory(self: MemoryStore, change_sets: object, keys: object, events: object) -> None:
        memory_commit(self, change_sets, keys, ())  # type: ignore[arg-type]

    SqlUnitOfWork._write_outbox = no_sql  # type: ignore[method-assign]
    memory.MemoryStore._commit = no_memory  # type: ignore[method-assign]
    try:
        yield
    finally:
        SqlUnitOfWork._write_outbox = sql_write  # type: ignore[method-assign]
        memory.MemoryStore._commit = memory_commit  # type: ignore[method-assign]


def insert(store: LeadStore, leads: Sequence[Lead], batch: int = 1000) -> float:
    start = time.perf_counter()
    for first in range(0, len(leads), batch):
        with store.unit_of_work() as uow:
            for lead in leads[first : first + batch]:
                uow.leads.add(lead)
            uow.commit()
    return time.perf_counter() - start


def drain(store: SqlStore | MemoryStore) -> tuple[int, float]:
    box = store.outbox
    done = 0
    start = time.perf_counter()
    while events := box.claim(500, lease=timedelta(minutes=5)):
        box.ack([e.event_id for e in events])
        done += len(events)
    return done, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=20_000, help="leads to insert")
    parser.add_argument("--rounds", type=int, default=3, help="runs per variant (best)")
    args = parser.parse_args(argv)
    leads = make_leads(args.n, "lead")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        counter = iter(range(1_000_000))

        def sql_run(_: int) -> float:
            with SqlStore.open(path=folder / f"s{next(counter)}.db") as store:
                return insert(store, leads)

        def memory_run(_: int) -> float:
            store = MemoryStore()
            try:
                return insert(store, leads)
            finally:
                store.close()

        times: dict[str, list[float]] = {"sql": [], "sql+": [], "mem": [], "mem+": []}
        for _ in range(args.rounds):  # interleaved, so that a change of load hits both
            with outbox_off():
                times["sql"].append(sql_run(0))
                times["mem"].append(memory_run(0))
            times["sql+"].append(sql_run(0))
            times["mem+"].append(memory_run(0))
        sql_base, sql_with = min(times["sql"]), min(times["sql+"])
        memory_base, memory_with = min(times["mem"]), min(times["mem+"])
        print(f"bulk insert of {args.n} leads (units of 1,000), best of {args.rounds}")
        print(f"{'store':<10} {'no outbox':>12} {'outbox':>12} {'ratio':>8}")
        for name, base, real in (
            ("sqlite", sql_base, sql_with),
            ("memory", memory_base, memory_with),
        ):
            print(
                f"{name:<10} {args.n / base:>9,.0f}/s {args.n / real:>9,.0f}/s {real / base:>7.2f}x"
            )
        with SqlStore.open(path=folder / "drain.db") as store:
            insert(store, leads)
            sql_done, sql_time = drain(store)
        memory_store = MemoryStore()
        insert(memory_store, leads)
        memory_done, memory_time = drain(memory_store)
        print("\ndraining the outbox: claim(500) + ack")
        print(f"sqlite     {sql_done / sql_time:>9,.0f} events/s")
        print(f"memory     {memory_done / memory_time:>9,.0f} events/s")


if __name__ == "__main__":
    main()
