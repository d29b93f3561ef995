"""The public API: a sorted ``__all__`` that matches the reviewed snapshot, every name
importable and documented.

After an intended API change, regenerate the snapshot with
``LEADKIT_UPDATE_API_SNAPSHOT=1 python -m pytest tests/test_public_api.py`` and review the diff.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import leadkit

SNAPSHOT = Path(__file__).with_name("public_api.txt")


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions and dunders.
    if name.isupper():
        return 0, name
    if name[0].isupper():
        return 1, name
    return 2, name


def test_all_is_sorted_and_unique() -> None:
    assert len(set(leadkit.__all__)) == len(leadkit.__all__)
    assert list(leadkit.__all__) == sorted(leadkit.__all__, key=_isort_key)


def test_all_matches_the_reviewed_snapshot() -> None:
    current = "\n".join(leadkit.__all__) + "\n"
    if os.environ.get("LEADKIT_UPDATE_API_SNAPSHOT"):
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert current == SNAPSHOT.read_text(encoding="utf-8")


def test_every_public_name_is_importable() -> None:
    missing = [name for name in leadkit.__all__ if not hasattr(leadkit, name)]
    assert not missing


def test_every_public_class_and_function_has_a_docstring() -> None:
    undocumented = [
        name
        for name in leadkit.__all__
        if (inspect.isclass(getattr(leadkit, name)) or inspect.isfunction(getattr(leadkit, name)))
        and not (inspect.getdoc(getattr(leadkit, name)) or "").strip()
    ]
    assert not undocumented


def test_version_is_the_package_version() -> None:
    from importlib.metadata import version

    assert leadkit.__version__ == version("leadkit")
