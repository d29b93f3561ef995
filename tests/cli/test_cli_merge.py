"""``leadkit dedupe --merge`` and ``leadkit unmerge``: the flow docs/duplicates.md shows."""

from __future__ import annotations

import json
import re
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
    # The same person on purpose: add's own duplicate check is tested in test_cli_daily.py.
    result = run(db, "add", "--topic", "Deal", "--create-anyway", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _two_duplicates(db: str) -> tuple[str, str]:
    a = add(db, "--name", "Ada Lovelace", "--email", "ada@acme.se")
    b = add(db, "--name", "Ada Lovelace", "--email", "ada@acme.se", "--company", "Acme AB")
    return a, b


def test_dedupe_merge_shows_the_plan_side_by_side_and_merges_on_yes(db: str) -> None:
    a, b = _two_duplicates(db)
    result = run(db, "dedupe", "--merge", answers="y\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "merge into" in out
    assert "Acme AB ✓" in out
    merge_id = re.search(r"merged: (M-[0-9a-f]+)", out)
    assert merge_id is not None
    assert "1 merge(s) stored" in out
    undone = run(db, "unmerge", merge_id.group(1))
    assert undone.exit_code == 0, undone.output
    assert a in undone.stdout
    assert b in undone.stdout


def test_dedupe_merge_skips_on_no(db: str) -> None:
    _two_duplicates(db)
    result = run(db, "dedupe", "--merge", answers="n\n")
    assert result.exit_code == 0, result.output
    assert "0 merge(s) stored" in result.stdout


def test_unmerge_reports_a_conflict_and_force_overrides_it(db: str) -> None:
    _two_duplicates(db)
    merged = run(db, "dedupe", "--merge", answers="y\n")
    merge_id = re.search(r"merged: (M-[0-9a-f]+)", merged.stdout)
    assert merge_id is not None
    master = re.search(r"merge into (L-[0-9a-f]+)", merged.stdout)
    assert master is not None
    assert run(db, "edit", master.group(1), "--set", "job_title=CTO").exit_code == 0
    refused = run(db, "unmerge", merge_id.group(1))
    assert refused.exit_code == EXIT_CODES["refused"]
    assert "job_title" in refused.stderr
    forced = run(db, "unmerge", merge_id.group(1), "--force", "job_title")
    assert forced.exit_code == 0, forced.output


def test_unmerge_of_an_unknown_merge_is_not_found(db: str) -> None:
    result = run(db, "unmerge", "M-nothing")
    assert result.exit_code == EXIT_CODES["not found"]


def test_lead_text_in_the_plan_is_shown_literally(db: str) -> None:
    add(db, "--name", "Ada Lovelace", "--email", "ada@acme.se", "--company", "[bold]Acme\x1b[31m")
    add(db, "--name", "Ada Lovelace", "--email", "ada@acme.se")
    result = run(db, "dedupe", "--merge", answers="n\n")
    assert result.exit_code == 0, result.output
    assert "[bold]Acme" in result.stdout
    assert "\x1b" not in result.stdout


def test_dedupe_probabilistic_adds_the_fitted_rule_and_explains_each_field(db: str) -> None:
    a, b = _two_duplicates(db)
    add(db, "--name", "Bo Ek", "--email", "bo@ek.se", "--company", "Ek AB")
    add(db, "--name", "Cy Lund", "--email", "cy@lund.se", "--company", "Lund AB")
    result = run(db, "--json", "dedupe", "--probabilistic")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    (group,) = found["groups"]
    assert sorted(group["members"]) == sorted([f"lead:{a}", f"lead:{b}"])
    rules = {e["rule"] for e in group["evidence"]} | {
        r["rule"] for e in group["evidence"] for r in e["other_rules"]
    }
    assert "lead-probabilistic" in rules
    weighted = [
        c
        for e in group["evidence"]
        for r in [e, *e["other_rules"]]
        if r["rule"] == "lead-probabilistic"
        for c in r["conditions"]
    ]
    assert {c["field"] for c in weighted} == {
        "full_name",
        "email",
        "mobile_phone",
        "company",
        "postal_code",
    }
    assert all("weight" in c and "level" in c for c in weighted)
