"""The bounded check within an import's file (:func:`leadkit.io.file_check.file_duplicate_groups`)
finds exactly the groups, members and evidence that
:func:`~leadkit.duplicates.engine.check_import` finds among the same leads: any rule set, any
block size (stop keys), blanks and inactive records, and its errors are the same."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadkit.duplicates import (
    DEFAULT_LEAD_RULES,
    DuplicateRecord,
    DuplicateRuleSet,
    RecordType,
)
from leadkit.duplicates.engine import check_import
from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.io.file_check import FileDuplicateCheck, file_duplicate_groups
from leadkit.testing.dupdata import generate_leads
from support.duplicate_cases import BLANKS_MATCH, CITY_IS_POSTAL_CODE, colliding_record

# Blanks equal blanks, inactive records take part, a rule whose base and matching fields
# differ (keys looked up that the record is not indexed under), a rule towards contacts.
_OTHER_RULES = DuplicateRuleSet(
    name="other branches", rules=[*BLANKS_MATCH.rules, CITY_IS_POSTAL_CODE]
)
RULE_SETS = st.sampled_from([DEFAULT_LEAD_RULES, _OTHER_RULES])


@st.composite
def _leads(draw: st.DrawFn) -> list[DuplicateRecord]:
    made = [draw(colliding_record(f"row-{i}", city=True)) for i in range(draw(st.integers(0, 16)))]
    seed, size = draw(st.integers(0, 500)), draw(st.integers(0, 60))
    generated = [row.to_record() for row in generate_leads(size, seed=seed).rows] if size else []
    generated = [r for r in generated if r.record_type is RecordType.LEAD]
    return made + generated


@settings(max_examples=80, deadline=None)
@given(records=_leads(), rules=RULE_SETS, block=st.sampled_from([1, 2, 3, 5, 40, 1000]))
def test_file_groups_equal_check_import(
    records: list[DuplicateRecord], rules: DuplicateRuleSet, block: int
) -> None:
    expected = check_import(records, rules, max_block_size=block).groups
    assert file_duplicate_groups(records, rules, max_block_size=block) == expected


@settings(max_examples=20, deadline=None)
@given(records=_leads(), rules=RULE_SETS)
def test_a_row_twice_is_refused_as_check_import_refuses_it(
    records: list[DuplicateRecord], rules: DuplicateRuleSet
) -> None:
    if not records:
        return
    twice = [*records, records[0]]
    with pytest.raises(InvalidValue) as slow:
        check_import(twice, rules)
    with pytest.raises(InvalidValue) as fast:
        file_duplicate_groups(twice, rules)
    assert fast.value.problems == slow.value.problems


def test_only_leads_and_a_positive_block_size() -> None:
    contact = DuplicateRecord(record_type=RecordType.CONTACT, record_id="C1", last_name="Berg")
    with pytest.raises(InvalidValue, match="must be leads"):
        file_duplicate_groups([contact], DEFAULT_LEAD_RULES)
    with pytest.raises(ConfigurationError):
        FileDuplicateCheck(DEFAULT_LEAD_RULES, max_block_size=0)
    assert file_duplicate_groups([], DEFAULT_LEAD_RULES) == ()
