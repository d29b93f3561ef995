"""Processes for the outbox crash tests: a writer committing lead changes and a publisher
claiming, "delivering" (appending to a log file) and acking events.

Run as a script: ``python outbox_workers.py writer URL PREFIX COMMITS [STOP]`` commits up to
COMMITS changes (stopping early once the file STOP exists) and prints the number of events it
committed; ``python outbox_workers.py publisher URL LOG LEASE HOLD NAME [IDLE]``
claims in a loop, prints ``claimed`` (flushed) after each non-empty claim, appends one line
per event to LOG (``name event_id position lead_id``) while holding, and acks HOLD seconds
later; it stops after a claim comes back empty IDLE times in a row (default 3; 50 ms apart),
or when killed. The tests fork :func:`publish` directly (no interpreter start per run).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from leadkit.adapters.sql import SqlStore
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import LeadId, PersonName, UserRef

_USER = UserRef("writer")


def open_store(url: str) -> SqlStore:
    """The store at a SQLAlchemy URL or a SQLite file path."""
    if "://" in url:
        return SqlStore.open(url)
    return SqlStore.open(path=url)


def write(url: str, prefix: str, commits: int, stop: str | None = None, leads: int = 8) -> int:
    """Commit up to ``commits`` units of work (fewer once the file ``stop`` exists), each
    adding or updating one of ``leads`` leads; returns the number of events committed."""
    rng = random.Random(prefix)
    events = 0
    created: set[int] = set()
    with open_store(url) as store:
        for n in range(commits):
            if stop is not None and Path(stop).exists():
                break
            k = rng.randrange(leads)
            lead_id = LeadId(f"{prefix}-{k}")
            at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=n)
            with store.unit_of_work() as uow:
                if k in created:
                    lead = uow.leads.get(lead_id)
                    changed = lead.update(LeadPatch(topic=f"v{n}"), at=at, by=_USER)
                    uow.leads.save(changed)
                else:
                    changed = Lead.create(
                        lead_id,
                        LeadPatch(topic=f"v{n}", name=PersonName(last=prefix)),
                        at=at,
                        by=_USER,
                    )
                    uow.leads.add(changed)
                uow.commit()
            created.add(k)
            events += len(changed.pending_events)
            time.sleep(rng.random() * 0.01)
    return events


def _say_claimed() -> None:
    print("claimed", flush=True)


def publish(
    url: str,
    log: str,
    lease: float,
    hold: float,
    name: str,
    idle_rounds: int = 3,
    claimed: Callable[[], None] = _say_claimed,
) -> None:
    """Claim, log and ack until the outbox stays empty for ``idle_rounds`` claims; call
    ``claimed`` after each claim that handed out events."""
    idle = 0
    with open_store(url) as store, open(log, "a", encoding="utf-8") as out:
        box = store.outbox
        while idle < idle_rounds:
            events = box.claim(5, lease=timedelta(seconds=lease))
            if not events:
                idle += 1
                time.sleep(0.05)
                continue
            idle = 0
            claimed()
            for event in events:
                out.write(f"{name} {event.event_id} {event.position} {event.lead_id.value}\n")
                out.flush()  # a write(2) each: survives SIGKILL
                time.sleep(hold / len(events))
            box.ack([e.event_id for e in events])


def main(argv: list[str]) -> None:
    """The command line (see the module docstring)."""
    if argv[0] == "writer":
        print(write(argv[1], argv[2], int(argv[3]), argv[4] if len(argv) > 4 else None), flush=True)
    elif argv[0] == "publisher":
        idle = int(argv[6]) if len(argv) > 6 else 3
        publish(argv[1], argv[2], float(argv[3]), float(argv[4]), argv[5], idle)
    else:
        raise SystemExit(f"unknown role {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
