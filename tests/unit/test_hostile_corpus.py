"""Issue 22: every hostile file of the corpus (tests/support/hostile.py; the small ones are
committed under tests/data/hostile/) goes through the library and the CLI in a child process
whose address space is capped (tests/support/hostile_child.py): each is refused with a
leadkit error, or accepted safely, in under 2 s of CPU time and 256 MB of peak resident
memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from leadkit.adapters.sql import SqlStore
from support.hostile import CASES, COMMITTED_MAX, HOSTILE_DIR, case_bytes

CHILD = Path(__file__).resolve().parent.parent / "support" / "hostile_child.py"
SECONDS = 2.0
PEAK_BYTES = 256 << 20
TABLES = [name for name in CASES if not name.endswith(".eml")]

pytestmark = pytest.mark.slow


def _run_all(mode: str, names: list[str], folder: Path) -> dict[str, dict[str, Any]]:
    """Every file through one child; the results by file name."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "leads.db"
    SqlStore.open(path=db, create=True).close()
    paths = []
    for name in names:
        path = folder / name
        path.write_bytes(case_bytes(name))
        paths.append(str(path))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(CHILD), mode, str(db), *paths],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    results = {}
    for line in done.stdout.splitlines():
        result = json.loads(line)
        results[result["name"]] = result
    missing = [n for n in names if n not in results]
    assert not missing, f"the child stopped at {missing[:1]}: {done.stderr[-3000:]}"
    return results


@pytest.fixture(scope="module")
def library_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return _run_all("lib", list(CASES), tmp_path_factory.mktemp("lib"))


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return _run_all("cli", TABLES, tmp_path_factory.mktemp("cli"))


def _check(name: str, result: dict[str, Any]) -> None:
    assert result["outcome"] != "escaped", result["trace"]
    if CASES[name][1] == "refuse":
        assert result["outcome"] == "refused", result
    assert result["seconds"] < SECONDS, result
    assert result["peak_bytes"] < PEAK_BYTES, result


@pytest.mark.parametrize("name", list(CASES))
def test_the_library_refuses_or_safely_reads_each_hostile_file(
    name: str, library_results: dict[str, dict[str, Any]]
) -> None:
    _check(name, library_results[name])


@pytest.mark.parametrize("name", TABLES)
def test_the_cli_refuses_or_safely_imports_each_hostile_file(
    name: str, cli_results: dict[str, dict[str, Any]]
) -> None:
    result = cli_results[name]
    _check(name, result)
    if result["outcome"] == "refused":
        assert result["stderr"].startswith("leadkit: error: "), result
        assert "Traceback" not in result["stderr"]


def test_the_committed_files_are_small_cases_made_by_the_corpus_script() -> None:
    committed = sorted(p.name for p in HOSTILE_DIR.iterdir())
    assert len(committed) >= 20
    for name in committed:
        data = (HOSTILE_DIR / name).read_bytes()
        assert len(data) <= COMMITTED_MAX, name
        assert data == CASES[name][0](), name
