"""Storage benchmark: the SQL adapter on a SQLite file against hand-written sqlite3, and the
in-memory adapter, all measured in one run.

    python benchmarks/bench_storage.py                       # 100k inserts, 1M leads to read
    python benchmarks/bench_storage.py --n 20000 --big 100000  # a quick run
    python benchmarks/bench_storage.py --url postgresql+psycopg://leadkit@127.0.0.1:5432/postgres

1. Bulk insert of ``--n`` leads through the adapter (one unit of work, and units of 1,000)
   against ``sqlite3.executemany`` of the same rows (the same columns and JSON document) into
   the same schema with the same pragmas (WAL, synchronous=FULL). The raw figure is given
   twice: with the rows built from the leads in the timed section (columns and the
   converter's JSON document, the work any code storing a lead must do) and with the rows
   built beforehand (SQLite alone). Goal: the adapter reaches at least half the raw rate.
2. ``get`` by id and one page (50) of "My open leads" among ``--big`` stored leads: median
   and p99 latency of the adapter against the same hand-written SQL, once fetching the rows
   only and once also decoding them into leads with the same converter. Goals: within 2x,
   and a page under 5 ms median. The big database is filled with raw inserts of
   adapter-compatible rows (through the adapter's schema) to save time.
3. The same figures for the in-memory adapter (``MemoryStore``).
4./5. With ``--url postgresql+psycopg://...``: sections 1 and 2 on that PostgreSQL server (in a
   scratch database created and dropped by the run), against psycopg's ``executemany`` and
   ``COPY`` of the same rows and hand-written SQL plus decode. The adapter inserts in plain
   units of work (each ``add`` checks its id at once: one round trip per lead) and in bulk
   units of work (``SqlStore.unit_of_work(bulk=True)``: 1,000 rows per statement). Before the
   reads it prints the server's plans (``EXPLAIN``) of the adapter's ``get`` and page
   statements. Start a throwaway server with ``scripts/with-postgres --serve`` (it prints the
   URL).

Not part of the test suite. Prints one table per section.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import attrs

from leadkit.adapters.sql import SqlStore
from leadkit.fields import LeadSource, Rating
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadSort, LeadStore, Views, search_texts, sort_key
from leadkit.serialization import make_converter
from leadkit.status import LeadState, StatusReason
from leadkit.values import EmailAddress, LeadId, PersonName, UserRef

T0: Final = datetime(2020, 1, 1, tzinfo=UTC)
OWNERS: Final = 200  # "My open leads" of one owner: about 1/200 of the store, 70 % open
PAGE: Final = 50
BIG_ID: Final = "big-{n:08}"
CONVERTER: Final = make_converter()
COLUMNS: Final = (
    "id", "version", "state", "reason_code", "owner_id", "rating", "source", "created_at",
    "modified_at", "topic_key", "company_key", "last_name_key", "full_name_key", "email_key",
    "document",
)  # fmt: skip
INSERT: Final = f"INSERT INTO leads ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
GET_SQL: Final = "SELECT id, version, document FROM leads WHERE id = ?"
PAGE_SQL: Final = (
    "SELECT id, version, document, created_at FROM leads WHERE owner_id = ? AND state = 0"
    " ORDER BY created_at DESC, id DESC LIMIT ?"
)
STATES: Final = (
    (LeadState.OPEN, StatusReason.NEW),
    (LeadState.OPEN, StatusReason.CONTACTED),
    (LeadState.QUALIFIED, StatusReason.QUALIFIED),
    (LeadState.DISQUALIFIED, StatusReason.LOST),
)
STATE_WEIGHTS: Final = (50, 20, 15, 15)


# ---------------------------------------------------------------------------------------------
# Data


def owner(n: int) -> UserRef:
    return UserRef(f"user-{n % OWNERS:03}", f"User {n % OWNERS}")


def make_leads(count: int, seed: int, *, first: int = 0, ids: str = "lead-{n:07}") -> list[Lead]:
    """``count`` distinct leads numbered from ``first`` (ids from the ``ids`` pattern, owners,
    names, companies, e-mails, times, states)."""
    rng = random.Random(seed)
    base = Lead.create(
        LeadId("template"),
        LeadPatch(topic="Template", name=PersonName(first="Ada", last="Template")),
        at=T0,
        by=owner(0),
    ).clear_events()
    states = rng.choices(STATES, STATE_WEIGHTS, k=count)
    leads = []
    for n in range(first, first + count):
        at = T0 + timedelta(seconds=n * 7 + rng.randrange(7))
        state, reason = states[n - first]
        leads.append(
            attrs.evolve(
                base,
                id=LeadId(ids.format(n=n)),
                topic=f"Solar panels {n % 1000}",
                name=PersonName(first="Ada", last=f"Lovelace {n}"),
                company=f"Company {n % 5000} AB",
                email=EmailAddress(f"lead{n}@example.com"),
                rating=(Rating.HOT, Rating.WARM, Rating.COLD, None)[n % 4],
                source=(LeadSource.WEB, LeadSource.PARTNER, None)[n % 3],
                owner=owner(n),
                created_by=owner(n),
                modified_by=owner(n),
                created_at=at,
                modified_at=at + timedelta(hours=n % 48),
                state=state,
                reason=reason,
            )
        )
    return leads


def raw_row(lead: Lead, version: int = 1) -> tuple[Any, ...]:
    """The ``leads`` row the adapter writes, built by hand."""
    full_name, company, email = search_texts(lead)
    return (
        lead.id.value,
        version,
        lead.state.code,
        lead.reason.code,
        lead.owner.id,
        None if lead.rating is None else lead.rating.code,
        None if lead.source is None else lead.source.code,
        sort_key(lead, LeadSort.CREATED_AT)[0],
        sort_key(lead, LeadSort.MODIFIED_AT)[0],
        lead.topic.casefold(),
        company,
        lead.name.last.casefold(),
        full_name,
        email,
        CONVERTER.dumps(attrs.evolve(lead, version=version)),
    )


def raw_connection(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = FULL")
    return db


def fresh_database(path: Path) -> Path:
    """An empty database with the adapter's schema (WAL mode, indexes)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    SqlStore.open(path=path).close()
    return path


# ---------------------------------------------------------------------------------------------
# Timing


@contextmanager
def quiet_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def timed(run: Callable[[], object]) -> float:
    with quiet_gc():
        start = time.perf_counter()
        run()
        return time.perf_counter() - start


def latencies(runs: dict[str, Callable[[int], object]], samples: int) -> dict[str, list[float]]:
    """Seconds per call of each ``run(i)`` for ``i`` in ``range(samples)``, after a warm-up.

    The runs are interleaved call by call, in a rotating order, so that a noisy neighbour
    slows them all alike; each run visits the samples in its own random order, so that no
    run reads what another has just warmed up (pages in the cache, e-mails validated).
    """
    names = list(runs)
    orders = {
        name: random.Random(n).sample(range(samples), samples) for n, name in enumerate(names)
    }
    for i in range(min(50, samples)):
        for run in runs.values():
            run(i)
    out: dict[str, list[float]] = {name: [] for name in runs}
    with quiet_gc():
        for i in range(samples):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                run, sample = runs[name], orders[name][i]
                start = time.perf_counter()
                run(sample)
                out[name].append(time.perf_counter() - start)
    return out


def p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f}"


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}\n{line}")
    print(
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    print(line)
    for row in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    print(line)


def reads_table(title: str, figures: dict[str, list[float]]) -> None:
    """Print the read latencies with their ratios to the hand-written SQL of the same kind."""
    rows = []
    for name, values in figures.items():
        kind = name.split(":")[0].split(" ")[0]
        kind = "page" if kind == "next" else kind
        fetch = statistics.median(figures[f"{kind}: hand-written SQL, fetch"])
        decode = statistics.median(figures[f"{kind}: hand-written SQL, fetch + decode"])
        median = statistics.median(values)
        rows.append(
            [name, ms(median), ms(p99(values)), f"{median / fetch:6.2f}", f"{median / decode:6.2f}"]
        )
    table(title, ["", "median ms", "p99 ms", "x SQL fetch", "x SQL fetch+decode"], rows)


# ---------------------------------------------------------------------------------------------
# 1. Bulk insert


def best_of(variants: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """The best time of each variant over ``rounds`` rounds; each round rotates the order, so
    that a noisy minute hits every variant."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(rounds):
        names = list(variants)
        names = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in names:
            times[name].append(variants[name]())
        print(f"  round {round_ + 1} of {rounds} done", flush=True)
    return {name: min(values) for name, values in times.items()}


def add_all(store: LeadStore, leads: Sequence[Lead], batch: int, *, bulk: bool = False) -> None:
    for start in range(0, len(leads), batch):
        unit = (
            store.unit_of_work(bulk=True)
            if bulk and isinstance(store, SqlStore)
            else store.unit_of_work()
        )
        with unit as uow:
            for lead in leads[start : start + batch]:
                uow.leads.add(lead)
            uow.commit()


def bench_insert(
    n: int, rounds: int, work: Path, memory_store: Callable[[], LeadStore] | None
) -> None:
    print(f"\nbuilding {n:,} leads ...", flush=True)
    leads = make_leads(n, seed=1)
    prebuilt = [raw_row(lead) for lead in leads]

    def adapter(batch: int) -> float:
        path = fresh_database(work / "insert.db")
        with SqlStore.open(path=path, create=False) as store:
            return timed(lambda: add_all(store, leads, batch))

    def raw(rows: Callable[[], Iterator[tuple[Any, ...]]]) -> float:
        path = fresh_database(work / "insert.db")
        with closing(raw_connection(path)) as db:

            def run() -> None:
                db.execute("BEGIN")
                db.executemany(INSERT, rows())
                db.execute("COMMIT")

            return timed(run)

    variants: dict[str, Callable[[], float]] = {
        "raw executemany, rows built in the timed section": lambda: raw(
            lambda: (raw_row(lead) for lead in leads)
        ),
        "raw executemany, rows built beforehand": lambda: raw(lambda: iter(prebuilt)),
        "adapter, one unit of work": lambda: adapter(n),
        "adapter, units of work of 1,000": lambda: adapter(1000),
    }
    if memory_store is not None:
        variants["memory adapter, one unit of work"] = lambda: timed(
            lambda: add_all(memory_store(), leads, n)
        )
    results = best_of(variants, rounds)
    raw_full = results["raw executemany, rows built in the timed section"]
    raw_sql = results["raw executemany, rows built beforehand"]
    rows = [
        [
            name,
            f"{seconds:7.2f}",
            f"{n / seconds:10,.0f}",
            f"{raw_full / seconds:5.2f}",
            f"{raw_sql / seconds:5.2f}",
        ]
        for name, seconds in results.items()
    ]
    table(
        f"1. Bulk insert of {n:,} leads (SQLite file, WAL, synchronous=FULL; best of {rounds})",
        ["", "seconds", "leads/s", "x raw (rows built)", "x raw (SQLite only)"],
        rows,
    )


# ---------------------------------------------------------------------------------------------
# 2. Reads among a big store


def big_rows(count: int, ids: list[str]) -> Iterator[tuple[Any, ...]]:
    """``count`` adapter-compatible ``leads`` rows (appending their ids to ``ids``); documents
    are made from one converter-written template, field by field."""
    template = json.loads(CONVERTER.dumps(make_leads(1, seed=2)[0]))
    rng = random.Random(3)
    for n in range(count):
        key = BIG_ID.format(n=n)
        ids.append(key)
        user = owner(n)
        at = T0 + timedelta(seconds=n * 7 + rng.randrange(7))
        changed = at + timedelta(hours=n % 48)
        state, reason = rng.choices(STATES, STATE_WEIGHTS)[0]
        rating = (Rating.HOT, Rating.WARM, Rating.COLD, None)[n % 4]
        last = f"Lovelace {n}"
        company = f"Company {n % 5000} AB"
        email = f"lead{n}@example.com"
        topic = f"Solar panels {n % 1000}"
        who = {"id": user.id, "name": user.name}
        data = dict(template["data"])
        data.update(
            id=key,
            topic=topic,
            name={**data["name"], "last": last},
            company=company,
            email=email,
            rating=None if rating is None else rating.code,
            owner=who,
            created_by=who,
            modified_by=who,
            created_at=at.isoformat(),
            modified_at=changed.isoformat(),
            state=state.name,
            reason={"code": reason.code, "label": reason.label, "state": reason.state.name},
            version=1,
        )
        document = json.dumps({**template, "data": data}, ensure_ascii=False, separators=(",", ":"))
        stamp = "%Y-%m-%dT%H:%M:%S.%f"
        yield (
            key, 1, state.code, reason.code, user.id,
            None if rating is None else rating.code, data["source"],
            at.strftime(stamp), changed.strftime(stamp), topic.casefold(),
            company.casefold(), last.casefold(), f"ada {last}".casefold(), email, document,
        )  # fmt: skip


def build_big(path: Path, count: int) -> list[str]:
    """Fill the adapter's schema with ``count`` adapter-compatible rows by raw inserts;
    returns the ids."""
    fresh_database(path)
    rng = random.Random(3)
    ids: list[str] = []

    def rows() -> Iterator[tuple[Any, ...]]:
        return big_rows(count, ids)

    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -500000")  # 500 MB: the indexes stay in memory
        db.execute("BEGIN")
        db.executemany(INSERT, rows())
        db.execute("COMMIT")
    check = f"SELECT {', '.join(COLUMNS[:-1])} FROM leads WHERE id = ?"
    with (
        SqlStore.open(path=path, create=False) as store,
        store.unit_of_work() as uow,
        closing(sqlite3.connect(path)) as db,
    ):
        for key in rng.sample(ids, 20):  # the rows are what the adapter would have written
            expected = raw_row(uow.leads.get(LeadId(key)))[:-1]
            assert db.execute(check, (key,)).fetchone() == expected, key
    return ids


def bench_reads(
    count: int, samples: int, work: Path, memory_store: Callable[[], LeadStore] | None
) -> None:
    path = work / "big.db"
    print(f"\nbuilding a store of {count:,} leads with raw inserts ...", flush=True)
    started = time.perf_counter()
    ids = build_big(path, count)
    print(f"  built in {time.perf_counter() - started:.1f} s, {path.stat().st_size / 1e6:,.0f} MB")
    rng = random.Random(4)
    keys = [rng.choice(ids) for _ in range(samples)]
    owners = [owner(rng.randrange(OWNERS)).id for _ in range(samples)]
    figures: dict[str, list[float]] = {}

    def get_raw(db: sqlite3.Connection, i: int) -> object:
        return db.execute(GET_SQL, (keys[i],)).fetchone()

    def page_raw(db: sqlite3.Connection, i: int) -> list[Any]:
        return db.execute(PAGE_SQL, (owners[i], PAGE + 1)).fetchall()

    with (
        closing(raw_connection(path)) as db,
        SqlStore.open(path=path, create=False) as store,
        store.unit_of_work() as uow,
    ):

        def get_in_own_unit(i: int) -> Lead:
            with store.unit_of_work() as own:
                return own.leads.get(LeadId(keys[i]))

        cursors = [uow.leads.query(Views.my_open_leads(o), limit=PAGE).next_cursor for o in owners]
        figures.update(
            latencies(
                {
                    "get: hand-written SQL, fetch": lambda i: get_raw(db, i),
                    "get: hand-written SQL, fetch + decode": lambda i: CONVERTER.loads(
                        db.execute(GET_SQL, (keys[i],)).fetchone()[2], Lead
                    ),
                    "get: SQL adapter": lambda i: uow.leads.get(LeadId(keys[i])),
                    "get: SQL adapter, a unit of work per get": get_in_own_unit,
                },
                samples,
            )
        )
        figures.update(
            latencies(
                {
                    "page: hand-written SQL, fetch": lambda i: page_raw(db, i),
                    "page: hand-written SQL, fetch + decode": lambda i: [
                        CONVERTER.loads(row[2], Lead) for row in page_raw(db, i)[:PAGE]
                    ],
                    "page: SQL adapter": lambda i: uow.leads.query(
                        Views.my_open_leads(owners[i]), limit=PAGE
                    ),
                    "next page (cursor): SQL adapter": lambda i: uow.leads.query(
                        Views.my_open_leads(owners[i]), limit=PAGE, after=cursors[i]
                    ),
                },
                samples,
            )
        )

    if memory_store is not None:
        print(f"filling the memory adapter with {count:,} leads ...", flush=True)
        memory = memory_store()
        started = time.perf_counter()
        for start in range(0, count, 100_000):
            chunk = make_leads(min(100_000, count - start), seed=5, first=start, ids=BIG_ID)
            add_all(memory, chunk, len(chunk))
        print(f"  filled in {time.perf_counter() - started:.1f} s")
        with memory.unit_of_work() as in_memory:
            figures.update(
                latencies(
                    {
                        "get: memory adapter": lambda i: in_memory.leads.get(LeadId(keys[i])),
                        "page: memory adapter": lambda i: in_memory.leads.query(
                            Views.my_open_leads(owners[i]), limit=PAGE
                        ),
                    },
                    samples,
                )
            )
        memory.close()

    reads_table(
        f"2./3. Reads among {count:,} leads ({samples:,} samples; page = {PAGE} of "
        f'"My open leads", {OWNERS} owners)',
        figures,
    )


# ---------------------------------------------------------------------------------------------
# 4. PostgreSQL (--url)

PG_INSERT: Final = (
    f"INSERT INTO leads ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
)
PG_COPY: Final = f"COPY leads ({', '.join(COLUMNS)}) FROM STDIN"
PG_GET: Final = GET_SQL.replace("?", "%s")
PG_PAGE: Final = PAGE_SQL.replace("?", "%s")


class Server:
    """A scratch database on the server of ``--url`` (created here, dropped at the end)."""

    def __init__(self, url: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        self._psycopg = psycopg
        base = make_url(url)
        self.name = f"leadkit_bench_{random.randrange(16**8):08x}"
        self._admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(self._admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = base.set(database=self.name).render_as_string(hide_password=False)
        self.plain = make_url(self.url).set(drivername="postgresql").render_as_string(False)
        SqlStore.open(self.url).close()

    def connect(self) -> Any:
        return self._psycopg.connect(self.plain)

    def empty(self) -> None:
        with self.connect() as conn:
            conn.execute("TRUNCATE leads CASCADE")
            conn.commit()

    def drop(self) -> None:
        with self._psycopg.connect(self._admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def bench_insert_pg(server: Server, n: int, rounds: int) -> None:
    print(f"\nPostgreSQL: building {n:,} leads ...", flush=True)
    leads = make_leads(n, seed=1)
    prebuilt = [raw_row(lead) for lead in leads]

    def adapter(batch: int, bulk: bool = False) -> float:
        server.empty()
        with SqlStore.open(server.url, create=False) as store:
            return timed(lambda: add_all(store, leads, batch, bulk=bulk))

    def executemany(rows: Callable[[], Iterator[tuple[Any, ...]]]) -> float:
        server.empty()
        with server.connect() as conn:

            def run() -> None:
                with conn.cursor() as cursor:
                    cursor.executemany(PG_INSERT, rows())
                conn.commit()

            return timed(run)

    def copy(rows: Callable[[], Iterator[tuple[Any, ...]]]) -> float:
        server.empty()
        with server.connect() as conn:

            def run() -> None:
                with conn.cursor() as cursor, cursor.copy(PG_COPY) as stream:
                    for row in rows():
                        stream.write_row(row)
                conn.commit()

            return timed(run)

    def built() -> Iterator[tuple[Any, ...]]:
        return (raw_row(lead) for lead in leads)

    variants: dict[str, Callable[[], float]] = {
        "raw executemany, rows built in the timed section": lambda: executemany(built),
        "raw executemany, rows built beforehand": lambda: executemany(lambda: iter(prebuilt)),
        "raw COPY, rows built in the timed section": lambda: copy(built),
        "raw COPY, rows built beforehand": lambda: copy(lambda: iter(prebuilt)),
        "adapter, one unit of work": lambda: adapter(n),
        "adapter, units of work of 1,000": lambda: adapter(1000),
        "adapter, one bulk unit of work": lambda: adapter(n, bulk=True),
        "adapter, bulk units of work of 1,000": lambda: adapter(1000, bulk=True),
    }
    results = best_of(variants, rounds)
    many = results["raw executemany, rows built in the timed section"]
    copied = results["raw COPY, rows built in the timed section"]
    rows = [
        [
            name,
            f"{seconds:7.2f}",
            f"{n / seconds:10,.0f}",
            f"{many / seconds:5.2f}",
            f"{copied / seconds:5.2f}",
        ]
        for name, seconds in results.items()
    ]
    table(
        f"4. PostgreSQL: bulk insert of {n:,} leads (best of {rounds})",
        ["", "seconds", "leads/s", "x executemany (rows built)", "x COPY (rows built)"],
        rows,
    )


def explain(server: Server, owner_id: str) -> None:
    """Print the server's plans of the adapter's ``get`` and "My open leads" page."""
    from leadkit.adapters.sql.queries import page_statement

    with SqlStore.open(server.url, create=False) as store:
        dialect = store.engine.dialect
    page = page_statement(Views.my_open_leads(owner_id), PAGE + 1).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}
    )
    with server.connect() as conn:
        for name, sql in (
            ("get", PG_GET.replace("%s", "'big-00000007'")),
            ("page", str(page)),
        ):
            plan = [row[0] for row in conn.execute(f"EXPLAIN {sql}").fetchall()]
            print(f"  EXPLAIN {name} (adapter's statement):")
            for line in plan:
                print(f"    {line}")


def bench_reads_pg(server: Server, count: int, samples: int) -> None:
    print(f"\nPostgreSQL: building a store of {count:,} leads with COPY ...", flush=True)
    started = time.perf_counter()
    server.empty()
    ids: list[str] = []
    with server.connect() as conn:
        with conn.cursor() as cursor, cursor.copy(PG_COPY) as stream:
            for row in big_rows(count, ids):
                stream.write_row(row)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE leads")
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    explain(server, owner(7).id)
    rng = random.Random(4)
    keys = [rng.choice(ids) for _ in range(samples)]
    owners = [owner(rng.randrange(OWNERS)).id for _ in range(samples)]
    figures: dict[str, list[float]] = {}
    with (
        server.connect() as db,
        SqlStore.open(server.url, create=False) as store,
        store.unit_of_work() as uow,
    ):
        db.autocommit = True
        check = uow.leads.get(LeadId(keys[0]))
        assert CONVERTER.loads(db.execute(PG_GET, (keys[0],)).fetchone()[2], Lead) == check

        def get_raw(i: int) -> Any:
            return db.execute(PG_GET, (keys[i],)).fetchone()

        def page_raw(i: int) -> list[Any]:
            rows: list[Any] = db.execute(PG_PAGE, (owners[i], PAGE + 1)).fetchall()
            return rows

        def get_in_own_unit(i: int) -> Lead:
            with store.unit_of_work() as own:
                return own.leads.get(LeadId(keys[i]))

        cursors = [uow.leads.query(Views.my_open_leads(o), limit=PAGE).next_cursor for o in owners]
        figures.update(
            latencies(
                {
                    "get: hand-written SQL, fetch": get_raw,
                    "get: hand-written SQL, fetch + decode": lambda i: CONVERTER.loads(
                        get_raw(i)[2], Lead
                    ),
                    "get: SQL adapter": lambda i: uow.leads.get(LeadId(keys[i])),
                    "get: SQL adapter, a unit of work per get": get_in_own_unit,
                },
                samples,
            )
        )
        figures.update(
            latencies(
                {
                    "page: hand-written SQL, fetch": page_raw,
                    "page: hand-written SQL, fetch + decode": lambda i: [
                        CONVERTER.loads(row[2], Lead) for row in page_raw(i)[:PAGE]
                    ],
                    "page: SQL adapter": lambda i: uow.leads.query(
                        Views.my_open_leads(owners[i]), limit=PAGE
                    ),
                    "next page (cursor): SQL adapter": lambda i: uow.leads.query(
                        Views.my_open_leads(owners[i]), limit=PAGE, after=cursors[i]
                    ),
                },
                samples,
            )
        )
    reads_table(
        f"5. PostgreSQL: reads among {count:,} leads ({samples:,} samples; page = {PAGE} of "
        f'"My open leads", {OWNERS} owners)',
        figures,
    )


# ---------------------------------------------------------------------------------------------


def memory_factory() -> Callable[[], LeadStore] | None:
    try:
        from leadkit.adapters.memory import MemoryStore
    except ImportError:
        print("leadkit.adapters.memory is not available: skipping the in-memory adapter")
        return None
    return MemoryStore


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100_000, help="leads to bulk insert")
    parser.add_argument("--big", type=int, default=1_000_000, help="leads stored for reads")
    parser.add_argument("--samples", type=int, default=2000, help="timed reads per figure")
    parser.add_argument("--rounds", type=int, default=3, help="bulk inserts per variant (best)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    parser.add_argument("--no-memory", action="store_true", help="skip the in-memory adapter")
    parser.add_argument(
        "--url",
        default=None,
        help="a PostgreSQL server (postgresql+psycopg://user@host:port/db): run sections 4 and 5 "
        "on a scratch database created there, beside the SQLite figures",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="only the server (with --url)")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}", flush=True)
    memory = None if args.no_memory else memory_factory()
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        work = Path(scratch)
        started = time.perf_counter()
        if not args.no_sqlite:
            bench_insert(args.n, args.rounds, work, memory)
            bench_reads(args.big, args.samples, work, memory)
        if args.url:
            server = Server(args.url)
            try:
                bench_insert_pg(server, args.n, args.rounds)
                bench_reads_pg(server, args.big, args.samples)
            finally:
                server.drop()
        print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
