"""Column mapping: suggestions in four languages, overrides, required fields, option sets,
custom fields, and the row parser's per-cell errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.fields import CustomFields, LeadSource, OptionValue, Rating
from leadkit.io import (
    ColumnMapping,
    MappingIncomplete,
    ParseOptions,
    header_key,
    parse_date,
    parse_decimal,
    suggest_mapping,
)
from leadkit.io.mapping import RowParser
from leadkit.profiles import BCM_PROFILE, D365_PROFILE
from leadkit.values import Money, PersonName, PhoneNumber


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Efternamn", "last_name"),
        ("Nazwisko", "last_name"),
        ("Nachname", "last_name"),
        ("LAST NAME", "last_name"),
        ("Förnamn", "first_name"),
        ("forNAMN", "first_name"),
        ("Imię", "first_name"),
        ("Imie", "first_name"),
        ("Vorname", "first_name"),
        ("E-post", "email"),
        ("E-Mail-Adresse", "email"),
        ("Adres e-mail", "email"),
        ("Ämne", "topic"),
        ("Temat", "topic"),
        ("Straße", "street1"),
        ("Strasse", "street1"),
        ("Postleitzahl", "postal_code"),
        ("Kod pocztowy", "postal_code"),
        ("Miejscowość", "city"),
        ("Telefon komórkowy", "mobile_phone"),
        ("Företag", "company"),
        ("Leadkälla", "source"),
        ("Est. Value", "estimated_value"),
        ("custom.Industry", "custom.industry"),
        ("last_name", "last_name"),
    ],
)
def test_headers_in_four_languages_suggest_their_column(header: str, key: str) -> None:
    assert suggest_mapping([header]).key_of(header) == key


def test_header_matching_folds_case_accents_and_punctuation() -> None:
    assert header_key("Łódź — Straße!") == "lodzstrasse"


def test_an_unknown_header_is_ignored_unless_asked_to_become_a_custom_field() -> None:
    mapping = suggest_mapping(["Topic", "Kundnummer (ERP)"])
    assert mapping.ignored == ("Kundnummer (ERP)",)
    custom = suggest_mapping(["Topic", "Kundnummer (ERP)"], unknown_as_custom=True)
    assert custom.key_of("Kundnummer (ERP)") == "custom.kundnummer_erp"


def test_a_second_header_for_the_same_column_is_left_unmapped() -> None:
    mapping = suggest_mapping(["Efternamn", "Nazwisko"])
    assert mapping.mapped == {"last_name": "Efternamn"}
    assert mapping.ignored == ("Nazwisko",)


def test_override_moves_a_column_to_another_header() -> None:
    mapping = suggest_mapping(["Efternamn", "Nazwisko", "Kommentar"])
    changed = mapping.override({"Nazwisko": "last_name", "Kommentar": None})
    assert changed.mapped == {"last_name": "Nazwisko"}
    assert changed.ignored == ("Efternamn", "Kommentar")


def test_a_bad_mapping_is_refused_when_built() -> None:
    with pytest.raises(ConfigurationError):
        ColumnMapping([("A", "last_name"), ("B", "last_name")])
    with pytest.raises(ConfigurationError):
        ColumnMapping([("A", "no_such_column")])
    with pytest.raises(ConfigurationError, match="export only"):
        ColumnMapping([("A", "owner")])
    with pytest.raises(ConfigurationError):
        ColumnMapping([("A", "custom.x")], custom_kinds={"x": "float"})
    with pytest.raises(ConfigurationError):
        ColumnMapping([("A", "source")], values={"source": {"Mässa": "Circus"}})
    with pytest.raises(ConfigurationError):
        suggest_mapping(["A"]).override({"B": "topic"})


def test_a_mapping_missing_a_required_field_of_the_profile_is_refused() -> None:
    mapping = suggest_mapping(["Förnamn", "E-post"])
    with pytest.raises(MappingIncomplete) as caught:
        mapping.check(D365_PROFILE)
    assert caught.value.missing == ("topic", "name.last")
    assert isinstance(caught.value, InvalidValue)
    # Outlook BCM wants only a name: a first name column supplies it.
    mapping.check(BCM_PROFILE)
    # A full-name column supplies the last name.
    suggest_mapping(["Topic", "Full Name"]).check(D365_PROFILE)


def _parser(headers: list[str], **options: object) -> RowParser:
    return RowParser(suggest_mapping(headers), headers, ParseOptions(**options))  # type: ignore[arg-type]


def test_phone_numbers_without_a_country_code_use_the_default_region() -> None:
    parser = _parser(["Telefon", "Mobil"], phone_region="SE")
    row = parser.parse(2, ["08-123 456 78", "+48 601 234 567"])
    assert row.patch is not None
    business, mobile = row.patch.business_phone, row.patch.mobile_phone
    assert isinstance(business, PhoneNumber)
    assert isinstance(mobile, PhoneNumber)
    assert business.e164 == "+46812345678"
    assert mobile.e164 == "+48601234567"


def test_option_sets_read_labels_codes_names_and_other_languages() -> None:
    parser = _parser(["Lead Source", "Rating"])
    cases = [
        (["Trade Show", "Hot"], LeadSource.TRADE_SHOW, Rating.HOT),
        (["7", "3"], LeadSource.TRADE_SHOW, Rating.COLD),
        (["WORD_OF_MOUTH", "warm"], LeadSource.WORD_OF_MOUTH, Rating.WARM),
        (["Mässa", "Kall"], LeadSource.TRADE_SHOW, Rating.COLD),
        (["Targi", "Gorący"], LeadSource.TRADE_SHOW, Rating.HOT),
        (["Messe", "Heiß"], LeadSource.TRADE_SHOW, Rating.HOT),
    ]
    for cells, source, rating in cases:
        patch = parser.parse(2, cells).patch
        assert patch is not None
        assert (patch.source, patch.rating) == (source, rating)


def test_a_file_s_own_option_labels_can_be_mapped() -> None:
    headers = ["Källa"]
    mapping = suggest_mapping(headers, values={"source": {"Kundevent 2026": "Seminar"}})
    patch = RowParser(mapping, headers, ParseOptions()).parse(2, ["kundevent 2026"]).patch
    assert patch is not None
    assert patch.source is LeadSource.SEMINAR


def test_custom_fields_are_read_with_their_declared_kinds() -> None:
    headers = ["custom.industry", "custom.employees", "custom.vip", "custom.since", "custom.tier"]
    mapping = suggest_mapping(
        headers,
        custom_kinds={"employees": "integer", "vip": "boolean", "since": "date", "tier": "option"},
    )
    row = RowParser(mapping, headers, ParseOptions()).parse(
        2, ["Retail", "250", "ja", "31.12.2020", "2"]
    )
    assert row.patch is not None
    assert row.patch.custom_fields == CustomFields(
        {
            "industry": "Retail",
            "employees": 250,
            "vip": True,
            "since": date(2020, 12, 31),
            "tier": OptionValue(2),
        }
    )


def test_name_parts_win_over_a_full_name_which_is_parsed_otherwise() -> None:
    parser = _parser(["Name", "Salutation"])
    patch = parser.parse(2, ["Lovelace, Ada M.", "Dr."]).patch
    assert patch is not None
    assert patch.name == PersonName(first="Ada", middle="M.", last="Lovelace", salutation="Dr.")


def test_money_needs_a_currency_from_a_column_or_the_options() -> None:
    parser = _parser(["Budget Amount", "Currency"])
    patch = parser.parse(2, ["1 234,50", "sek"]).patch
    assert patch is not None
    assert patch.budget_amount == Money(Decimal("1234.50"), "SEK")
    row = _parser(["Budget Amount"]).parse(3, ["100"])
    assert [e.reason for e in row.errors] == [
        "has no currency: map a currency column or set the policy's currency"
    ]
    patch = _parser(["Budget Amount"], currency="EUR").parse(3, ["100"]).patch
    assert patch is not None
    assert patch.budget_amount == Money(100, "EUR")


def test_every_bad_cell_of_a_row_is_reported_with_row_column_value_and_reason() -> None:
    parser = _parser(["Ämne", "E-post", "Telefon", "Rating", "Est. Close Date", "Efternamn"])
    row = parser.parse(7, ["Offert", "anna@", "12", "Lukewarm", "31.02.2026", "x" * 120])
    found = {(e.row, e.column, e.field) for e in row.errors}
    assert found == {
        (7, "E-post", "email"),
        (7, "Telefon", "business_phone"),
        (7, "Rating", "rating"),
        (7, "Est. Close Date", "estimated_close_date"),
        (7, "Efternamn", "name.last"),
    }
    email_error = next(e for e in row.errors if e.column == "E-post")
    assert email_error.value == "anna@"
    assert 'row 7, column "E-post"' in email_error.describe()


def test_extra_cells_beyond_the_header_are_an_error_not_silently_dropped() -> None:
    row = _parser(["Topic"]).parse(4, ["a", "", "stray"])
    assert [(e.column, e.value) for e in row.errors] == [("", "stray")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1234.5", "1234.5"),
        ("1 234,50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1'234.50", "1234.50"),
        ("-12,5", "-12.5"),
        ("1E+3", "1E+3"),
        ("1.234.567", "1234567"),
    ],
)
def test_decimals_are_read_in_european_and_english_notation(text: str, value: str) -> None:
    assert parse_decimal(text) == Decimal(value)


def test_a_non_number_is_refused() -> None:
    with pytest.raises(InvalidValue):
        parse_decimal("12 kr")


def test_dates_are_read_iso_dotted_and_slashed_in_the_chosen_order() -> None:
    assert parse_date("2026-12-31") == date(2026, 12, 31)
    assert parse_date("2026-12-31T10:00:00") == date(2026, 12, 31)
    assert parse_date("31.12.2026") == date(2026, 12, 31)
    assert parse_date("2026/12/31") == date(2026, 12, 31)
    assert parse_date("01/02/2026") == date(2026, 2, 1)
    assert parse_date("01/02/2026", "MDY") == date(2026, 1, 2)
    with pytest.raises(InvalidValue):
        parse_date("31.02.2026")
    with pytest.raises(InvalidValue):
        parse_date("tomorrow")


def test_a_cell_holding_a_nul_character_is_a_row_error_not_a_failed_commit() -> None:
    row = _parser(["Topic", "Company"]).parse(4, ["Pumps", "Acme\x00Corp"])
    assert [(e.row, e.column, e.field, e.value, e.reason) for e in row.errors] == [
        (4, "Company", "company", "Acme\\0Corp", "holds a NUL character (U+0000)")
    ]
