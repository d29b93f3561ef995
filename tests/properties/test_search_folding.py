"""The text filter's folding (leadkit.queries.fold_search) takes a shortcut for ASCII text: it
folds every text as the full Unicode folding does."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from leadkit import queries
from leadkit.ports import fold_search


def _full_folding(text: str) -> str:
    """The folding without the ASCII shortcut: case-fold, spell out, decompose, drop the
    combining marks, fold again, read the umlaut spellings, one space per run."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(queries._SPELLED_OUT))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"\s+", " ", re.sub(r"(?<=[aou])e", "", text)).strip()


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)))
@example("  Mueller\tOSTROEM  AB\n")
@example("K\u212aLVIN")  # the Kelvin sign is not ASCII: the full folding
def test_ascii_text_folds_as_the_full_folding_folds_it(text: str) -> None:
    assert fold_search(text) == _full_folding(text)


@given(st.text())
@example("Öström Müller ß ŁØ\u0131")
def test_any_text_folds_as_the_full_folding_folds_it(text: str) -> None:
    assert fold_search(text) == _full_folding(text)
