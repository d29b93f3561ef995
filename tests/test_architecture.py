"""The layers of leadkit, enforced: a table of layers in tests/support/architecture.py, a checker
that resolves every import (relative, ``from leadkit import X``, ``__import__``) and every clock
call under any alias, and a self-test that feeds the checker bad modules so it is known to fail.

Layers, bottom up: kernel (errors) < domain (pure) < codec (JSON) < ports < application
(services) < edge (adapters, io) < outer (cli, charts, demo, testing) < the flat API. A module
imports its own layer and those below; the domain and the codec use only the pure standard
library and the core dependencies, and read no clock; adapters never import each other.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from support.architecture import (
    FUNCTION_LINES,
    MODULE_LINES,
    all_modules,
    check_tree,
    import_cycles,
    layer_of,
    oversize,
    oversize_tree,
)

# Breaches that exist today, each to be removed by the change that mends it (issue 21, item 2:
# one application layer). The ratchet test below fails when one of them is gone, so this list
# only ever shrinks.
KNOWN_BREACHES: set[str] = set()
KNOWN_CYCLES: set[tuple[str, str]] = set()


def test_every_module_has_a_layer() -> None:
    modules = all_modules()
    assert len(modules) > 40
    for name in modules:
        layer_of(name)  # raises KeyError naming the module


def test_the_tree_breaks_no_layer_rule_beyond_the_known_ones() -> None:
    new = sorted(set(check_tree()) - KNOWN_BREACHES)
    assert not new, "layer rules broken:\n" + "\n".join(new)


def test_every_known_breach_still_exists_so_the_list_only_shrinks() -> None:
    mended = sorted(KNOWN_BREACHES - set(check_tree()))
    assert not mended, "mended, remove from KNOWN_BREACHES:\n" + "\n".join(mended)


def test_no_two_modules_import_each_other_beyond_the_known_cycles() -> None:
    assert set(import_cycles()) == KNOWN_CYCLES


LEAD = "leadkit.lead"
PROBES = [
    (LEAD, "import csv", "imports csv"),
    (LEAD, "import click, rich", "imports click"),
    (LEAD, "import click, rich", "imports rich"),
    (LEAD, "from .adapters import memory", "imports leadkit.adapters.memory (EDGE)"),
    (LEAD, "from leadkit import adapters", "imports leadkit.adapters (EDGE)"),
    (LEAD, "from leadkit import Lead", "imports leadkit (API)"),
    (LEAD, "import datetime as _dt\n_dt.datetime.now()", "calls datetime.datetime.now"),
    (LEAD, "from datetime import datetime as DT\nDT.now()", "calls datetime.datetime.now"),
    (LEAD, "from datetime import date\ndate.today()", "calls datetime.date.today"),
    (LEAD, "import time as clock\nclock.monotonic()", "calls time.monotonic"),
    (LEAD, "__import__('sqlite3')", "imports sqlite3"),
    (LEAD, "import importlib\nimportlib.import_module('socket')", "imports socket"),
    (LEAD, "import random\nrandom.random()", "calls random.random"),
    (LEAD, "from uuid import uuid4 as new_id\nnew_id()", "calls uuid.uuid4"),
    (LEAD, "open('x')", "calls builtins.open"),
    (LEAD, "import sqlalchemy", "imports sqlalchemy"),
    (LEAD, "def later():\n    import os", "imports os"),
    (
        "leadkit.scoring.model",
        "from leadkit.services import qualify",
        "imports leadkit.services (APPLICATION)",
    ),
    (
        "leadkit.adapters.memory",
        "from leadkit.adapters.sql import SqlStore",
        "imports another adapter, leadkit.adapters.sql",
    ),
    ("leadkit.ports", "from leadkit.io import read_rows", "imports leadkit.io (EDGE)"),
]


@pytest.mark.parametrize(
    ("module", "probe", "expected"), PROBES, ids=[f"{m}: {p}" for m, p, _ in PROBES]
)
def test_the_checker_catches_a_bad_module(module: str, probe: str, expected: str) -> None:
    baseline = set(check_tree())
    source = all_modules()[module].read_text(encoding="utf-8") + "\n" + probe + "\n"
    new = set(check_tree({module: source})) - baseline
    assert any(expected in line and module in line for line in new), new


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


def test_the_cycle_check_catches_a_runtime_circle_and_lets_a_type_only_import_be() -> None:
    status = all_modules()["leadkit.status"].read_text(encoding="utf-8")
    circle = status + "\nfrom leadkit.lead import Lead\n"
    assert ("leadkit.lead", "leadkit.status") in import_cycles({"leadkit.status": circle})
    in_function = status + "\ndef later():\n    from leadkit import lead\n"
    assert ("leadkit.lead", "leadkit.status") in import_cycles({"leadkit.status": in_function})
    typed = (
        status + "\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import leadkit.lead\n"
    )
    assert ("leadkit.lead", "leadkit.status") not in import_cycles({"leadkit.status": typed})


# Sizes (issue 21): no module above MODULE_LINES (800) lines and no function above
# FUNCTION_LINES (80) without a ``# size: <reason>`` comment at its top (see
# tests/support/architecture.py). What is still over the limits while other branches split it;
# the list only shrinks: a new oversize module or function fails the first test, a mended one
# the second (then remove it here).
KNOWN_OVERSIZE: set[str] = set()


def test_no_module_or_function_is_oversize_beyond_the_known_ones() -> None:
    found = oversize_tree()
    new = sorted(f"{name}: {found[name]} lines" for name in set(found) - KNOWN_OVERSIZE)
    assert not new, (
        f"over {MODULE_LINES} lines a module, {FUNCTION_LINES} a function; split it along a "
        "seam or write `# size: <reason>` at its top:\n" + "\n".join(new)
    )


def test_every_known_oversize_still_is_so_the_list_only_shrinks() -> None:
    mended = sorted(KNOWN_OVERSIZE - set(oversize_tree()))
    assert not mended, "mended, remove from KNOWN_OVERSIZE:\n" + "\n".join(mended)


def _fake_module(lines: int, header: str = "") -> str:
    body = "".join(f"X{n} = {n}\n" for n in range(lines - 2))
    return f'"""A fake module."""\n{header}\n{body}'


def _fake_function(lines: int, above: str = "", top: str = "") -> str:
    body = "".join(f"    x{n} = {n}\n" for n in range(lines - 2 - bool(top)))
    return f'{above}def big() -> None:\n{top}    """Big."""\n{body}'


def test_the_size_check_catches_an_oversize_module_and_function() -> None:
    assert oversize("leadkit.fake", _fake_module(MODULE_LINES)) == {}
    assert oversize("leadkit.fake", _fake_module(MODULE_LINES + 1)) == {
        "module leadkit.fake": MODULE_LINES + 1
    }
    assert oversize("leadkit.fake", _fake_function(FUNCTION_LINES)) == {}
    big = _fake_function(FUNCTION_LINES + 1)
    assert oversize("leadkit.fake", big) == {"function leadkit.fake.big": FUNCTION_LINES + 1}
    method = "class C:\n" + "".join(f"    {line}\n" for line in big.splitlines())
    assert oversize("leadkit.fake", method) == {"function leadkit.fake.C.big": FUNCTION_LINES + 1}


def test_a_size_reason_at_the_top_excuses_and_elsewhere_does_not() -> None:
    reason = "# size: a table that reads best whole"
    assert oversize("leadkit.fake", _fake_module(MODULE_LINES + 1, reason)) == {}
    buried = _fake_module(MODULE_LINES + 1) + reason + "\n"
    assert "module leadkit.fake" in oversize("leadkit.fake", buried)
    empty = _fake_module(MODULE_LINES + 1, "# size:")
    assert "module leadkit.fake" in oversize("leadkit.fake", empty)
    size = FUNCTION_LINES + 1
    assert oversize("leadkit.fake", _fake_function(size, above=reason + "\n")) == {}
    assert oversize("leadkit.fake", _fake_function(size, top=f"    {reason}\n")) == {}
    inside = _fake_function(size) + f"    {reason}\n"
    assert "function leadkit.fake.big" in oversize("leadkit.fake", inside)


def test_the_tree_check_reads_a_new_oversize_module() -> None:
    new = set(oversize_tree({"leadkit.status": _fake_module(MODULE_LINES + 1)}))
    assert new - set(oversize_tree()) == {"module leadkit.status"}
