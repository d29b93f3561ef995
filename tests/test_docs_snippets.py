"""Every Python example in docs/ runs as written (README.md's: tests/test_readme.py).

The blocks of one page run in order in one namespace (a page builds on its earlier blocks), in a
fresh working directory. What a page takes for granted (a store, a lead, a user) is made by a
hidden setup block, an HTML comment that the site does not show::

    <!-- docs-setup
    store = MemoryStore()
    -->

and a hidden ``docs-check`` block (the same form) asserts what the shown code should have done.
Setup code sees ``monkeypatch``, ``tmp_path`` and ``postgres_url`` (the test server's URL of a
fresh database; the page is skipped without a server, and fails under ``CI=true``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.postgres import fresh_database, postgres_url

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PIECE = re.compile(
    r"^```python\n(?P<shown>.*?)^```|^<!-- docs-(?:setup|check)\n(?P<hidden>.*?)^-->",
    flags=re.S | re.M,
)
PAGES = sorted(
    page for page in DOCS.rglob("*.md") if "```python" in page.read_text(encoding="utf-8")
)


def pieces(page: Path) -> list[tuple[int, str, bool]]:
    """The page's Python code in order: (first line number, code, shown on the page)."""
    text = page.read_text(encoding="utf-8")
    return [
        (
            text.count("\n", 0, m.start()) + 2,
            m.group("shown") if m.group("shown") is not None else m.group("hidden"),
            m.group("shown") is not None,
        )
        for m in PIECE.finditer(text)
    ]


def _fresh_postgres() -> str:
    return fresh_database(postgres_url())


def test_the_docs_have_python_examples() -> None:
    assert len(PAGES) >= 10
    assert all(any(shown for _, _, shown in pieces(page)) for page in PAGES)


def test_a_hidden_setup_block_is_found_in_order() -> None:
    page = DOCS / "qualification.md"
    kinds = [shown for _, _, shown in pieces(page)]
    assert kinds[0] is False
    assert True in kinds


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_python_example_of_the_page_runs(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {
        "__name__": f"docs_{page.stem.replace('-', '_')}",
        "monkeypatch": monkeypatch,
        "tmp_path": tmp_path,
        "postgres_url": _fresh_postgres,
    }
    for line, code, _shown in pieces(page):
        # Blank lines keep the page's line numbers in a traceback.
        exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)
    close = getattr(namespace.get("store"), "close", None)
    if callable(close):
        close()
