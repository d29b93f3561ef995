"""The throwaway PostgreSQL server of the test run.

``scripts/with-postgres`` starts a server and exports ``LEADKIT_TEST_PG_URL``; ``.ci/run`` runs the
suite under it. Without that variable the PostgreSQL tests skip with one reason, except with
``CI=true``, where a PostgreSQL test that cannot run fails: CI never passes without them.

Every test works in databases of its own (so ``pytest -n auto`` workers never meet):

- :func:`fresh_database` creates an empty one (for migration tests and the reliability tests);
- the ``pg_databases`` fixture hands out migrated, empty leadkit databases from a pool of the
  worker: a new one is cloned from the worker's template database (``CREATE DATABASE ...
  TEMPLATE``, about 0.1 s), and after the test every database it took is emptied (``DELETE``
  with the foreign keys off, a few ms) and goes back to the pool. One that cannot be emptied
  (a store left open holding a lock) is dropped instead.

Every database made here is dropped at the end of the session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

PG_URL_ENV = "LEADKIT_TEST_PG_URL"
SKIP_REASON = (
    f"no PostgreSQL test server: run the tests under scripts/with-postgres (sets {PG_URL_ENV})"
)

_made: list[str] = []  # URLs of the databases this process created, dropped at session end


def postgres_url() -> str:
    """The server's URL; skips the calling test without one (fails it when CI is set)."""
    url = os.environ.get(PG_URL_ENV, "")
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: {SKIP_REASON}", pytrace=False)
    pytest.skip(SKIP_REASON)


def _admin(url: str) -> Any:
    """An autocommit psycopg connection to the server's maintenance database of ``url``."""
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(url).set(drivername="postgresql")
    return psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True)


def _database_url(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _new_name() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"leadkit_{worker}_{uuid.uuid4().hex[:12]}"


def fresh_database(url: str | None = None, *, template: str | None = None) -> str:
    """Create an empty database on the test server (a copy of ``template`` when given) and
    return its URL (same user and host); it is dropped at the end of the session."""
    base = url or postgres_url()
    name = _new_name()
    with _admin(base) as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    made = _database_url(base, name)
    _made.append(made)
    return made


def drop_database(url: str) -> None:
    """Drop a database made here, ending its open connections (``WITH (FORCE)``)."""
    from sqlalchemy.engine import make_url

    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    if url in _made:
        _made.remove(url)


def drop_every_database() -> None:
    """Drop every database this process created (the end of the session)."""
    for url in list(_made):
        try:
            drop_database(url)
        except Exception:  # the server may be gone already; it is a throwaway one
            _made.remove(url)


def _empty(url: str) -> bool:
    """Delete every row but the schema history; False when that cannot be done at once."""
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(plain, autocommit=False) as conn:
            conn.execute("SET LOCAL lock_timeout = '2s'")
            conn.execute("SET LOCAL session_replication_role = replica")  # no FK checks
            tables = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'schema_version'"
            ).fetchall()
            for (table,) in tables:
                conn.execute(f'DELETE FROM "{table}"')
            conn.commit()
    except psycopg.Error:
        return False
    return True


class DatabasePool:
    """Migrated, empty leadkit databases of one test process (see the module docstring)."""

    def __init__(self, url: str) -> None:
        from leadkit.adapters.sql import SqlStore

        self._url = url
        self._template = fresh_database(url)
        SqlStore.open(self._template).close()
        self._free: list[str] = []
        self._taken: list[str] = []

    def take(self) -> str:
        """The URL of an empty, migrated database that no one else uses until :meth:`reset`."""
        from sqlalchemy.engine import make_url

        url = (
            self._free.pop()
            if self._free
            else fresh_database(self._url, template=make_url(self._template).database)
        )
        self._taken.append(url)
        return url

    def give_back(self, url: str) -> None:
        """Empty a database taken from the pool whose stores are all closed, for reuse now."""
        self._taken.remove(url)
        if _empty(url):
            self._free.append(url)
        else:
            drop_database(url)

    def reset(self) -> None:
        """Empty every database taken since the last reset and put it back in the pool."""
        taken, self._taken = self._taken, []
        for url in taken:
            if _empty(url):
                self._free.append(url)
            else:
                drop_database(url)


_pool: DatabasePool | None = None


@pytest.fixture
def pg_databases() -> Iterator[DatabasePool]:
    """The process's pool of empty leadkit databases; what a test takes is emptied after it.
    Skips (fails under CI) without a test server."""
    global _pool
    url = postgres_url()
    if _pool is None:
        _pool = DatabasePool(url)
    yield _pool
    _pool.reset()
