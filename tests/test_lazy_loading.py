"""Issue 21 item 3: the flat API loads lazily, and the hypothesis plugin loads no leadkit module.

Each check runs in a fresh interpreter and reads its ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import leadkit
from leadkit._lazy import exports_of

MATCHING_LIBRARIES = ("rapidfuzz", "jellyfish", "phonenumbers", "email_validator")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def _leadkit(modules: list[str]) -> list[str]:
    return [m for m in modules if m == "leadkit" or m.startswith("leadkit.")]


def test_import_leadkit_loads_no_submodule_but_the_loader() -> None:
    assert _leadkit(_loaded_after("import leadkit")) == ["leadkit", "leadkit._lazy"]


def test_import_leadkit_status_loads_no_matching_library() -> None:
    loaded = _loaded_after("import leadkit.status")
    assert not [m for m in MATCHING_LIBRARIES if m in loaded]
    assert "leadkit.lead" not in loaded


def test_import_hypothesis_loads_no_leadkit_module() -> None:
    loaded = _loaded_after("import hypothesis")
    assert "hypothesis" in loaded
    assert _leadkit(loaded) == []


@pytest.mark.parametrize(
    "order",
    ["import hypothesis\nimport leadkit", "import leadkit\nimport hypothesis"],
    ids=["hypothesis first", "leadkit first"],
)
def test_from_type_knows_the_leadkit_types_whichever_is_imported_first(order: str) -> None:
    code = (
        f"{order}\nfrom hypothesis import strategies as st\n"
        "lead = st.from_type(leadkit.Lead).example()\nassert isinstance(lead, leadkit.Lead)"
    )
    assert "leadkit.lead" in _loaded_after(code)


def test_a_name_loads_its_module_on_first_use() -> None:
    loaded = _loaded_after("import leadkit\nleadkit.Money")
    assert "leadkit.values" in loaded
    assert "leadkit.lead" not in loaded


def test_the_table_names_every_public_name_and_nothing_else() -> None:
    table = exports_of(Path(leadkit.__file__))
    assert sorted(table) == sorted(leadkit.__all__)
    for name, module in table.items():
        assert getattr(leadkit, name) is getattr(__import__(module, fromlist=[name]), name)


def test_an_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = leadkit.Nope  # type: ignore[attr-defined]


def test_dir_lists_every_public_name() -> None:
    assert set(leadkit.__all__) <= set(dir(leadkit))


def test_a_constructor_is_checked_when_its_class_is_imported_from_its_module() -> None:
    # LeadQuery's own code would raise AttributeError ('int' has no 'strip'): only the wrapped
    # constructor refuses it with InvalidValue naming the field.
    code = (
        "from leadkit.ports import LeadQuery\n"
        "from leadkit.errors import InvalidValue\n"
        "try:\n    LeadQuery(text=0)\nexcept InvalidValue as e:\n    assert e.field == 'text'\n"
        "else:\n    raise SystemExit('not checked')"
    )
    _loaded_after(code)


def test_exports_of_refuses_a_file_without_a_table(tmp_path: Path) -> None:
    empty = tmp_path / "__init__.py"
    empty.write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(ImportError, match="TYPE_CHECKING"):
        exports_of(empty)
    with pytest.raises(ImportError, match="cannot read"):
        exports_of(tmp_path / "missing.py")
