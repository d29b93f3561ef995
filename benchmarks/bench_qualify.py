"""Benchmark: qualify many leads with ``qualify_many`` on the memory store and the SQL store
(a SQLite file), against plain lead saves of the same number of leads in the same run.

Both sides use one unit of work per lead (what ``qualify_many`` does: per-lead atomic), so the
ratio shows what a qualification costs over a plain save: planning, reading the lead and its
links, three record inserts, the lead update and the commit. The first qualification run uses
``NoDuplicates``; the second qualifies the same leads in a second store with the real
duplicate check (``EngineDuplicateCheck``, default rules, index in memory): each lead is looked
up against every account and contact created before it, and the new ones are indexed after
each commit. ``--sql-keys`` adds a run on the SQL store with the index keys in a
``SqlKeyStore`` on the same file. Run::

    python benchmarks/bench_qualify.py              # 10,000 leads on memory and SQL
    python benchmarks/bench_qualify.py --n 2000     # quicker
    python benchmarks/bench_qualify.py --adapters memory
    python benchmarks/bench_qualify.py --adapters sql --sql-keys
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from leadkit import (
    Address,
    EmailAddress,
    Lead,
    LeadId,
    LeadPatch,
    LeadSource,
    Money,
    PersonName,
    PhoneNumber,
    PurchaseTimeframe,
    Url,
    UserRef,
)
from leadkit.adapters.memory import MemoryStore
from leadkit.conversion import DuplicateCheck, NoDuplicates, QualifyRequest
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicates import IndexStats
from leadkit.policies import CurrencyRegistry, QualificationPolicy
from leadkit.ports import LeadStore
from leadkit.services import OutcomeStatus, qualify_many

USER = UserRef("bench", "Bench User")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FIRST = ["Åsa", "Łukasz", "Jürgen", "Mary", "Ola", "Zofia", "Hans", "Ingrid"]
LAST = ["Öberg", "Żółć", "Groß", "Smith", "Nordmann", "Kowalska", "Müller", "Berg"]
POLICY = QualificationPolicy(currencies=CurrencyRegistry("EUR", {"SEK": Decimal("11.5")}))


def lead_for(i: int) -> Lead:
    patch = LeadPatch(
        topic=f"Deal {i}: sensors for {i % 40 + 1} sites",
        name=PersonName(first=FIRST[i % 8], last=LAST[(i // 8) % 8]),
        job_title="Head of Purchasing",
        company=f"Company {i} AB",
        business_phone=PhoneNumber(f"+46 8 {100000 + i % 899999}"),
        email=EmailAddress(f"user{i}@company{i}.example"),
        website=Url(f"www.company{i}.example"),
        address=Address(line1=f"Storgatan {i % 90 + 1}", city="Lund", postal_code="222 22"),
        source=LeadSource(i % 10 + 1),
        budget_amount=Money(Decimal(i % 100000) + Decimal("0.5"), "SEK"),
        purchase_timeframe=PurchaseTimeframe(i % 5),
        description="Wants a pilot in Q1.",
    )
    lead = Lead.create(LeadId(f"lead-{i}"), patch, at=T0, by=USER)
    return lead.add_note("Met at the trade show.", at=T0 + timedelta(minutes=1), by=USER)


def seed(store: LeadStore, leads: list[Lead], batch: int = 1000) -> None:
    for start in range(0, len(leads), batch):
        with store.unit_of_work() as uow:
            for lead in leads[start : start + batch]:
                uow.leads.add(lead)
            uow.commit()


def plain_saves(store: LeadStore, ids: list[LeadId]) -> None:
    """One unit of work per lead: read it, change one field, save, commit."""
    at = T0 + timedelta(hours=1)
    for lead_id in ids:
        with store.unit_of_work() as uow:
            lead = uow.leads.get(lead_id)
            uow.leads.save(lead.update(LeadPatch(job_title="Purchasing"), at=at, by=USER))
            uow.commit()


def qualify_all(store: LeadStore, ids: list[LeadId], finder: DuplicateCheck) -> None:
    outcomes = qualify_many(
        store,
        ids,
        QualifyRequest(),
        POLICY,
        at=T0 + timedelta(hours=2),
        by=USER,
        finder=finder,
        id_factory=lambda: uuid.uuid4().hex,
    )
    failed = [o for o in outcomes if o.status is not OutcomeStatus.QUALIFIED]
    if len(outcomes) != len(ids) or failed:
        raise SystemExit(f"{len(failed)} leads did not qualify: {failed[:3]}")


def timed(label: str, n: int, fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    print(f"  {label:<34} {elapsed:8.2f} s  {n / elapsed:>10,.0f} leads/s")
    return elapsed


def open_store(adapter: str, path: Path) -> LeadStore:
    if adapter == "memory":
        return MemoryStore()
    from leadkit.adapters.sql import SqlStore

    return SqlStore.open(path=path)


def stored_counts(store: LeadStore) -> tuple[int, int, int]:
    with store.unit_of_work() as uow:
        return (
            len(uow.accounts.list()),
            len(uow.contacts.list()),
            len(uow.opportunities.list()),
        )


def engine_run(
    label: str,
    n: int,
    store: LeadStore,
    leads: list[Lead],
    saves: float,
    plain: float,
    **options: Any,
) -> None:
    """Qualify ``leads`` (seeded into ``store``) with the engine-backed duplicate check."""
    seed(store, leads)
    ids = [lead.id for lead in leads]
    check = EngineDuplicateCheck.from_store(store, **options)
    engine = timed(label, n, lambda: qualify_all(check.store, ids, check))
    counts = stored_counts(store)
    assert counts == (n, n, n), counts
    stats: IndexStats = check.index.stats()
    assert stats.records == 2 * n, stats  # every account and contact created was indexed
    print(
        f"  with the duplicate engine one qualification costs {engine / saves:.2f} plain saves "
        f"({engine / plain:.2f}x qualify_many without it; {stats.records:,} records indexed)"
    )


def run(adapter: str, n: int, leads: list[Lead], directory: Path, sql_keys: bool) -> None:
    store = open_store(adapter, directory / "bench.db")
    print(f"{adapter}:")
    try:
        seed(store, leads)
        ids = [lead.id for lead in leads]
        saves = timed("plain lead saves (1 uow each)", n, lambda: plain_saves(store, ids))
        qualifying = timed("qualify_many", n, lambda: qualify_all(store, ids, NoDuplicates()))
        counts = stored_counts(store)
        assert counts == (n, n, n), counts
        print(
            f"  one qualification costs {qualifying / saves:.2f} plain saves "
            f"(stored {counts[0]:,} accounts, contacts and opportunities each)"
        )
    finally:
        store.close()

    checked = open_store(adapter, directory / "bench-engine.db")
    try:
        engine_run("qualify_many + duplicate engine", n, checked, leads, saves, qualifying)
    finally:
        checked.close()

    if sql_keys and adapter == "sql":
        from leadkit.adapters.sql.duplicate_keys import SqlKeyStore

        path = directory / "bench-keys.db"
        keyed = open_store(adapter, path)
        keys = SqlKeyStore.open(f"sqlite+pysqlite:///{path}")
        try:
            engine_run(
                "qualify_many + engine, SQL keys",
                n,
                keyed,
                leads,
                saves,
                qualifying,
                key_store=keys,
            )
        finally:
            keys.engine.dispose()
            keyed.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=10_000, help="leads to qualify (10,000)")
    parser.add_argument(
        "--adapters", nargs="+", default=["memory", "sql"], choices=["memory", "sql"]
    )
    parser.add_argument(
        "--sql-keys", action="store_true", help="also run the engine with its keys in SQL"
    )
    args = parser.parse_args()
    leads = [lead_for(i) for i in range(args.n)]
    print(f"qualifying {args.n:,} leads (account + contact + opportunity each, notes linked)")
    with tempfile.TemporaryDirectory() as directory:
        for adapter in args.adapters:
            run(adapter, args.n, leads, Path(directory), args.sql_keys)


if __name__ == "__main__":
    main()
