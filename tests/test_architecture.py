"""Import rules of ARCHITECTURE.md, checked by walking the source with ``ast``.

- The domain core imports no adapter, io, cli or testing module, no SQLAlchemy, pytest or
  hypothesis, and does no I/O: no file, socket, process or database modules, no clock and no
  random numbers (time arrives as ``at``, identities as arguments).
- Adapters never import each other.
- ``import leadkit`` loads neither pytest, hypothesis nor SQLAlchemy.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "leadkit"

EDGE_PREFIXES = ("adapters", "io", "cli", "charts", "testing", "desk")
# Modules at the edge that may talk to the outside world.
EDGE_FILES = {"duplicates/sql_keys.py"}
FORBIDDEN_IN_CORE = {
    "sqlalchemy",
    "matplotlib",
    "pytest",
    "hypothesis",
    "sqlite3",
    "socket",
    "subprocess",
    "os",
    "io",
    "pathlib",
    "shutil",
    "tempfile",
    "random",
    "time",
    "uuid",
    "threading",
    "multiprocessing",
    "logging",
    "leadkit.adapters",
    "leadkit.io",
    "leadkit.cli",
    "leadkit.charts",
    "leadkit.testing",
}
# Calls that read a clock or draw a random number.
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("uuid", "uuid4"),
}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), path


def _is_core(rel: str) -> bool:
    top = rel.split("/", 1)[0].removesuffix(".py")
    return top not in EDGE_PREFIXES and rel not in EDGE_FILES


def _imports(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_CORE)


CORE = [(rel, path) for rel, path in _modules() if _is_core(rel)]


def test_there_are_core_modules_to_check() -> None:
    assert len(CORE) >= 10
    assert any(rel == "lead.py" for rel, _ in CORE)


@pytest.mark.parametrize(("rel", "path"), CORE, ids=[rel for rel, _ in CORE])
def test_core_module_imports_nothing_from_the_edge(rel: str, path: Path) -> None:
    bad = sorted({name for name in _imports(path) if _forbidden(name)})
    assert not bad, f"{rel} imports {bad}"


@pytest.mark.parametrize(("rel", "path"), CORE, ids=[rel for rel, _ in CORE])
def test_core_module_reads_no_clock_and_draws_no_random_number(rel: str, path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
        ):
            calls.add((node.func.value.id, node.func.attr))
        if isinstance(node, ast.Name) and node.id == "open" and isinstance(node.ctx, ast.Load):
            calls.add(("builtins", "open"))
    bad = sorted(calls & (FORBIDDEN_CALLS | {("builtins", "open")}))
    assert not bad, f"{rel} calls {bad}"


def test_adapters_never_import_each_other() -> None:
    adapters = SRC / "adapters"
    names = sorted(
        p.stem if p.is_file() else p.name
        for p in adapters.iterdir()
        if p.name != "__init__.py" and not p.name.startswith("__")
    )
    for name in names:
        root = adapters / name
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in files:
            for imported in _imports(path):
                for other in names:
                    if other != name:
                        assert not imported.startswith(f"leadkit.adapters.{other}"), (
                            f"adapter {name} imports adapter {other} ({path.name})"
                        )


def test_import_leadkit_loads_no_test_or_database_library() -> None:
    code = (
        "import sys, leadkit; "
        "bad = [m for m in ('pytest', 'hypothesis', 'sqlalchemy', 'matplotlib') "
        "if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"import leadkit loaded {out}"
