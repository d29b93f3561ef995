"""The README's Python examples run as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_python_examples() -> None:
    assert BLOCKS


def test_every_readme_python_example_runs() -> None:
    for block in BLOCKS:
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})


def test_the_demo_command_installs_the_cli_and_runs_the_demo() -> None:
    text = README.read_text(encoding="utf-8")
    command = text.split("<!-- ci:demo-command -->", 1)[1].split("\n")[2]
    assert '.venv/bin/pip install ".[cli]"' in command
    assert command.endswith("leadkit --db demo.db demo")


def _session() -> list[tuple[list[str], list[str]]]:
    """The README's terminal session: (leadkit arguments, the output lines shown)."""
    text = README.read_text(encoding="utf-8")
    session = text.split("```console\n", 1)[1].split("```", 1)[0]
    steps: list[tuple[list[str], list[str]]] = []
    for line in session.splitlines():
        if line.startswith("$ "):
            steps.append((shlex.split(line[2:], comments=True), []))
        else:
            steps[-1][1].append(line)
    return [(args[1:], shown) for args, shown in steps if args and args[0] == "leadkit"]


def _comparable(line: str) -> bool:
    # Not elisions, progress bars (their times vary) or lines with freshly drawn record ids.
    return (
        line.strip() not in ("", "...")
        and not PROGRESS.match(line)
        and not re.search(r"\b[0-9a-f]{16}\b", line)
    )


PROGRESS = re.compile(r"^[a-z][a-z ]+ ━+ \d+/\d+")


def test_the_terminal_session_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from leadkit.cli import cli

    monkeypatch.setenv("COLUMNS", "120")  # the width the session was recorded at
    db = str(tmp_path / "demo.db")
    assert CliRunner().invoke(cli, ["--db", db, "demo"]).exit_code == 0
    steps = _session()
    assert [args[0] for args in (a for a, _ in steps)] == [
        "list",
        "show",
        "score",
        "dedupe",
        "qualify",
        "report",
    ]
    for args, shown in steps:
        if "--chart" in args:
            args = [*args[:-1], str(tmp_path / args[-1])]
        result = CliRunner().invoke(cli, ["--db", db, *args])
        assert result.exit_code == 0, (args, result.output)
        printed = {line.rstrip() for line in (result.stdout + result.stderr).splitlines()}
        for line in filter(_comparable, shown):
            if line.startswith("chart written: "):
                line = f"chart written: {tmp_path / line.split(': ', 1)[1]}"
            assert line.rstrip() in printed, (args, line)
