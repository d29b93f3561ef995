"""The fast paths of ``fold_search`` (ASCII text lower-cased directly; combining characters
dropped by a translate table) fold every text exactly as the character-by-character
definition does, and the SQL adapter's search and time columns (texts and times computed once
per lead) equal their query definitions."""

from __future__ import annotations

import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from leadkit.adapters.sql.rows import lead_columns
from leadkit.lead import Lead
from leadkit.queries import (
    _DROP_COMBINING,
    _SPACES,
    _SPELLED_OUT,
    _UMLAUT_SPELLING,
    LeadSort,
    fold_search,
    search_key,
    sort_key,
)
from leadkit.testing.strategies import leads


def _reference(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold().translate(_SPELLED_OUT))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _SPACES.sub(" ", _UMLAUT_SPELLING.sub("", text)).strip()


_NAMES = st.text("aAoOuUeE ßłŁøØæÆđĐœŒıİüÜöÖäÄåÅéÉçÇñÑ\u0301\u0308\t\n\u00a0ﬁＡ", max_size=20)


@given(st.one_of(st.text(max_size=30), _NAMES, st.text(st.characters(max_codepoint=127))))
@example("Müller AB")
@example("MUELLER  gmbh ")
@example("Öström")
@example("e\u0301")
@example("İstanbul")
@example("ﬁnans")
def test_fold_search_equals_its_definition(text: str) -> None:
    assert fold_search(text) == _reference(text)


def test_the_combining_table_keeps_at_most_4096_characters_and_still_folds() -> None:
    text = "".join(chr(c) for c in range(0x0300, 0x0300 + 6000))  # combining marks and more

    assert fold_search(text) == _reference(text)
    assert len(_DROP_COMBINING) <= 4096
    assert fold_search("Mu\u0308ller") == "muller"


@given(lead=leads())
def test_the_sql_search_and_time_columns_are_their_query_definitions(lead: Lead) -> None:
    columns = lead_columns(lead)

    assert columns["search_key"] == search_key(lead)
    assert columns["created_at"] == sort_key(lead, LeadSort.CREATED_AT)[0]
    assert columns["modified_at"] == sort_key(lead, LeadSort.MODIFIED_AT)[0]
