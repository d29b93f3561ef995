"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_python_examples() -> None:
    assert BLOCKS


def test_every_readme_python_example_runs() -> None:
    for block in BLOCKS:
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
