"""The outbox under crashes and concurrency, on SQLite files and on PostgreSQL.

- A publisher process is SIGKILLed between claim and ack 20 times while a writer process
  commits lead changes: every committed event is delivered at least once, none is lost, and
  each lead's events are first delivered in commit order.
- Two publisher processes at once, with a lease longer than the run: no event is handed to
  both (each is claimed exactly once).
- The idempotency and outbox contract on PostgreSQL (the whole contract suite on PostgreSQL
  comes with the PostgreSQL adapter work; these classes run the reliability mixins there).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from leadkit.adapters.sql import SqlStore
from leadkit.ports import EventSink, LeadStore
from leadkit.testing.contract import LeadStoreContract
from leadkit.testing.reliability import IdempotencyContract, OutboxContract
from support.outbox_workers import publish
from support.postgres import fresh_database

WORKERS = Path(__file__).resolve().parents[1] / "support" / "outbox_workers.py"
KILLS = 20


def _url(engine: str, tmp_path: Path) -> str:
    if engine == "sqlite":
        path = tmp_path / "outbox.db"
        SqlStore.open(path=path).close()
        return str(path)
    url = fresh_database()
    SqlStore.open(url).close()
    return url


def _open(url: str) -> SqlStore:
    return SqlStore.open(url) if "://" in url else SqlStore.open(path=url)


def _worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKERS), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _close(process: subprocess.Popen[str]) -> None:
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _log(path: Path) -> list[tuple[str, str, int, str]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name, event_id, position, lead_id = line.split()
        rows.append((name, event_id, int(position), lead_id))
    return rows


def _drain(url: str, log: Path) -> None:
    """Deliver what is left, in this process, waiting out the leases of killed publishers."""
    with _open(url) as store, log.open("a", encoding="utf-8") as out:
        box = store.outbox
        deadline = time.monotonic() + 60
        while box.backlog().pending:
            assert time.monotonic() < deadline, "the outbox did not drain"
            events = box.claim(100, lease=timedelta(seconds=30))
            if not events:
                time.sleep(0.1)
                continue
            for e in events:
                out.write(f"drain {e.event_id} {e.position} {e.lead_id.value}\n")
            out.flush()
            box.ack([e.event_id for e in events])


def _outbox_rows(url: str) -> dict[str, tuple[int, str]]:
    """Every event in the outbox: id -> (position, lead id)."""
    with _open(url) as store:
        box = store.outbox
        backlog = box.backlog()
        assert backlog.pending == 0
    from sqlalchemy import create_engine, text

    engine = create_engine(url if "://" in url else f"sqlite:///{url}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT event_id, position, lead_id FROM outbox")).all()
    finally:
        engine.dispose()
    return {r[0]: (int(r[1]), r[2]) for r in rows}


def _check_per_lead_order(log: list[tuple[str, str, int, str]]) -> None:
    """When an event is logged, every earlier event of its lead has been logged before."""
    seen: dict[str, set[int]] = {}
    positions: dict[str, list[int]] = {}
    for _, _, position, lead_id in log:
        positions.setdefault(lead_id, []).append(position)
    every = {lead: sorted(set(p)) for lead, p in positions.items()}
    for _, _, position, lead_id in log:
        mine = seen.setdefault(lead_id, set())
        earlier = [p for p in every[lead_id] if p < position]
        missing = [p for p in earlier if p not in mine]
        assert not missing, f"{lead_id}: event {position} delivered before {missing}"
        mine.add(position)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.slow
def test_a_publisher_killed_between_claim_and_ack_loses_no_event_and_keeps_lead_order(
    engine: str, tmp_path: Path
) -> None:
    url = _url(engine, tmp_path)
    log = tmp_path / "delivered.log"
    rng = random.Random(15)
    stop = tmp_path / "stop-writing"
    writer = _worker("writer", url, "w", "100000", str(stop))  # writes until told to stop
    forked = multiprocessing.get_context("fork")  # leadkit is loaded: a fork starts at once
    kills = 0
    try:
        while kills < KILLS:
            claimed = forked.Event()
            publisher = forked.Process(
                target=publish,
                args=(url, str(log), 0.3, 0.2, f"p{kills}", 100, claimed.set),
                daemon=True,
            )
            publisher.start()
            if not claimed.wait(timeout=30):  # a claim handed out events
                publisher.join(timeout=30)
                if writer.poll() is not None:
                    pytest.fail(f"the writer ended before {KILLS} kills")
                continue
            time.sleep(rng.random() * 0.15)  # somewhere between claim and ack
            assert publisher.pid is not None
            os.kill(publisher.pid, signal.SIGKILL)
            publisher.join(timeout=30)
            assert publisher.exitcode == -signal.SIGKILL
            kills += 1
        stop.touch()
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    finally:
        with contextlib.suppress(ProcessLookupError):
            writer.kill()
        writer.wait(timeout=30)
        _close(writer)
    committed_events = int(out.split()[-1])
    _drain(url, log)

    delivered = _log(log)
    stored = _outbox_rows(url)
    assert len(stored) == committed_events  # every committed event reached the outbox
    assert {event_id for _, event_id, _, _ in delivered} == set(stored)  # none lost
    for _, event_id, position, lead_id in delivered:
        assert stored[event_id] == (position, lead_id)
    killed = [row for row in delivered if row[0] != "drain"]
    assert killed, "the killed publishers delivered nothing before dying"
    _check_per_lead_order(delivered)


@pytest.mark.slow
def test_two_publishers_at_once_never_hold_the_same_event(engine: str, tmp_path: Path) -> None:
    url = _url(engine, tmp_path)
    log = tmp_path / "delivered.log"
    writer = _worker("writer", url, "v", "200")
    forked = multiprocessing.get_context("fork")
    publishers = [
        forked.Process(target=publish, args=(url, str(log), 600.0, 0.01, name, 60), daemon=True)
        for name in ("a", "b")
    ]
    with _open(url) as store:  # start the publishers once the writer is under way
        deadline = time.monotonic() + 60
        while not store.outbox.backlog().pending and time.monotonic() < deadline:
            time.sleep(0.05)
    for publisher in publishers:
        publisher.start()
    out, err = writer.communicate(timeout=300)
    _close(writer)
    assert writer.returncode == 0, err
    for publisher in publishers:
        publisher.join(timeout=300)
        assert publisher.exitcode == 0
    _drain(url, log)
    delivered = _log(log)
    ids = [event_id for _, event_id, _, _ in delivered]
    assert len(ids) == len(set(ids)) == int(out.split()[-1])  # each handed out exactly once
    assert {name for name, *_ in delivered} >= {"a", "b"}  # both took part
    _check_per_lead_order(delivered)


class _PostgresStores:
    """The contract's store fixtures, making fresh PostgreSQL databases."""

    @pytest.fixture
    def make_store(self) -> Callable[..., LeadStore]:
        def make(*, event_sink: EventSink | None = None) -> LeadStore:
            return SqlStore.open(fresh_database(), event_sink=event_sink)

        return make

    new_store = LeadStoreContract.new_store
    empty_store = LeadStoreContract.empty_store


class TestPostgresIdempotency(_PostgresStores, IdempotencyContract):
    idempotency_examples = 10


class TestPostgresOutbox(_PostgresStores, OutboxContract):
    pass
