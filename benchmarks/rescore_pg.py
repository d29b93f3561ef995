"""The PostgreSQL half of ``bench_rescore.py --url postgresql+psycopg://...``.

Builds a database of ``--leads`` unscored leads on the server (``--distinct`` stored through the
adapter, then copied in SQL under new ids), and runs on copies of it (``CREATE DATABASE ...
TEMPLATE``): the baseline "raw psycopg read+write" (read every (id, version, document) a
thousand rows at a time, write the documents back with one versioned ``UPDATE ... FROM
unnest(...)`` per thousand, the arrays in binary as leadkit sends them, a transaction each)
and leadkit's ``rescore_store`` end to end. The databases are dropped at the end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from leadkit import BCM_MODEL, Lead, LeadId, UserRef
from leadkit.adapters.sql import SqlStore
from leadkit.bulk import rescore_store
from leadkit.cli.demo_data import demo_leads


def _plain(url: str, database: str | None = None) -> str:
    found = make_url(url).set(drivername="postgresql")
    if database is not None:
        found = found.set(database=database)
    return found.render_as_string(hide_password=False)


def _sqlalchemy(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


@contextmanager
def databases(url: str) -> Iterator[Callable[[str | None], str]]:
    """``make(template)``: a new database (a copy of ``template``), its name; all dropped."""
    made: list[str] = []
    admin = psycopg.connect(_plain(url), autocommit=True)

    def make(template: str | None = None) -> str:
        name = f"bench_rescore_{os.getpid()}_{len(made)}"
        suffix = f' TEMPLATE "{template}"' if template else ""
        admin.execute(f'CREATE DATABASE "{name}"{suffix}')
        made.append(name)
        return name

    try:
        yield make
    finally:
        for name in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def build(url: str, name: str, leads: int, distinct: int, at: Any, by: UserRef) -> None:
    with SqlStore.open(_sqlalchemy(url, name)) as store, store.unit_of_work() as uow:
        for n, lead in enumerate(demo_leads(distinct, end=at, seed=7)):
            uow.leads.add(
                Lead.create(LeadId(f"B{n:06d}-0000"), lead.patch, at=lead.created_at, by=by)
            )
        uow.commit()
    copies = -(-leads // distinct)
    with psycopg.connect(_plain(url, name)) as conn:
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'leads' "
                "ORDER BY ordinal_position"
            )
        ]
        new_id = "substr(id, 1, 7) || '-' || lpad(%(k)s::text, 4, '0')"
        picked = ", ".join(
            new_id if c == "id"
            else f"replace(document, '\"id\":\"' || id || '\"', '\"id\":\"' || {new_id} || '\"')"
            if c == "document"
            else c
            for c in columns
        )  # fmt: skip
        for k in range(1, copies):
            conn.execute(
                f"INSERT INTO leads ({', '.join(columns)}) SELECT {picked} FROM leads "  # type: ignore[arg-type]
                "WHERE id LIKE '%%-0000'",
                {"k": k},
            )
        conn.execute(
            "DELETE FROM leads WHERE id IN (SELECT id FROM leads ORDER BY id DESC LIMIT %s)",
            (copies * distinct - leads,),
        )
        conn.commit()
        stored = conn.execute("SELECT count(*) FROM leads").fetchone()
    assert stored is not None
    assert stored[0] == leads, (stored, leads)


def raw_read_write(url: str, name: str) -> None:
    """Every document read and written back, versioned, a thousand per transaction."""
    with psycopg.connect(_plain(url, name)) as conn:
        after = ""
        while True:
            rows = conn.execute(
                "SELECT id, version, document FROM leads WHERE id > %s ORDER BY id LIMIT 1000",
                (after,),
            ).fetchall()
            if not rows:
                break
            keys, versions, documents = (list(c) for c in zip(*rows, strict=True))
            cursor = conn.execute(
                "UPDATE leads AS l SET version = u.version + 1, document = u.document "
                "FROM unnest(%b::text[], %b::int[], %b::text[]) AS u(id, version, document) "
                "WHERE l.id = u.id AND l.version = u.version",
                (keys, versions, documents),
            )
            assert cursor.rowcount == len(rows)
            conn.commit()
            after = keys[-1]


def end_to_end(url: str, name: str, at: Any, by: UserRef) -> None:
    with SqlStore.open(_sqlalchemy(url, name)) as store:
        done = rescore_store(store, BCM_MODEL, at=at, by=by)
    assert done.rescored == done.seen, done


def run(
    url: str,
    leads: int,
    distinct: int,
    at: Any,
    by: UserRef,
    timed: Callable[[Callable[[], object]], tuple[float, float]],
) -> dict[str, tuple[float, float]]:
    """Build, then time the baseline and leadkit on copies: {name: (wall, CPU)}."""
    results: dict[str, tuple[float, float]] = {}
    with databases(url) as make:
        base = make(None)
        start = time.perf_counter()
        build(url, base, leads, distinct, at, by)
        print(f"built {leads:,} stored leads on PostgreSQL in {time.perf_counter() - start:.1f} s")
        copy = make(base)
        results["raw psycopg read+write"] = timed(lambda: raw_read_write(url, copy))
        copy = make(base)
        results["leadkit end to end"] = timed(lambda: end_to_end(url, copy, at, by))
    return results
