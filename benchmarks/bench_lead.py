"""Benchmark: build fully populated leads, apply three commands each, JSON round trip them.

Prints leads/s for each step, and the round trip as a ratio to a bare ``attrs`` construction
of the same data measured in the same run (how many bare constructions fit in the time of one
round trip). Run on demand::

    python benchmarks/bench_lead.py            # 100,000 leads
    python benchmarks/bench_lead.py --n 10000  # quicker
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from leadkit import (
    Address,
    Budget,
    EmailAddress,
    Lead,
    LeadId,
    LeadPatch,
    LeadSource,
    Money,
    Need,
    PersonName,
    PhoneNumber,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
    Url,
    UserRef,
    make_converter,
)

USER = UserRef("bench", "Bench User")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FIRST = ["Åsa", "Łukasz", "Jürgen", "Mary", "Ola", "Zofia", "Hans", "Ingrid"]
LAST = ["Öberg", "Żółć", "Groß", "Smith", "Nordmann", "Kowalska", "Müller", "Berg"]


def patch_for(i: int) -> LeadPatch:
    return LeadPatch(
        topic=f"Deal {i}: {FIRST[i % 8]} wants sensors",
        name=PersonName(first=FIRST[i % 8], last=LAST[(i // 8) % 8], salutation="Dr."),
        job_title="Head of Purchasing",
        company=f"Company {i % 997} AB",
        business_phone=PhoneNumber(f"+46 8 {100000 + i % 899999}", None),
        mobile_phone=PhoneNumber(f"+46 70 {1000000 + i % 8999999}", None),
        email=EmailAddress(f"user{i}@company{i % 997}.example"),
        website=Url(f"www.company{i % 997}.example"),
        address=Address(line1=f"Storgatan {i % 90 + 1}", city="Lund", postal_code="222 22"),
        source=LeadSource(i % 10 + 1),
        initiated_by="Partner portal",
        rating=Rating(i % 3 + 1),
        budget_amount=Money(Decimal(i % 100000) + Decimal("0.5"), "SEK"),
        budget=Budget(i % 4),
        need=Need(i % 4),
        purchase_timeframe=PurchaseTimeframe(i % 5),
        purchase_process=PurchaseProcess(i % 3),
        description="Wants a pilot in Q1 for twelve offices.",
        estimated_value=Money(Decimal(i % 500000), "SEK"),
        estimated_close_date=date(2027, 1, 1) + timedelta(days=i % 365),
        custom_fields={"industry": "Retail", "employees": i % 5000, "partner": bool(i % 2)},
    )


def timed(label: str, n: int, fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {elapsed:8.2f} s  {n / elapsed:>10,.0f} leads/s")
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of leads")
    n = parser.parse_args().n
    print(f"leadkit lead benchmark, n = {n:,}")

    patches, _ = timed(
        "build patches (validated values)", n, lambda: [patch_for(i) for i in range(n)]
    )
    leads, _ = timed(
        "Lead.create (profile checked, event)",
        n,
        lambda: [Lead.create(LeadId(f"L{i}"), p, at=T0, by=USER) for i, p in enumerate(patches)],
    )

    def three_commands() -> list[Lead]:
        at = T0 + timedelta(hours=1)
        return [
            lead.add_note("Called, left a message", at=at, by=USER)
            .mark_contacted(at=at, by=USER)
            .update(LeadPatch(job_title="CFO"), at=at, by=USER)
            for lead in leads
        ]

    changed, _ = timed("3 commands each (note, contacted, update)", n, three_commands)
    stored = [lead.clear_events() for lead in changed]

    converter = make_converter()

    def round_trip() -> list[Lead]:
        texts = [json.dumps(converter.unstructure(lead)) for lead in stored]
        return [converter.structure(json.loads(t), Lead) for t in texts]

    back, rt = timed("JSON round trip (dumps + loads + validate)", n, round_trip)
    assert back == stored, "round trip changed a lead"

    # Baseline: a bare attrs construction of the same data, no validation.
    fields = [
        {a.name: getattr(lead, a.name) for a in attrs.fields(Lead) if a.init} for lead in stored
    ]
    _, bare = timed(
        "baseline: bare attrs construction (evolve)",
        n,
        lambda: [attrs.evolve(stored[0], **f) for f in fields],
    )
    print(f"\nround trip / bare attrs construction: {rt / bare:.1f}x the time")


if __name__ == "__main__":
    main()
