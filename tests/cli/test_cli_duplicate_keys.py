"""``leadkit qualify`` keeps the duplicate keys in the database: it rebuilds them from every
account and contact only when they are missing or were built for other rules, and otherwise
uses (and updates) the stored keys."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from leadkit.cli import EXIT_CODES, cli
from leadkit.duplicate_checks import EngineDuplicateCheck
from leadkit.duplicates import DEFAULT_LEAD_RULES
from leadkit.duplicates.candidates import keys_fingerprint


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "leads.db")
    assert run(path, "init").exit_code == 0
    return path


@pytest.fixture
def rebuilds(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every rebuild of a check's keys, as it happens (True: it rebuilt)."""
    seen: list[bool] = []
    original = EngineDuplicateCheck._rebuild

    def counted(self: EngineDuplicateCheck, *, only_if_stale: bool) -> Any:
        stats = original(self, only_if_stale=only_if_stale)
        seen.append(stats is not None)
        return stats

    monkeypatch.setattr(EngineDuplicateCheck, "_rebuild", counted)
    return seen


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, "--busy-timeout", "0.2", *args])


def add(db: str, name: str, email: str, company: str) -> str:
    result = run(
        db,
        "add",
        *("--topic", "Deal", "--name", name, "--email", email, "--company", company),
        "--create-anyway",  # a lead of the same person, on purpose
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def sql(db: str, statement: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as conn, conn:
        return conn.execute(statement).fetchall()


def indexed(db: str) -> set[str]:
    return {f"{t}:{i}" for t, i in sql(db, "SELECT record_type, record_id FROM duplicate_keys")}


def stored_contacts(db: str) -> set[str]:
    return {f"contact:{i}" for (i,) in sql(db, "SELECT id FROM contacts")}


def fingerprint(db: str) -> str | None:
    found = sql(db, "SELECT value FROM duplicate_keys_meta WHERE name = 'fingerprint'")
    return found[0][0] if found else None


def test_qualify_builds_missing_keys_once_then_uses_the_stored_ones(
    db: str, rebuilds: list[bool]
) -> None:
    ada = add(db, "Ada Lovelace", "ada@engines.example", "Analytical Engines")
    bo = add(db, "Bo Berg", "bo@contoso.example", "Contoso")
    assert run(db, "qualify", ada, "--yes").exit_code == 0
    assert rebuilds == [True]  # no keys yet: built once
    assert fingerprint(db) == keys_fingerprint(DEFAULT_LEAD_RULES)
    assert run(db, "qualify", bo, "--yes").exit_code == 0
    assert rebuilds == [True]  # the stored keys served, and took the new records
    assert stored_contacts(db) <= indexed(db)
    assert len(stored_contacts(db)) == 2
    again = add(db, "Ada Lovelace", "ada@engines.example", "Analytical Engines")
    refused = run(db, "qualify", again, "--yes")
    assert refused.exit_code == EXIT_CODES["refused"], refused.output
    assert "possible duplicate" in refused.stderr
    assert rebuilds == [True]


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE duplicate_keys_meta SET value = 'v1:built-for-other-rules'",
        "DELETE FROM duplicate_keys_meta",
        "DROP TABLE duplicate_keys_meta",
    ],
    ids=["other-rules", "never-built", "no-fingerprint-table"],
)
def test_qualify_rebuilds_keys_built_for_other_rules_or_missing(
    db: str, rebuilds: list[bool], damage: str
) -> None:
    ada = add(db, "Ada Lovelace", "ada@engines.example", "Analytical Engines")
    assert run(db, "qualify", ada, "--yes").exit_code == 0
    sql(db, "DELETE FROM duplicate_keys")  # stale keys: they no longer hold Ada's contact
    sql(db, damage)
    again = add(db, "Ada Lovelace", "ada@engines.example", "Analytical Engines")
    refused = run(db, "qualify", again, "--yes")
    assert refused.exit_code == EXIT_CODES["refused"], refused.output  # rebuilt: found
    assert "possible duplicate" in refused.stderr
    assert rebuilds == [True, True]
    assert fingerprint(db) == keys_fingerprint(DEFAULT_LEAD_RULES)
    assert stored_contacts(db) <= indexed(db)
