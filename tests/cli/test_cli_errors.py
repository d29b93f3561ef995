"""Every CLI error path we can provoke: one line on stderr in the user's terms (no exception
class names, no reprs, no temporary paths) and the documented exit code."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadkit.adapters.sql import SqlStore
from leadkit.cli import EXIT_CODES, cli
from leadkit.status import LeadState

BAD, MISSING, REFUSED, STORAGE = (
    EXIT_CODES["bad input"],
    EXIT_CODES["not found"],
    EXIT_CODES["refused"],
    EXIT_CODES["storage"],
)
CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception|Interrupt)\b|Traceback")
REPR = re.compile(r"\(got '|\(got None\)|\w+\(\w+=|datetime\.|Decimal\(|<class |\.part\b")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A database with an open lead, a closed one, a qualified one and a lead that
    duplicates the qualified one's contact; a CSV file, a bad mapping file, a corrupt
    database."""
    root = tmp_path_factory.mktemp("errors")
    db = str(root / "leads.db")

    def ok(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--db", db, *args])
        assert result.exit_code == 0, result.output
        return result.stdout.strip().splitlines()[-1]

    ok("init")
    open_id = ok("add", "--topic", "Deal", "--name", "Ada Lovelace")
    closed = ok("add", "--topic", "Lost", "--name", "Bo Ek")
    ok("disqualify", closed)
    qualified = ok("add", "--topic", "Won", "--name", "Cy Twombly", "--email", "cy@art.se")
    ok("qualify", qualified, "--yes")
    twin = ok(
        "add", "--topic", "Again", "--name", "Cy Twombly", "--email", "cy@art.se", "--create-anyway"
    )
    csv = root / "people.csv"
    csv.write_text("Subject,Given,Surname\nDeal,Ada,Lovelace\n", encoding="utf-8")
    (root / "bad.json").write_text("{not json", encoding="utf-8")
    (root / "corrupt.db").write_bytes(b"this is not a database" * 100)
    return {
        "db": db,
        "open": open_id,
        "closed": closed,
        "qualified": qualified.split(":")[0],
        "twin": twin,
        "root": str(root),
        "csv": str(csv),
    }


def _cases(w: dict[str, str]) -> list[tuple[list[str], int]]:
    root, lead, csv = w["root"], w["open"], w["csv"]
    return [
        # bad input
        (["frobnicate"], BAD),
        (["edit", lead, "--set", "x=1"], BAD),
        (["edit", lead, "--set", "nonsense"], BAD),
        (["edit", lead, "--set", "budget_amount=5000"], BAD),
        (["edit", lead, "--set", "budget_amount=5000 KRONOR"], BAD),
        (["edit", lead, "--set", "estimated_close_date=31.13.2026"], BAD),
        (["edit", lead, "--set", "email=not-an-address"], BAD),
        (["edit", lead, "--set", "business_phone=040-12 34 56"], BAD),
        (["edit", lead, "--set", "rating=Lukewarm"], BAD),
        (["edit", lead, "--set", "custom.size:integer=many"], BAD),
        (["edit", lead, "--set", "custom.size:weird=1"], BAD),
        (["edit", lead, "--set", "address=Storgatan 1"], BAD),
        (["edit", lead, "--set", "topic="], BAD),
        (["add", "--topic", "T", "--name", "N", "--set", "postal_code=11#22"], BAD),
        (["mass-edit", "--all", "--manual-score", "6"], BAD),
        (["mass-edit", "--all"], BAD),
        (["mass-edit", "--set", "city=Oslo"], BAD),
        (["list", "--limit", "0"], BAD),
        (["list", "--source", "Carrier pigeon"], BAD),
        (["tick", lead, "nope"], BAD),
        (["report", "funnel", "--from", "2026-06-01", "--to", "2026-01-01"], BAD),
        (["report", "--from", "yesterday"], BAD),
        (["export", f"{root}/out.txt"], BAD),
        (["export", f"{root}/out.csv", "--columns", "nope"], BAD),
        (["import", csv, "--map", "Nope=topic"], BAD),
        (["import", csv, "--map", "Subject=nope"], BAD),
        (["import", csv, "--mapping", f"{root}/bad.json"], BAD),
        (["--busy-timeout", "nan", "list"], BAD),
        (["assign", lead], BAD),
        (["qualify", lead, "--currency", "KRONOR", "--yes"], BAD),
        # not found
        (["show", "nope"], MISSING),
        (["edit", "nope", "--set", "city=Oslo"], MISSING),
        (["--db", f"{root}/missing.db", "list"], MISSING),
        (["--db", f"sqlite:///{root}/missing.db", "list"], MISSING),
        (["--db", f"{root}/no/such/dir/x.db", "init"], MISSING),
        (["export", f"{root}/nodir/out.csv"], MISSING),
        (["import", f"{root}/missing.csv"], MISSING),
        (["import", csv, "--mapping", f"{root}/missing.json"], MISSING),
        (["accounts", "nope"], MISSING),
        (["add", "--topic", "T", "--name", "Cy Twombly", "--email", "cy@art.se"], REFUSED),
        (
            ["add", "--topic", "T", "--name", "Cy Twombly", "--email", "cy@art.se", "--link", "x"],
            BAD,
        ),
        # refused by a rule
        (["edit", w["closed"], "--set", "company=Acme"], REFUSED),
        (["disqualify", w["qualified"]], REFUSED),
        (["qualify", w["twin"], "--yes"], REFUSED),
        # storage
        (["--db", f"{root}/corrupt.db", "list"], STORAGE),
    ]


def test_every_error_is_one_line_in_the_users_terms_with_its_exit_code(
    world: dict[str, str],
) -> None:
    failures = []
    for args, code in _cases(world):
        full = args if args[0] == "--db" else ["--db", world["db"], *args]
        result = CliRunner().invoke(cli, ["--busy-timeout", "0.2", *full])
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        problems = []
        if result.exit_code != code:
            problems.append(f"exit {result.exit_code}, expected {code}")
        if len(lines) != 1 or not lines[0].startswith("leadkit: error: "):
            problems.append("not one error line")
        if CLASS_NAME.search(result.stderr) or REPR.search(result.stderr):
            problems.append("internals shown")
        if problems:
            failures.append(f"{args}: {'; '.join(problems)}: {result.stderr!r}")
    assert not failures, "\n".join(failures)


def test_the_closed_lead_is_still_closed(world: dict[str, str]) -> None:
    with SqlStore.open(path=Path(world["db"])) as store, store.unit_of_work() as uow:
        assert {lead.state for lead in uow.leads.stream()} == {
            LeadState.OPEN,
            LeadState.DISQUALIFIED,
            LeadState.QUALIFIED,
        }


_BIG_DEMO = ("demo", "--leads", "200000")
# `python -m leadkit.cli`, with Ctrl-C raising KeyboardInterrupt even when the test runner's
# process ignores SIGINT (a process that starts with SIGINT ignored keeps ignoring it).
_CTRL_C_READY = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'leadkit'; runpy.run_module('leadkit.cli', run_name='__main__')"
)


def test_ctrl_c_exits_130_with_one_line(tmp_path: Path) -> None:
    errors = tmp_path / "stderr.txt"
    database = tmp_path / "d.db"
    # 200,000 leads: still running when the signal comes (the default-size demo can finish
    # within the half second below). stderr goes to a file and the demo runs in its own
    # session: a child process it left behind could neither hold the test's pipe open nor
    # outlive the test.
    with errors.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", _CTRL_C_READY, "--db", str(database), *_BIG_DEMO],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not database.exists() and time.monotonic() < deadline:  # running
                time.sleep(0.1)
            time.sleep(0.5)
            process.send_signal(signal.SIGINT)
            returncode = process.wait(timeout=60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    err = errors.read_text(encoding="utf-8")
    assert returncode == EXIT_CODES["interrupted"], err
    assert err.strip().splitlines()[-1] == "leadkit: interrupted"
    assert "Traceback" not in err


def test_xlsx_without_the_io_extra_names_the_extra(
    world: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "openpyxl" else real(name, *a)
    )
    target = Path(world["root"]) / "out.xlsx"
    result = CliRunner().invoke(cli, ["--db", world["db"], "export", str(target)])
    assert result.exit_code == BAD
    assert "pip install 'leadkit[io]'" in result.stderr
    assert not target.exists()
