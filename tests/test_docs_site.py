"""The documentation site: every public module has its place in the API reference, and every
page is in the site's navigation (``mkdocs build --strict`` in CI checks links and rendering)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "src" / "leadkit"

# Modules documented by a guide instead of the API reference, each with its reason.
NOT_IN_REFERENCE = {
    "leadkit.cli": "the command line (a package: one module per command group, and demo_data, "
    "the sample data of `leadkit demo`); docs/cli.md describes every command and "
    "docs/duplicates.md `dedupe --merge` and `unmerge`",
    "leadkit.testing.contract": "the contract suite's parts, one module per capability: the "
    "reference shows the suite from the package (`::: leadkit.testing.contract`)",
}


def public_modules() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            continue
        if any(part.startswith("_") for part in parts):
            continue
        found.add(".".join(parts))
    return found


def packages() -> set[str]:
    """The packages: a reference page may show one from its ``__init__``."""
    return {
        ".".join(path.parent.relative_to(PACKAGE.parent).parts)
        for path in PACKAGE.rglob("__init__.py")
    }


def referenced_modules() -> set[str]:
    text = "\n".join(page.read_text(encoding="utf-8") for page in DOCS.glob("reference/*.md"))
    return set(re.findall(r"^::: ([\w.]+)$", text, flags=re.MULTILINE))


def _guided(module: str) -> bool:
    """Whether a guide documents the module: it or a package above it is in NOT_IN_REFERENCE."""
    parts = module.split(".")
    return any(".".join(parts[:n]) in NOT_IN_REFERENCE for n in range(1, len(parts) + 1))


def test_every_public_module_is_in_the_api_reference() -> None:
    missing = {m for m in public_modules() - referenced_modules() if not _guided(m)}
    assert not missing, f"add these modules to a page under docs/reference/: {sorted(missing)}"


def test_the_reference_names_only_modules_that_exist() -> None:
    assert not referenced_modules() - public_modules() - packages()


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:\n", 1)[1]
    listed = set(re.findall(r"([\w/-]+\.md)", nav))
    pages = {page.relative_to(DOCS).as_posix() for page in DOCS.rglob("*.md")}
    assert pages - listed == set(), "add the pages to the nav of mkdocs.yml"
    assert listed - pages == set(), "the nav names pages that do not exist"
