"""Authorisation benchmark: what a principal's scope costs on a list and a count, measured
in one run against the same calls without authorisation and against filtering after
loading (the approach leadkit does not take).

    python benchmarks/bench_access.py                  # 50,000 leads, 200 owners, 20 units
    python benchmarks/bench_access.py --n 10000        # a quick run

For each store (a SQLite file, the memory store): ``--n`` leads of 200 owners in 20 business
units (10 owners each). A principal with READ at business-unit depth may read about 1/20 of
them. Timed, each as the median of ``--repeat`` runs:

1. *unscoped*: the first page (50) of open leads and their count, without authorisation;
2. *scoped*: the same through ``AuthorizedStore`` (the owner set in the adapter's query);
3. *filter after load*: every open lead streamed and checked one by one with
   ``authorize`` (a first page of 50 permitted ones, and the count).

Printed: milliseconds and the ratios scoped / unscoped and filter-after-load / scoped.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from leadkit import (
    Action,
    AuthorizedStore,
    Depth,
    Lead,
    LeadId,
    LeadPatch,
    LeadQuery,
    LeadState,
    PermissionDenied,
    PersonName,
    Principal,
    Role,
    RoleDepthAuthorizer,
    UnitTree,
    UserRef,
    authorize,
)
from leadkit.adapters.memory import MemoryStore
from leadkit.ports import LeadStore

T0: Final = datetime(2024, 1, 1, tzinfo=UTC)
OWNERS: Final = 200
UNITS: Final = 20
PAGE: Final = 50
OPEN: Final = LeadQuery(states={LeadState.OPEN})


def _tree() -> UnitTree:
    parents: dict[str, str | None] = {"org": None}
    parents.update({f"unit{u:02}": "org" for u in range(UNITS)})
    members = {f"owner{o:03}": f"unit{o % UNITS:02}" for o in range(OWNERS)}
    return UnitTree(parents, members)


def _fill(store: LeadStore, n: int) -> None:
    batch = 2000
    for start in range(0, n, batch):
        with store.unit_of_work() as uow:
            for i in range(start, min(n, start + batch)):
                owner = UserRef(f"owner{i % OWNERS:03}")
                patch = LeadPatch(topic=f"Lead {i}", name=PersonName(last=f"Person{i}"))
                at = T0 + timedelta(seconds=i)
                lead = Lead.create(LeadId(f"L{i:07}"), patch, at=at, by=owner, owner=owner)
                uow.leads.add(lead)
            uow.commit()


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _measure(name: str, store: LeadStore, repeat: int) -> None:
    authorizer = RoleDepthAuthorizer([Role("seller", {Action.READ: Depth.BUSINESS_UNIT})], _tree())
    principal = Principal("owner007", roles={"seller"})
    scoped_store = AuthorizedStore(store, authorizer, principal)

    def listing(target: LeadStore) -> Callable[[], tuple[int, int]]:
        def run() -> tuple[int, int]:
            with target.unit_of_work() as uow:
                page = uow.leads.query(OPEN, limit=PAGE)
                return len(page.items), uow.leads.count(OPEN)

        return run

    def filter_after_load() -> tuple[int, int]:
        first: list[Lead] = []
        count = 0
        with store.unit_of_work() as uow:
            for lead in uow.leads.stream(OPEN, batch_size=500):
                try:
                    authorize(authorizer, principal, Action.READ, lead)
                except PermissionDenied:
                    continue
                count += 1
                if len(first) < PAGE:
                    first.append(lead)
        return len(first), count

    scoped_answer = listing(scoped_store)()
    if scoped_answer != filter_after_load():
        sys.exit(f"{name}: the scoped and the filtered answers differ")
    unscoped = _median_ms(listing(store), repeat)
    scoped = _median_ms(listing(scoped_store), repeat)
    filtered = _median_ms(filter_after_load, repeat)
    print(f"\n{name}: page of {PAGE} open leads + count; the principal reads "
          f"{scoped_answer[1]} of them")  # fmt: skip
    print(f"  unscoped            {unscoped:9.2f} ms")
    print(f"  scoped (pushed in)  {scoped:9.2f} ms   scoped/unscoped = {scoped / unscoped:.2f}")
    print(f"  filter after load   {filtered:9.2f} ms   filter/scoped   = {filtered / scoped:.1f}")


def main() -> None:
    """Run the benchmark (see the module doc)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    from leadkit.adapters.sql import SqlStore

    with tempfile.TemporaryDirectory() as scratch:
        sql = SqlStore.open(path=Path(scratch) / "access.db")
        try:
            _fill(sql, args.n)
            _measure(f"SQLite, {args.n} leads", sql, args.repeat)
        finally:
            sql.close()
    memory = MemoryStore()
    _fill(memory, args.n)
    _measure(f"memory, {args.n} leads", memory, args.repeat)


if __name__ == "__main__":
    main()
