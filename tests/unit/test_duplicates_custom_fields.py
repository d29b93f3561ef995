"""Custom fields in duplicate rules (issue 17 item 4): a custom field of a record can be the
field of a condition, with its type's operators, in rules, the index and the key store."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from leadkit.duplicates import DuplicateIndex, find_duplicates, scan
from leadkit.duplicates.record_view import (
    CUSTOM_FIELD_KINDS,
    DuplicateFieldKind,
    DuplicateRecord,
    RecordType,
    custom_field,
    duplicate_field_spec,
    duplicate_record,
)
from leadkit.duplicates.rules import Condition, DuplicateRule, DuplicateRuleSet, Operator
from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.fields import OptionValue
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import LeadId, PersonName, UserRef

AT = datetime(2030, 1, 1, tzinfo=UTC)


def _lead(key: str, last: str, **custom: object) -> Lead:
    patch = LeadPatch(topic="T", name=PersonName(last=last), custom_fields=custom)  # type: ignore[arg-type]
    return Lead.create(LeadId(key), patch, at=AT, by=UserRef("u")).clear_events()


def _rules(*conditions: Condition) -> DuplicateRuleSet:
    rule = DuplicateRule(
        name="custom",
        base_type=RecordType.LEAD,
        matching_type=RecordType.LEAD,
        conditions=conditions,
    )
    return DuplicateRuleSet(name="custom rules", rules=(rule,))


BIRTH = custom_field("birth_date", "date")


def test_a_custom_date_takes_part_in_a_rule_with_the_last_name() -> None:
    rules = _rules(Condition(operator=Operator.EXACT, base_field="last_name"),
                   Condition(operator=Operator.EXACT, base_field=BIRTH))  # fmt: skip
    a = _lead("a", "Berg", birth_date=date(1980, 5, 1))
    b = _lead("b", "Berg", birth_date=date(1980, 5, 1))
    c = _lead("c", "Berg", birth_date=date(1981, 5, 1))
    d = _lead("d", "Berg")
    groups = scan([a, b, c, d], rules)
    assert [[str(m) for m in g.members] for g in groups] == [["lead:a", "lead:b"]]
    index = DuplicateIndex(rules)
    index.rebuild([b, c, d])
    assert [m.candidate.record_id for m in find_duplicates(a, rules, index)] == ["b"]


@pytest.mark.parametrize(
    ("kind", "left", "right", "other"),
    [
        ("text", "Retail", " retail ", "Banking"),
        ("number", 10, Decimal("10.00"), 11),
        ("option", OptionValue(3, "Gold"), OptionValue(3), OptionValue(4)),
        (
            "datetime",
            datetime(2030, 1, 1, 12, tzinfo=UTC),
            datetime(2030, 1, 1, 12, tzinfo=UTC),
            datetime(2030, 1, 2, tzinfo=UTC),
        ),
    ],
)
def test_each_custom_kind_matches_with_its_operator(
    kind: str, left: object, right: object, other: object
) -> None:
    field = custom_field("x", kind)
    operator = {"option": Operator.SAME_OPTION, "datetime": Operator.SAME_DATE_AND_TIME}.get(
        kind, Operator.EXACT
    )
    rules = _rules(Condition(operator=operator, base_field=field))
    groups = scan(
        [_lead("a", "A", x=left), _lead("b", "B", x=right), _lead("c", "C", x=other)], rules
    )
    assert [[str(m) for m in g.members] for g in groups] == [["lead:a", "lead:b"]]


def test_text_operators_apply_to_custom_text() -> None:
    rules = _rules(
        Condition(operator=Operator.SAME_FIRST_CHARACTERS, base_field="custom.member_no", n=4)
    )
    groups = scan([_lead("a", "A", member_no="ABCD-1"), _lead("b", "B", member_no="abcd-2")], rules)
    assert len(groups) == 1


def test_a_value_of_another_type_is_no_value() -> None:
    record = duplicate_record(_lead("a", "A", x="1980-05-01"))
    assert record.values(custom_field("x", "date")) == ()
    assert record.values(custom_field("x")) == ("1980-05-01",)
    assert duplicate_record(_lead("b", "B", x=True)).values(custom_field("x", "number")) == ()


def test_custom_field_specs_and_refusals() -> None:
    assert set(CUSTOM_FIELD_KINDS) == {"text", "date", "datetime", "option", "number"}
    assert duplicate_field_spec("custom.industry").kind is DuplicateFieldKind.TEXT
    assert duplicate_field_spec("custom.birth_date:date").kind is DuplicateFieldKind.DATE
    with pytest.raises(ConfigurationError):
        custom_field("x", "colour")
    with pytest.raises(ConfigurationError):
        custom_field("Bad Name")
    with pytest.raises(ConfigurationError):
        Condition(operator=Operator.SIMILAR, base_field=BIRTH, threshold=90)
    with pytest.raises(InvalidValue):
        DuplicateRecord(record_type=RecordType.LEAD, record_id="x").values("nonsense")
    with pytest.raises(InvalidValue):
        DuplicateRecord(record_type=RecordType.LEAD, record_id="x", custom_fields=3)


def test_custom_field_rules_round_trip_through_the_converter() -> None:
    from leadkit.serialization import make_converter

    rules = _rules(Condition(operator=Operator.EXACT, base_field=BIRTH))
    converter = make_converter()
    assert converter.loads(converter.dumps(rules), DuplicateRuleSet) == rules


def test_the_sql_key_store_indexes_custom_fields(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from leadkit.adapters.sql.duplicate_keys import SqlKeyStore

    rules = _rules(Condition(operator=Operator.EXACT, base_field=BIRTH))
    engine = create_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    index = DuplicateIndex(rules, store=SqlKeyStore(engine))
    index.rebuild([_lead("b", "B", birth_date=date(1980, 5, 1))])
    found = find_duplicates(_lead("a", "A", birth_date=date(1980, 5, 1)), rules, index)
    assert [m.candidate.record_id for m in found] == ["b"]
