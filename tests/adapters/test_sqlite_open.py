"""What opening a SQLite file may change, and the integrity check (issue: read-only is
read-only; init on a damaged file does not say "ready")."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadkit.adapters.sql import SqlStore
from leadkit.adapters.sql.store import SQLITE_CACHE_KIB
from leadkit.errors import StorageUnavailable
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.ports import LeadQuery
from leadkit.values import LeadId, PersonName, UserRef

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _lead(n: int) -> Lead:
    fields = LeadPatch(topic=f"Topic {n} " + "x" * 250, name=PersonName(last=f"Person {n}"))
    return Lead.create(LeadId(f"lead-{n:04d}"), fields, at=T0, by=UserRef("ann"))


def _filled(path: Path, count: int = 300) -> Path:
    with SqlStore.open(path=path) as store, store.unit_of_work() as uow:
        for n in range(count):
            uow.leads.add(_lead(n))
        uow.commit()
    return path


def _journal_mode(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


def _to_rollback_journal(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()


def _zero_pages(path: Path, first: int, count: int) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    _to_rollback_journal(path)
    with path.open("r+b") as file:
        file.seek(first * size)
        file.write(b"\0" * size * count)


def test_opening_without_create_leaves_a_rollback_journal_file_as_it_is(tmp_path: Path) -> None:
    path = _filled(tmp_path / "leads.db", 3)
    _to_rollback_journal(path)
    before = path.read_bytes()
    for create, read_only in ((False, False), (True, True)):
        opened = SqlStore.open(path=path, create=create, read_only=read_only)
        with opened as store, store.unit_of_work() as uow:
            assert uow.leads.count(LeadQuery()) == 3
        assert _journal_mode(path) == "delete"
        assert path.read_bytes() == before


def test_opening_with_create_switches_the_file_to_wal(tmp_path: Path) -> None:
    path = _filled(tmp_path / "leads.db", 1)
    _to_rollback_journal(path)
    SqlStore.open(path=path).close()
    assert _journal_mode(path) == "wal"


def test_verify_refuses_a_file_with_zeroed_pages(tmp_path: Path) -> None:
    path = _filled(tmp_path / "leads.db")
    _zero_pages(path, 6, 4)
    with pytest.raises(StorageUnavailable, match=r"damaged .*integrity check") as refused:
        SqlStore.open(path=path, verify=True)
    assert str(path) in str(refused.value)


def test_init_on_a_file_with_zeroed_pages_says_it_is_damaged(tmp_path: Path) -> None:
    pytest.importorskip("click")
    path = _filled(tmp_path / "leads.db")
    _zero_pages(path, 6, 4)
    done = subprocess.run(
        [sys.executable, "-m", "leadkit.cli", "--db", str(path), "init"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "database ready" not in done.stdout
    assert "damaged" in done.stderr


def test_every_connection_has_the_larger_page_cache(tmp_path: Path) -> None:
    """A bulk save or read in a file larger than SQLite's 2 MiB default cache read the
    same pages again batch after batch (a mass edit's time per lead grew with the table)."""
    with SqlStore.open(path=tmp_path / "leads.db") as store, store.engine.connect() as conn:
        size = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    assert size == -SQLITE_CACHE_KIB
    assert SQLITE_CACHE_KIB >= 32 * 1024
