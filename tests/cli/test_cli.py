"""The leadkit command through click's runner, plus one real subprocess run."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from leadkit.cli import EXIT_CODES, cli
from leadkit.status import LeadState


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "leads.db")
    assert run(path, "init").exit_code == 0
    return path


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, "--busy-timeout", "0.2", *args])


def add(db: str, name: str = "Ada Lovelace", *extra: str) -> str:
    # These tests add the same person on purpose (the duplicate check of add is tested in
    # test_cli_daily.py).
    result = run(
        db, "add", "--topic", "Deal", "--name", name, "--source", "Web", "--create-anyway", *extra
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def assert_one_line_error(result: Result, code: int) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    lines = [x for x in lines if not x.startswith("note: ")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("leadkit: error: ")
    assert "Traceback" not in result.output


def test_add_list_show_edit_note_and_json(db: str) -> None:
    lead_id = add(db, "Ada Lovelace", "--company", "Acme", "--email", "ada@acme.se")
    assert run(db, "edit", lead_id, "--set", "city=Oslo", "--set", "rating=Hot").exit_code == 0
    assert run(db, "note", lead_id, "Called her").exit_code == 0
    listed = json.loads(run(db, "--json", "list", "--source", "web").stdout)
    assert listed["total"] == 1
    assert listed["leads"][0]["rating"] == "Hot"
    shown = json.loads(run(db, "--json", "show", lead_id).stdout)
    assert shown["fields"]["address"] == "Oslo"
    assert shown["timeline"][0]["text"] == "Called her"
    assert shown["score_explanation"]["lines"]
    table = run(db, "show", lead_id)
    assert "Ada Lovelace" in table.stdout


def test_disqualify_reactivate_score_and_report(db: str) -> None:
    first, second = add(db, "Ada Lovelace"), add(db, "Bo Berg")
    assert run(db, "disqualify", first, "--reason", "canceled").exit_code == 0
    assert_one_line_error(run(db, "edit", first, "--set", "company=X"), EXIT_CODES["refused"])
    assert run(db, "reactivate", first).exit_code == 0
    assert run(db, "disqualify", second).exit_code == 0
    scored = json.loads(run(db, "--json", "score").stdout)
    assert scored["seen"] == 2
    data = json.loads(run(db, "--json", "report").stdout)
    assert data["funnel"]["disqualified"] == 1
    assert data["source"][0]["label"] == "Web"
    assert set(data) == {
        "owner",
        "owner-rating",
        "score-band",
        "source",
        "funnel",
        "aging",
        "rates",
    }
    assert "funnel" in run(db, "report", "--kind", "funnel").stdout


def test_assign_round_robin_capacity_and_mass_edit(db: str) -> None:
    ids = [add(db, f"Person {i}") for i in range(4)]
    result = run(db, "assign", "--all", "--round-robin", "ana,bo")
    assert result.exit_code == 0, result.output
    assert "next round-robin cursor: 0" in result.stdout
    owners = json.loads(run(db, "--json", "list").stdout)["leads"]
    assert sorted(lead["owner"] for lead in owners) == ["ana", "ana", "bo", "bo"]
    assert run(db, "assign", ids[0], "--capacity", "cy:1").exit_code == 0
    edited = json.loads(run(db, "--json", "mass-edit", "--all", "--set", "source=Partner").stdout)
    assert edited["committed"]
    assert edited["counts"]["changed"] == 4
    assert run(db, "mass-edit", *ids[:2], "--manual-score", "4").exit_code == 0
    assert run(db, "disqualify", ids[3]).exit_code == 0
    refused = json.loads(run(db, "--json", "mass-edit", "--all", "--owner-to", "dee").stdout)
    assert refused["counts"]["refused_closed"] == 1


def test_an_unknown_id_in_a_mass_edit_stores_nothing(db: str) -> None:
    lead_id = add(db)
    result = run(db, "mass-edit", lead_id, "nope", "--set", "company=Acme")
    assert_one_line_error(result, EXIT_CODES["not found"])
    shown = json.loads(run(db, "--json", "show", lead_id).stdout)
    assert shown["company"] == ""


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("show", "nope"), EXIT_CODES["not found"]),
        (("show", "bad id!"), EXIT_CODES["bad input"]),
        (("edit", "nope", "--set", "company=X"), EXIT_CODES["not found"]),
        (("note", "nope", "hi"), EXIT_CODES["not found"]),
        (("disqualify", "nope"), EXIT_CODES["not found"]),
        (("reactivate", "nope"), EXIT_CODES["not found"]),
        (("assign", "nope", "--to", "ana"), EXIT_CODES["not found"]),
        (("assign", "--all"), 2),
        (("assign", "--all", "--capacity", "ana"), EXIT_CODES["bad input"]),
        (("mass-edit", "--all", "--set", "colour=red"), EXIT_CODES["bad input"]),
        (("mass-edit", "--all", "--manual-score", "11"), EXIT_CODES["bad input"]),
        (("mass-edit", "--all"), 2),
        (("add", "--topic", "t", "--name", "n", "--source", "Pigeon"), EXIT_CODES["bad input"]),
        (("add", "--topic", "t", "--name", "n", "--email", "nope"), EXIT_CODES["bad input"]),
        (("add", "--topic", "t"), 2),
        (("list", "--state", "lost"), 2),
        (("list", "--source", "Pigeon"), EXIT_CODES["bad input"]),
        (("report", "--from", "yesterday"), EXIT_CODES["bad input"]),
        (("nonsense",), 2),
    ],
)
def test_bad_input_gives_one_line_and_an_exit_code(
    db: str, args: tuple[str, ...], code: int
) -> None:
    assert_one_line_error(run(db, *args), code)


def test_a_missing_database_is_an_error(tmp_path: Path) -> None:
    assert_one_line_error(run(str(tmp_path / "none.db"), "list"), EXIT_CODES["not found"])


def test_a_locked_database_gives_one_line_and_the_storage_code(db: str) -> None:
    lead_id = add(db)
    lock = sqlite3.connect(db, isolation_level=None)
    try:
        lock.execute("BEGIN EXCLUSIVE")
        for args in (
            ("edit", lead_id, "--set", "company=X"),
            ("add", "--topic", "t", "--name", "n"),
        ):
            assert_one_line_error(run(db, *args), EXIT_CODES["storage"])
    finally:
        lock.execute("ROLLBACK")
        lock.close()


def test_debug_shows_the_traceback(db: str) -> None:
    result = run(db, "--debug", "show", "nope")
    assert result.exit_code == EXIT_CODES["not found"]
    assert "Traceback" in result.stderr


def test_demo_fills_a_fresh_database_and_refuses_a_used_one(tmp_path: Path) -> None:
    path = str(tmp_path / "demo.db")
    result = run(path, "demo", "--leads", "60")
    assert result.exit_code == 0, result.output
    assert "demo step timings" in result.stderr
    for step in ("generate + store 60 leads", "score all", "dedupe scan", "reports", "total"):
        assert step in result.stderr
    assert "duplicate groups" in result.stdout
    assert "60 leads (" in result.stdout
    listed = json.loads(run(path, "--json", "list", "--limit", "60").stdout)["leads"]
    assert {lead["state"] for lead in listed} == {s.label for s in LeadState}
    assert json.loads(run(path, "--json", "list").stdout)["total"] == 60
    assert_one_line_error(run(path, "demo", "--leads", "5"), EXIT_CODES["bad input"])


def test_a_real_subprocess_run_against_a_sqlite_file(tmp_path: Path) -> None:
    env = {**os.environ, "LEADKIT_DB": str(tmp_path / "real.db")}
    command = [sys.executable, "-m", "leadkit.cli"]
    subprocess.run([*command, "init"], env=env, check=True, capture_output=True)
    added = subprocess.run(
        [*command, "add", "--topic", "Deal", "--name", "Ada Lovelace"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    listed = subprocess.run(
        [*command, "--json", "list"], env=env, check=True, capture_output=True, text=True
    )
    assert json.loads(listed.stdout)["leads"][0]["id"] == added.stdout.strip()
    failed = subprocess.run([*command, "show", "nope"], env=env, capture_output=True, text=True)
    assert failed.returncode == EXIT_CODES["not found"]
    assert failed.stderr.strip() == "leadkit: error: no lead with id nope"


def test_qualify_dedupe_export_and_import(db: str, tmp_path: Path) -> None:
    lead_id = add(db, "Ada Lovelace", "--company", "Acme", "--email", "ada@acme.se")
    add(db, "Ada Lovelace", "--company", "Acme", "--email", "ADA@acme.se")
    groups = json.loads(run(db, "--json", "dedupe").stdout)["groups"]
    assert len(groups) == 1
    assert "1 duplicate group(s)" in run(db, "dedupe").stdout
    qualified = run(db, "qualify", lead_id, "--yes")
    assert qualified.exit_code == 0, qualified.output
    assert "create opportunity" in qualified.stdout
    assert_one_line_error(run(db, "qualify", lead_id, "--yes"), EXIT_CODES["refused"])
    assert run(db, "qualify", "nope", "--yes").exit_code == EXIT_CODES["not found"]
    exported = tmp_path / "out.csv"
    assert run(db, "export", str(exported)).exit_code == 0
    other = str(tmp_path / "other.db")
    run(other, "init")
    imported = run(other, "import", str(exported), "--yes")
    assert imported.exit_code == 0, imported.output
    assert "created 1, updated 0, skipped 1" in imported.stdout  # the duplicate row is skipped
    missing = run(other, "import", str(tmp_path / "missing.csv"))
    assert missing.exit_code == EXIT_CODES["not found"]


def test_import_stream_gives_the_outcome_of_the_confirmed_preview(
    tmp_path: Path,
) -> None:
    source = tmp_path / "leads.csv"
    source.write_text(
        "Topic,First Name,Last Name,Company Name,Email\n"
        "Offer,Anna,Nowak,Baltic Data,anna@baltic.pl\n"
        "Offer,Anna,Nowak,Baltic Data,anna@baltic.pl\n"
        "Offer,Bo,Ek,Ek AB,not an address\n",
        encoding="utf-8",
    )
    streamed, previewed = str(tmp_path / "streamed.db"), str(tmp_path / "previewed.db")
    for path in (streamed, previewed):
        assert run(path, "init").exit_code == 0
    result = run(streamed, "import", str(source), "--stream")
    confirmed = CliRunner().invoke(cli, ["--db", previewed, "import", str(source)], input="y\n")
    assert result.exit_code == 0, result.output
    assert confirmed.exit_code == 0, confirmed.output
    lines = result.stdout.splitlines()
    assert lines[0] == "columns:"
    assert "errors (1):" in lines
    assert "duplicates skipped (1):" in lines
    assert "  row 3: duplicate of row 2" in lines
    assert lines[-1] == "created 1, updated 0, skipped 1, rejected 1"
    assert confirmed.stdout.splitlines()[-1] == lines[-1]

    def leads(path: str) -> list[tuple[str, str]]:
        listed = json.loads(run(path, "--json", "list").stdout)["leads"]
        return sorted((lead["name"], lead["email"]) for lead in listed)

    assert leads(streamed) == leads(previewed)


# ---------------------------------------------------------------------------------------------
# report --chart


def test_report_draws_a_chart_as_png_or_svg(db: str, tmp_path: Path) -> None:
    from matplotlib.image import imread

    add(db, "Ada Lovelace")
    add(db, "Bo Berg", "--set", "rating=Hot")
    png = tmp_path / "source.png"
    result = run(db, "report", "source", "--chart", str(png))
    assert result.exit_code == 0, result.output
    assert f"chart written: {png}" in result.stdout
    assert "leads by source" in result.stdout  # the table is printed too
    assert imread(str(png)).shape[:2] == (450, 800)
    svg = tmp_path / "funnel.svg"
    result = run(db, "--json", "report", "--kind", "funnel", "--chart", str(svg))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["funnel"]["created"] == 2  # stdout stays JSON
    assert "chart written" in result.stderr
    assert "created" in svg.read_text(encoding="utf-8")
    other = tmp_path / "chart.out"
    assert run(db, "report", "rates", "--chart", str(other), "--chart-format", "svg").exit_code == 0
    assert other.read_text(encoding="utf-8").lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("report", "owner", "--chart", "chart.gif"), EXIT_CODES["bad input"]),
        (("report", "owner", "--chart", "chart"), EXIT_CODES["bad input"]),
        (("report", "--chart", "chart.png"), 2),
        (("report", "owner", "source", "--chart", "chart.png"), 2),
        (("report", "nonsense"), 2),
    ],
)
def test_report_chart_bad_input_is_one_line(db: str, args: tuple[str, ...], code: int) -> None:
    assert_one_line_error(run(db, *args), code)


def test_report_chart_without_matplotlib_names_the_extra(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    result = run(db, "report", "owner", "--chart", str(tmp_path / "x.png"))
    assert_one_line_error(result, EXIT_CODES["error"])
    assert 'pip install "leadkit[charts]"' in result.stderr
    assert result.stdout == ""  # refused before any work


# ---------------------------------------------------------------------------------------------
# qualify: prompt mode, --yes, duplicates


def ask(db: str, *args: str, answers: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, *args], input=answers)


def test_qualify_in_prompt_mode_asks_replans_and_commits(db: str) -> None:
    lead_id = add(db, "Ada Lovelace", "--company", "Acme", "--email", "ada@acme.se")
    # No account (so the customer question goes away), a contact, an opportunity, a bad
    # currency asked again, then EUR, then confirm.
    result = ask(db, "qualify", lead_id, "--prompt", answers="n\ny\ny\nXYZ\nEUR\ny\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "? Create an account for Acme?" in out  # the plan shows its questions first
    assert "Create an account for Acme? [Y/n]:" in out
    assert "Is the opportunity's customer" not in out.split("[Y/n]:")[-1]
    assert "Which currency should the opportunity use? [EUR]:" in out
    assert "Error:" in out  # XYZ refused, asked again
    plan_now = out.split("the plan now:")[1]
    assert "create account" not in plan_now
    assert "create contact" in plan_now
    assert "(EUR, customer" in plan_now
    assert "qualified (created contact" in out
    assert json.loads(run(db, "--json", "show", lead_id).stdout)["reason"] == "Qualified"


def test_qualify_prompt_mode_with_yes_takes_the_suggested_answers(db: str) -> None:
    lead_id = add(db, "Ada Lovelace", "--company", "Acme")
    result = run(db, "qualify", lead_id, "--prompt", "--yes")
    assert result.exit_code == 0, result.output
    assert "created account" in result.stdout
    assert "(EUR, customer" in result.stdout.split("the plan now:")[1]


def test_qualify_declined_at_the_end_stores_nothing(db: str) -> None:
    lead_id = add(db, "Ada Lovelace", "--company", "Acme")
    result = ask(db, "qualify", lead_id, answers="n\n")
    assert result.exit_code == EXIT_CODES["error"]
    assert result.stderr.strip().splitlines()[-1] == "leadkit: aborted, nothing changed"
    assert json.loads(run(db, "--json", "show", lead_id).stdout)["reason"] == "New"


def test_qualify_options_say_what_to_create(db: str) -> None:
    lead_id = add(db, "Ada Lovelace", "--company", "Acme")
    result = run(db, "qualify", lead_id, "--no-account", "--no-opportunity", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("qualified (created contact " + _contact(result) + ")")


def _contact(result: Result) -> str:
    return result.stdout.split("created contact ")[-1].split(")")[0]


@pytest.fixture
def duplicate_contact(db: str) -> str:
    """A stored contact C-1, Ada Lovelace <ada@acme.se>: the real duplicate engine reports it
    for a lead with the same e-mail."""
    from leadkit.adapters.sql import SqlStore
    from leadkit.records import Contact
    from leadkit.values import ContactId, EmailAddress, PersonName

    with SqlStore.open(path=Path(db)) as store, store.unit_of_work() as uow:
        uow.contacts.add(
            Contact(
                id=ContactId("C-1"),
                name=PersonName("Ada", "Lovelace"),
                email=EmailAddress("ada@acme.se"),
            )
        )
        uow.commit()
    return "C-1"


def test_qualify_yes_refuses_possible_duplicates_listing_them(
    db: str, duplicate_contact: str
) -> None:
    lead_id = add(db, "Ada Lovelace", "--email", "ada@acme.se")
    result = run(db, "qualify", lead_id, "--yes")
    assert_one_line_error(result, EXIT_CODES["refused"])
    assert "1 possible duplicate(s) of lead" in result.stderr
    assert "C-1" in result.stdout  # the candidates: a short table
    assert "A contact with the lead's e-mail address" in result.stdout
    assert "--link ID or --create-anyway" in result.stderr
    assert json.loads(run(db, "--json", "show", lead_id).stdout)["reason"] == "New"


def test_qualify_yes_links_or_creates_anyway_when_told(db: str, duplicate_contact: str) -> None:
    first = add(db, "Ada Lovelace", "--email", "ada@acme.se")
    second = add(db, "Ada Lovelace", "--email", "ada@acme.se")
    linked = run(db, "qualify", first, "--yes", "--link", duplicate_contact)
    assert linked.exit_code == 0, linked.output
    assert "linked contact C-1" in linked.stdout
    created = run(db, "qualify", second, "--yes", "--create-anyway")
    assert created.exit_code == 0, created.output
    assert "created contact" in created.stdout


def test_qualify_link_must_name_a_possible_duplicate(db: str, duplicate_contact: str) -> None:
    lead_id = add(db, "Ada Lovelace", "--email", "ada@acme.se")
    result = run(db, "qualify", lead_id, "--yes", "--create-anyway", "--link", "C-9")
    assert_one_line_error(result, EXIT_CODES["bad input"])
    assert "C-9" in result.stderr


def test_qualify_asks_about_each_possible_duplicate(db: str, duplicate_contact: str) -> None:
    lead_id = add(db, "Ada Lovelace", "--email", "ada@acme.se")
    result = ask(db, "qualify", lead_id, answers="maybe\nlink\ny\n")
    assert result.exit_code == 0, result.output
    shown = "possible duplicate contact: contact C-1 (A contact with the lead's e-mail"
    assert shown in result.stdout
    assert "linked contact C-1" in result.stdout


def test_dedupe_in_worker_processes_finds_the_same_groups(db: str) -> None:
    add(db, "Ada Lovelace", "--company", "Acme", "--email", "ada@acme.se")
    add(db, "Ada Lovelace", "--company", "Acme", "--email", "ADA@acme.se")
    add(db, "Grace Hopper", "--company", "Navy", "--email", "grace@navy.mil")
    add(db, "Grace Hopper", "--company", "Navy", "--email", "grace@navy.mil")
    one = json.loads(run(db, "--json", "dedupe").stdout)
    many = json.loads(run(db, "--json", "dedupe", "--workers", "3").stdout)
    assert len(one["groups"]) == 2
    assert many == one
    refused = run(db, "dedupe", "--workers", "0")
    assert refused.exit_code != 0
    assert run(db, "dedupe", "--workers", "65").exit_code != 0  # a process each: capped at 64


def test_dedupe_with_a_window_compares_big_blocks_by_sorted_neighbourhood(db: str) -> None:
    for n in range(24):  # one compound block (a similar name at one company) of 24 > 2*1+1
        add(db, "Ada Lovelace", "--company", "Acme", "--email", f"ada{n}@acme{n}.se")
    whole = json.loads(run(db, "--json", "dedupe").stdout)
    windowed = json.loads(run(db, "--json", "dedupe", "--window", "1").stdout)
    assert [g["members"] for g in windowed["groups"]] == [g["members"] for g in whole["groups"]]
    assert len(whole["groups"]) == 1
    assert len(windowed["groups"][0]["evidence"]) < len(whole["groups"][0]["evidence"])
    refused = run(db, "dedupe", "--window", "0")
    assert refused.exit_code == 2
    assert "--window" in refused.output
