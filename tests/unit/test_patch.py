"""Specification of LeadPatch: typed, partial changes to a lead (leadkit.patch)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from leadkit.errors import InvalidValue
from leadkit.fields import (
    Budget,
    CustomFields,
    LeadSource,
    Need,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)
from leadkit.patch import PATCH_FIELDS, UNSET, LeadPatch, Unset, _option, _text, _typed
from leadkit.values import Address, EmailAddress, Money, PersonName, PhoneNumber, Url

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def test_unset_is_falsy_and_prints_as_unset() -> None:
    assert not UNSET
    assert repr(UNSET) == "UNSET"
    assert isinstance(UNSET, Unset)


def test_an_empty_patch_sets_nothing() -> None:
    patch = LeadPatch()

    assert patch.is_empty
    assert patch.as_dict() == {}
    assert list(patch.items()) == []
    assert all(getattr(patch, name) is UNSET for name in PATCH_FIELDS)


def test_patch_fields_are_the_editable_lead_fields_in_order() -> None:
    assert PATCH_FIELDS == (
        "topic",
        "name",
        "job_title",
        "company",
        "business_phone",
        "mobile_phone",
        "email",
        "website",
        "address",
        "source",
        "initiated_by",
        "rating",
        "budget_amount",
        "budget",
        "need",
        "purchase_timeframe",
        "purchase_process",
        "description",
        "estimated_value",
        "estimated_close_date",
        "custom_fields",
    )


def test_items_list_only_the_fields_set_in_declaration_order() -> None:
    patch = LeadPatch(rating=Rating.HOT, topic="Printers", company=None)

    assert list(patch.items()) == [("topic", "Printers"), ("company", ""), ("rating", Rating.HOT)]
    assert not patch.is_empty


# ---------------------------------------------------------------------------------------------
# Conversions


def test_text_is_trimmed_and_none_clears_it() -> None:
    patch = LeadPatch(topic="  Printers ", job_title=None, description="")

    assert patch.topic == "Printers"
    assert patch.job_title == ""
    assert patch.description == ""


def test_an_email_string_becomes_an_email_address() -> None:
    assert LeadPatch(email=" ada@example.com ").email == EmailAddress("ada@example.com")


def test_a_blank_email_string_clears_the_email() -> None:
    assert LeadPatch(email="  ").email is None
    assert LeadPatch(email=None).email is None


def test_a_phone_string_with_a_country_code_becomes_a_phone_number() -> None:
    phone = LeadPatch(business_phone="+46 70 123 45 67").business_phone

    assert isinstance(phone, PhoneNumber)
    assert phone.e164 == "+46701234567"


def test_a_website_string_becomes_a_normalised_url() -> None:
    assert LeadPatch(website="www.contoso.com").website == Url("https://www.contoso.com")


def test_a_full_name_string_is_split_into_parts() -> None:
    patch = LeadPatch(name="Dr. Ada M. Lovelace Jr.")

    assert patch.name == PersonName(
        salutation="Dr.", first="Ada", middle="M.", last="Lovelace", suffix="Jr."
    )


def test_none_clears_name_address_and_custom_fields_to_empty_values() -> None:
    patch = LeadPatch(name=None, address=None, custom_fields=None)

    assert patch.name == PersonName()
    assert patch.address == Address()
    assert patch.custom_fields == CustomFields()


@pytest.mark.parametrize(
    ("field", "given", "expected"),
    [
        ("rating", "hot", Rating.HOT),
        ("rating", 2, Rating.WARM),
        ("rating", "3", Rating.COLD),
        ("source", "Word of Mouth", LeadSource.WORD_OF_MOUTH),
        ("source", "trade_show", LeadSource.TRADE_SHOW),
        ("budget", "No Committed Budget", Budget.NO_COMMITTED_BUDGET),
        ("budget", 3, Budget.WILL_BUY),
        ("need", "Must have", Need.MUST_HAVE),
        ("purchase_timeframe", "This Quarter", PurchaseTimeframe.THIS_QUARTER),
        ("purchase_process", "committee", PurchaseProcess.COMMITTEE),
        ("rating", None, None),
        ("rating", " ", None),
    ],
)
def test_option_labels_and_codes_become_options(
    field: str, given: object, expected: object
) -> None:
    patch = LeadPatch.from_mapping({field: given})

    assert getattr(patch, field) is expected


def test_money_date_and_custom_fields_are_kept() -> None:
    budget = Money(Decimal(1000), "EUR")
    patch = LeadPatch(
        budget_amount=budget,
        estimated_value=None,
        estimated_close_date=date(2024, 9, 30),
        custom_fields={"industry": "Retail"},
    )

    assert patch.budget_amount == budget
    assert patch.estimated_value is None
    assert patch.estimated_close_date == date(2024, 9, 30)
    assert patch.custom_fields == CustomFields({"industry": "Retail"})


# ---------------------------------------------------------------------------------------------
# Bad input names its field


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("topic", 5),
        ("job_title", ["CTO"]),
        ("company", b"Contoso"),
        ("initiated_by", 1),
        ("description", 1.5),
        ("email", "not-an-email"),
        ("email", 5),
        ("business_phone", "abc"),
        ("business_phone", "0701234567"),  # no country code and no region to read it with
        ("mobile_phone", 46701234567),
        ("website", "ftp://contoso.com"),
        ("website", "contoso .com"),
        ("name", 5),
        ("address", "Storgatan 1"),
        ("source", "Radio"),
        ("rating", "Lukewarm"),
        ("rating", 4),
        ("rating", True),
        ("budget", "Some"),
        ("need", 9),
        ("purchase_timeframe", "Someday"),
        ("purchase_process", -1),
        ("budget_amount", "100 EUR"),
        ("budget_amount", Decimal(100)),
        ("estimated_value", 100),
        ("estimated_close_date", "2024-09-30"),
        ("estimated_close_date", AT),
        ("custom_fields", 5),
    ],
)
def test_bad_input_is_refused_naming_its_field(field: str, bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadPatch.from_mapping({field: bad})

    assert caught.value.field == field
    assert caught.value.value == bad
    assert caught.value.reason


@pytest.mark.parametrize(
    ("field", "bad", "reason"),
    [
        ("topic", 5, "must be text"),
        ("description", 1.5, "must be text"),
        ("email", 5, "must be a EmailAddress or None"),
        ("budget_amount", Decimal(100), "must be a Money or None"),
        ("name", 5, "must be a PersonName or a full-name string"),
        ("address", "Storgatan 1", "must be an Address or None"),
        ("estimated_close_date", AT, "must be a date (not a datetime)"),
        ("custom_fields", 5, "must be a mapping of name to value"),
    ],
)
def test_a_value_of_the_wrong_type_says_what_the_field_takes(
    field: str, bad: object, reason: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadPatch.from_mapping({field: bad})

    assert (caught.value.field, caught.value.value, caught.value.reason) == (field, bad, reason)


@pytest.mark.parametrize("bad", [[1, 2], [("industry", "Retail", "extra")]])
def test_custom_fields_that_are_not_name_value_pairs_are_refused(bad: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadPatch(custom_fields=bad)  # type: ignore[arg-type]

    assert (caught.value.field, caught.value.value, caught.value.reason) == (
        "custom_fields",
        bad,
        "must be a mapping of name to value",
    )


def test_a_custom_fields_value_is_kept_as_given() -> None:
    custom = CustomFields({"industry": "Retail"})

    assert LeadPatch(custom_fields=custom).custom_fields is custom


# The field converters are built by factories when leadkit.patch is imported; they are called
# again here so that a change to a factory is noticed.


def test_a_text_converter_trims_clears_on_none_and_refuses_other_types() -> None:
    convert = _text("label")

    assert convert(UNSET) is UNSET
    assert convert("  Printers ") == "Printers"
    assert convert(None) == ""
    with pytest.raises(InvalidValue) as caught:
        convert(5)
    assert (caught.value.field, caught.value.value, caught.value.reason) == (
        "label",
        5,
        "must be text",
    )


def test_a_typed_converter_keeps_its_type_parses_text_and_names_its_field() -> None:
    convert = _typed("phone", PhoneNumber, PhoneNumber)
    phone = PhoneNumber("+46701234567")

    assert convert(UNSET) is UNSET
    assert convert(None) is None
    assert convert("   ") is None
    assert convert(phone) is phone
    assert convert("+46 70 123 45 67") == PhoneNumber("+46 70 123 45 67")
    with pytest.raises(InvalidValue) as direct:
        PhoneNumber("abc")
    with pytest.raises(InvalidValue) as caught:
        convert("abc")
    assert (caught.value.field, caught.value.value, caught.value.reason) == (
        "phone",
        "abc",
        direct.value.reason,
    )
    with pytest.raises(InvalidValue) as wrong_type:
        convert(5)
    assert (wrong_type.value.field, wrong_type.value.value, wrong_type.value.reason) == (
        "phone",
        5,
        "must be a PhoneNumber or None",
    )


def test_a_typed_converter_without_a_parser_refuses_text() -> None:
    convert = _typed("amount", Money)

    with pytest.raises(InvalidValue) as caught:
        convert("100 EUR")
    assert (caught.value.field, caught.value.reason) == ("amount", "must be a Money or None")


def test_an_option_converter_parses_labels_and_clears_on_none_or_blank() -> None:
    convert = _option("temperature", Rating)

    assert convert(UNSET) is UNSET
    assert convert(None) is None
    assert convert("  ") is None
    assert convert("Hot") is Rating.HOT
    with pytest.raises(InvalidValue) as caught:
        convert("Lukewarm")
    assert (caught.value.field, caught.value.value) == ("temperature", "Lukewarm")


def test_an_over_long_full_name_names_the_full_name() -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadPatch(name="x" * 401)

    assert caught.value.field == "name.full"


def test_a_bad_email_keeps_the_reason_of_the_value_object() -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadPatch(email="ada@")

    assert caught.value.field == "email"
    assert caught.value.value == "ada@"
    assert "after the @-sign" in caught.value.reason


def test_a_phone_without_country_code_says_why() -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadPatch(mobile_phone="070 123 45 67")

    assert caught.value.field == "mobile_phone"
    assert caught.value.reason == "no country code and no default region"


def test_an_unknown_option_label_names_the_patch_field() -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadPatch(source="Radio")

    assert caught.value.field == "source"
    assert "LeadSource" in caught.value.reason


def test_a_bad_custom_field_names_its_path() -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadPatch(custom_fields={"score": 1.5})  # type: ignore[dict-item]

    assert caught.value.field == "custom_fields.score"


def test_a_datetime_is_not_a_close_date() -> None:
    with pytest.raises(InvalidValue, match="not a datetime") as caught:
        LeadPatch(estimated_close_date=AT)

    assert caught.value.field == "estimated_close_date"


# ---------------------------------------------------------------------------------------------
# from_mapping


def test_from_mapping_builds_the_same_patch_as_the_constructor() -> None:
    patch = LeadPatch.from_mapping({"topic": "Printers", "rating": "Hot", "email": "a@b.se"})

    assert patch == LeadPatch(topic="Printers", rating=Rating.HOT, email="a@b.se")


def test_from_mapping_refuses_an_unknown_field() -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadPatch.from_mapping({"topic": "x", "state": "Qualified"})

    assert caught.value.field == "state"
    assert caught.value.value == "Qualified"
    assert caught.value.reason == "not an editable lead field"


def test_from_mapping_names_the_first_unknown_field_alphabetically() -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadPatch.from_mapping({"zeta": 1, "alpha": 2})

    assert caught.value.field == "alpha"


@pytest.mark.parametrize("read_only", ["id", "owner", "state", "reason", "notes", "version"])
def test_from_mapping_refuses_the_fields_only_commands_change(read_only: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        LeadPatch.from_mapping({read_only: None})

    assert caught.value.field == read_only


def test_patches_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        LeadPatch("Printers")  # type: ignore[call-arg]
