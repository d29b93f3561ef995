"""Specification of the option sets and custom fields (leadkit.fields)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from leadkit.errors import InvalidValue
from leadkit.fields import (
    Budget,
    CustomFields,
    CustomValue,
    LeadSource,
    Need,
    OptionSet,
    OptionValue,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
    custom_kind,
)

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)

# Every Dynamics 365 option: (member, code, label).
D365_OPTIONS: list[tuple[OptionSet, int, str]] = [
    (Rating.HOT, 1, "Hot"),
    (Rating.WARM, 2, "Warm"),
    (Rating.COLD, 3, "Cold"),
    (LeadSource.ADVERTISEMENT, 1, "Advertisement"),
    (LeadSource.EMPLOYEE_REFERRAL, 2, "Employee Referral"),
    (LeadSource.EXTERNAL_REFERRAL, 3, "External Referral"),
    (LeadSource.PARTNER, 4, "Partner"),
    (LeadSource.PUBLIC_RELATIONS, 5, "Public Relations"),
    (LeadSource.SEMINAR, 6, "Seminar"),
    (LeadSource.TRADE_SHOW, 7, "Trade Show"),
    (LeadSource.WEB, 8, "Web"),
    (LeadSource.WORD_OF_MOUTH, 9, "Word of Mouth"),
    (LeadSource.OTHER, 10, "Other"),
    (Budget.NO_COMMITTED_BUDGET, 0, "No Committed Budget"),
    (Budget.MAY_BUY, 1, "May Buy"),
    (Budget.CAN_BUY, 2, "Can Buy"),
    (Budget.WILL_BUY, 3, "Will Buy"),
    (Need.MUST_HAVE, 0, "Must have"),
    (Need.SHOULD_HAVE, 1, "Should have"),
    (Need.GOOD_TO_HAVE, 2, "Good to have"),
    (Need.NO_NEED, 3, "No need"),
    (PurchaseTimeframe.IMMEDIATE, 0, "Immediate"),
    (PurchaseTimeframe.THIS_QUARTER, 1, "This Quarter"),
    (PurchaseTimeframe.NEXT_QUARTER, 2, "Next Quarter"),
    (PurchaseTimeframe.THIS_YEAR, 3, "This Year"),
    (PurchaseTimeframe.UNKNOWN, 4, "Unknown"),
    (PurchaseProcess.INDIVIDUAL, 0, "Individual"),
    (PurchaseProcess.COMMITTEE, 1, "Committee"),
    (PurchaseProcess.UNKNOWN, 2, "Unknown"),
]
OPTION_IDS = [f"{type(m).__name__}.{m.name}" for m, _, _ in D365_OPTIONS]
OPTION_SETS: list[type[OptionSet]] = [
    Rating,
    LeadSource,
    Budget,
    Need,
    PurchaseTimeframe,
    PurchaseProcess,
]


# ---------------------------------------------------------------------------------------------
# Option sets


@pytest.mark.parametrize(("member", "code", "label"), D365_OPTIONS, ids=OPTION_IDS)
def test_every_option_carries_its_dynamics_365_code_and_label(
    member: OptionSet, code: int, label: str
) -> None:
    assert member.code == code
    assert member.label == label
    assert str(member) == label


@pytest.mark.parametrize("kind", OPTION_SETS, ids=lambda k: k.__name__)
def test_every_option_set_has_exactly_the_dynamics_365_options(kind: type[OptionSet]) -> None:
    expected = [(m, c) for m, c, _ in D365_OPTIONS if type(m) is kind]

    assert [(m, m.code) for m in kind] == expected


@pytest.mark.parametrize(("member", "code", "label"), D365_OPTIONS, ids=OPTION_IDS)
def test_an_option_parses_from_itself_its_code_its_name_and_its_label(
    member: OptionSet, code: int, label: str
) -> None:
    kind = type(member)

    assert kind.parse(member) is member
    assert kind.parse(code) is member
    assert kind.parse(str(code)) is member
    assert kind.parse(f" {code} ") is member
    assert kind.parse(member.name) is member
    assert kind.parse(label) is member
    assert kind.parse(label.upper()) is member
    assert kind.parse(label.lower().replace(" ", "-")) is member


def test_option_parse_ignores_case_spaces_dashes_and_underscores() -> None:
    assert LeadSource.parse("word of mouth") is LeadSource.WORD_OF_MOUTH
    assert LeadSource.parse("WORD_OF_MOUTH") is LeadSource.WORD_OF_MOUTH
    assert LeadSource.parse("Word-Of-Mouth") is LeadSource.WORD_OF_MOUTH
    assert LeadSource.parse("tradeshow") is LeadSource.TRADE_SHOW


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (Rating, "rating"),
        (LeadSource, "lead_source"),
        (Budget, "budget"),
        (Need, "need"),
        (PurchaseTimeframe, "purchase_timeframe"),
        (PurchaseProcess, "purchase_process"),
    ],
)
@pytest.mark.parametrize("bad", ["Lukewarm", "", 99, -1, True, 1.0, None, "1.5"])
def test_an_unknown_option_is_refused_naming_the_option_set(
    kind: type[OptionSet], field: str, bad: object
) -> None:
    with pytest.raises(InvalidValue) as caught:
        kind.parse(bad)

    assert caught.value.field == field
    assert caught.value.value == bad
    assert kind.__name__ in caught.value.reason


def test_an_unknown_option_error_lists_the_choices_with_their_codes() -> None:
    with pytest.raises(InvalidValue) as caught:
        Rating.parse("Lukewarm")

    assert caught.value.reason.endswith("choose one of Hot (1), Warm (2), Cold (3)")


def test_an_unknown_option_error_names_the_field_it_was_given() -> None:
    with pytest.raises(InvalidValue) as caught:
        Rating.parse("Lukewarm", "lead.rating")

    assert caught.value.field == "lead.rating"


def test_a_bool_is_not_an_option_code() -> None:
    with pytest.raises(InvalidValue):
        Rating.parse(True)  # True == 1 == Hot, but a bool is not a code


# ---------------------------------------------------------------------------------------------
# OptionValue


def test_option_value_holds_a_code_and_a_label() -> None:
    value = OptionValue(3, "Retail")

    assert (value.code, value.label) == (3, "Retail")
    assert OptionValue(3) == OptionValue(3, "")


@pytest.mark.parametrize("bad", [True, "3", 3.0, None])
def test_option_value_refuses_a_code_that_is_not_an_integer(bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        OptionValue(bad)  # type: ignore[arg-type]

    assert caught.value.field == "option.code"


@pytest.mark.parametrize("bad", ["x" * 201, 5])
def test_option_value_refuses_a_bad_label(bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        OptionValue(1, bad)  # type: ignore[arg-type]

    assert caught.value.field == "option.label"


# ---------------------------------------------------------------------------------------------
# custom_kind


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("Retail", "text"),
        (42, "integer"),
        (Decimal("1.5"), "decimal"),
        (True, "boolean"),
        (False, "boolean"),
        (date(2024, 5, 1), "date"),
        (AT, "datetime"),
        (OptionValue(1, "A"), "option"),
    ],
)
def test_custom_kind_names_each_allowed_type(value: CustomValue, kind: str) -> None:
    assert custom_kind(value) == kind


@pytest.mark.parametrize("bad", [1.5, None, [1], {"a": 1}, b"x"])
def test_custom_kind_refuses_other_types(bad: object) -> None:
    with pytest.raises(InvalidValue, match="Decimal"):
        custom_kind(bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# CustomFields


def test_custom_fields_is_a_read_only_mapping_sorted_by_name() -> None:
    fields = CustomFields({"zone": "North", "area": 3})

    assert list(fields) == ["area", "zone"]
    assert len(fields) == 2
    assert fields["zone"] == "North"
    assert dict(fields) == {"area": 3, "zone": "North"}
    with pytest.raises(KeyError):
        fields["missing"]


def test_custom_fields_accepts_pairs_and_another_custom_fields() -> None:
    fields = CustomFields([("a", 1), ("b", "x")])

    assert CustomFields(fields) == fields
    assert CustomFields({"b": "x", "a": 1}) == fields


@pytest.mark.parametrize("bad", ["Industry", "1st", "", "a" * 65, "new-industry", "ä", 5])
def test_custom_field_names_must_be_lower_snake_case(bad: object) -> None:
    with pytest.raises(InvalidValue, match="custom field name") as caught:
        CustomFields({bad: 1})

    assert caught.value.field == "custom_fields"
    assert caught.value.value == bad


def test_the_longest_custom_field_name_is_accepted() -> None:
    assert CustomFields({"a" * 64: 1})["a" * 64] == 1


@pytest.mark.parametrize("bad", [1.5, float("nan"), None, [1], {"a": 1}])
def test_a_custom_field_of_another_type_is_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        CustomFields({"score": bad})

    assert caught.value.field == "custom_fields.score"


def test_a_custom_float_is_refused_with_a_hint_to_use_decimal() -> None:
    with pytest.raises(InvalidValue, match="Decimal"):
        CustomFields({"score": 1.5})


def test_a_naive_custom_datetime_is_refused() -> None:
    with pytest.raises(InvalidValue, match="timezone-aware") as caught:
        CustomFields({"met_at": datetime(2024, 5, 1, 9, 30)})

    assert caught.value.field == "custom_fields.met_at"


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity")])
def test_a_custom_decimal_must_be_finite(bad: Decimal) -> None:
    with pytest.raises(InvalidValue, match="finite") as caught:
        CustomFields({"score": bad})

    assert caught.value.field == "custom_fields.score"


def test_custom_text_may_hold_at_most_4000_characters() -> None:
    assert len(str(CustomFields({"memo": "x" * 4000})["memo"])) == 4000

    with pytest.raises(InvalidValue, match="4000") as caught:
        CustomFields({"memo": "x" * 4001})

    assert caught.value.field == "custom_fields.memo"


@pytest.mark.parametrize("bad", [5, "a=1", None])
def test_custom_fields_refuse_what_is_not_a_mapping(bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        CustomFields(bad)

    assert caught.value.field == "custom_fields"


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (True, 1),
        (False, 0),
        (Decimal(1), 1),
        (Decimal(1), True),
        ("1", 1),
        (date(2024, 5, 1), datetime(2024, 5, 1, tzinfo=UTC)),
    ],
)
def test_custom_fields_equality_is_type_sensitive(left: CustomValue, right: CustomValue) -> None:
    assert CustomFields({"x": left}) != CustomFields({"x": right})


def test_equal_custom_fields_hash_equal() -> None:
    a = CustomFields({"x": 1, "y": Decimal("2.5")})
    b = CustomFields({"y": Decimal("2.5"), "x": 1})

    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, CustomFields({"x": True, "y": Decimal("2.5")})}) == 2


def test_custom_fields_are_not_equal_to_a_plain_dict() -> None:
    assert CustomFields({"x": 1}) != {"x": 1}


def test_set_returns_a_copy_with_the_field_set_or_removed() -> None:
    fields = CustomFields({"x": 1})

    added = fields.set("y", "two")
    removed = added.set("x", None)

    assert dict(added) == {"x": 1, "y": "two"}
    assert dict(removed) == {"y": "two"}
    assert dict(fields) == {"x": 1}


def test_set_validates_the_new_value() -> None:
    with pytest.raises(InvalidValue) as caught:
        CustomFields().set("x", 1.5)  # type: ignore[arg-type]

    assert caught.value.field == "custom_fields.x"


def test_merged_sets_every_entry_and_none_removes() -> None:
    fields = CustomFields({"x": 1, "y": 2})

    merged = fields.merged({"x": None, "z": OptionValue(4, "Four"), "missing": None})

    assert dict(merged) == {"y": 2, "z": OptionValue(4, "Four")}
    assert dict(fields) == {"x": 1, "y": 2}


def test_custom_fields_repr_shows_the_values() -> None:
    assert repr(CustomFields({"x": 1})) == "CustomFields({'x': 1})"


def test_a_member_of_another_option_set_is_refused_even_with_the_same_code() -> None:
    with pytest.raises(InvalidValue) as info:
        Rating.parse(Budget.MAY_BUY)
    assert info.value.field == "rating"
