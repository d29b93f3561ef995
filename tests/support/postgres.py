"""The throwaway PostgreSQL server of the test run.

``scripts/with-postgres`` starts a server and exports ``LEADKIT_TEST_PG_URL``; ``.ci/run`` runs the
suite under it. Without that variable the PostgreSQL tests skip with one reason, except with
``CI=true``, where a PostgreSQL test that cannot run fails: CI never passes without them.
"""

from __future__ import annotations

import os
import uuid

import pytest

PG_URL_ENV = "LEADKIT_TEST_PG_URL"
SKIP_REASON = (
    f"no PostgreSQL test server: run the tests under scripts/with-postgres (sets {PG_URL_ENV})"
)


def postgres_url() -> str:
    """The server's URL; skips the calling test without one (fails it when CI is set)."""
    url = os.environ.get(PG_URL_ENV, "")
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: {SKIP_REASON}", pytrace=False)
    pytest.skip(SKIP_REASON)


def fresh_database(url: str | None = None) -> str:
    """Create an empty database on the test server and return its URL (same user and host)."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url or postgres_url())
    name = f"leadkit_{uuid.uuid4().hex[:16]}"
    plain = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)
