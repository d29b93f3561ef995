"""leadkit.io is an edge package: the core never imports it, and importing leadkit (or even
leadkit.io) loads neither openpyxl nor defusedxml until an .xlsx or XML file is used."""

from __future__ import annotations

import subprocess
import sys

import leadkit.io


def _loaded(statement: str) -> list[str]:
    code = (
        f"import sys; {statement}; "
        "print(','.join(m for m in ('openpyxl', 'defusedxml', 'leadkit.io') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_import_leadkit_loads_no_io_library_and_not_leadkit_io() -> None:
    assert _loaded("import leadkit") == []


def test_import_leadkit_io_loads_openpyxl_and_defusedxml_only_when_used() -> None:
    assert _loaded("import leadkit.io") == ["leadkit.io"]


def test_the_public_names_are_unique_and_importable() -> None:
    names = leadkit.io.__all__
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(leadkit.io, name) is not None
