"""``leadkit erase`` and ``leadkit audit`` through the real command (docs/privacy.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from leadkit.cli import EXIT_CODES, cli


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "leads.db")
    assert CliRunner().invoke(cli, ["--db", path, "init"]).exit_code == 0
    return path


def run(db: str, *args: str, answers: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--db", db, "--busy-timeout", "0.2", *args], input=answers)


def add(db: str, *args: str) -> str:
    result = run(db, "add", "--topic", "Deal", "--create-anyway", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def stored_bytes(db: str) -> bytes:
    found = Path(db).read_bytes()
    wal = Path(db + "-wal")
    return found + (wal.read_bytes() if wal.exists() else b"")


def test_erase_by_email_deletes_the_lead_and_leaves_no_byte_of_it(db: str) -> None:
    lead = add(db, "--name", "Quentin Zyxwvut", "--email", "qzyx@zyxwvut.example.com")
    other = add(db, "--name", "Bo Other", "--email", "bo@other.example.com")
    assert b"zyxwvut" in stored_bytes(db).lower()
    result = run(db, "--json", "erase", "email:QZYX@zyxwvut.example.com", "--yes")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["records"] == [f"lead:{lead}"]
    assert report["mode"] == "delete"
    assert report["counts"]["leads"] == 1
    assert "truncated" in report["storage"]
    assert b"zyxwvut" not in stored_bytes(db).lower()
    assert run(db, "show", lead).exit_code == EXIT_CODES["not found"]
    assert run(db, "show", other).exit_code == 0


def test_erase_anonymize_keeps_the_lead_and_audit_shows_the_erased_values(db: str) -> None:
    lead = add(db, "--name", "Quentin Zyxwvut", "--email", "qzyx@zyxwvut.example.com")
    result = run(db, "erase", f"lead:{lead}", "--anonymize", "--yes")
    assert result.exit_code == 0, result.output
    assert "erased (anonymize)" in result.stdout
    history = run(db, "--json", "audit", lead)
    assert history.exit_code == 0, history.output
    (created,) = json.loads(history.stdout)
    assert created["event"] == "LeadCreated"
    changes = {c["field"]: c["after"] for c in created["changes"]}
    assert changes == {"topic": "Deal", "name": "[erased]", "email": "[erased]"}
    assert "zyxwvut" not in history.stdout.lower()


def test_audit_shows_who_changed_what(db: str) -> None:
    lead = add(db, "--name", "Ada Lind", "--email", "ada@lind.example.com")
    result = run(db, "audit", lead)
    assert result.exit_code == 0, result.output
    assert "LeadCreated" in result.stdout
    assert "email: '' -> 'ada@lind.example.com'" in result.stdout


def test_erase_asks_first_and_does_nothing_on_no(db: str) -> None:
    lead = add(db, "--name", "Ada Lind")
    result = run(db, "erase", f"lead:{lead}", answers="n\n")
    assert result.exit_code == EXIT_CODES["refused"]
    assert run(db, "show", lead).exit_code == 0


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("erase", "lead:nope", "--yes"), "not found"),
        (("erase", "nokind", "--yes"), "bad input"),
        (("erase", "email:not-an-address", "--yes"), "bad input"),
        (("erase", "phone:12", "--yes"), "bad input"),
        (("audit", "nope"), "not found"),
    ],
)
def test_bad_subjects_and_unknown_leads_give_one_line_and_an_exit_code(
    db: str, args: tuple[str, ...], code: str
) -> None:
    result = run(db, *args)
    assert result.exit_code == EXIT_CODES[code], result.output
    assert result.stderr.startswith("leadkit: error:")
