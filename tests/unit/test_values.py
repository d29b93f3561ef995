"""Specification of the value objects (leadkit.values)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal

import attrs
import pytest

from leadkit.errors import CurrencyMismatch, InvalidValue
from leadkit.values import (
    AccountId,
    Address,
    ContactId,
    EmailAddress,
    LeadId,
    Money,
    OpportunityId,
    PersonName,
    PhoneNumber,
    RecordId,
    Url,
    UserRef,
    currency_exponent,
    require_aware,
)

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)

# ---------------------------------------------------------------------------------------------
# require_aware


def test_require_aware_returns_an_aware_datetime_unchanged() -> None:
    stockholm = datetime(2024, 5, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))

    assert require_aware("at", AT) is AT
    assert require_aware("at", stockholm) is stockholm


def test_require_aware_refuses_a_naive_datetime_naming_the_field() -> None:
    with pytest.raises(InvalidValue) as caught:
        require_aware("note.at", datetime(2024, 5, 1, 9, 30))

    assert caught.value.field == "note.at"
    assert "timezone-aware" in caught.value.reason


@pytest.mark.parametrize("value", [date(2024, 5, 1), "2024-05-01T09:30:00+00:00", 0])
def test_require_aware_refuses_what_is_not_a_datetime(value: object) -> None:
    with pytest.raises(InvalidValue, match="must be a datetime") as caught:
        require_aware("at", value)  # type: ignore[arg-type]

    assert caught.value.field == "at"


# ---------------------------------------------------------------------------------------------
# Identities


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (RecordId, "record_id"),
        (LeadId, "lead_id"),
        (AccountId, "account_id"),
        (ContactId, "contact_id"),
        (OpportunityId, "opportunity_id"),
    ],
)
@pytest.mark.parametrize("bad", ["", " L-1", "-L1", ".L1", "L 1", "L/1", "Ł1", "a" * 101, 7, None])
def test_a_malformed_id_is_refused_naming_its_kind(
    kind: type[RecordId], field: str, bad: object
) -> None:
    with pytest.raises(InvalidValue) as caught:
        kind(bad)  # type: ignore[arg-type]

    assert caught.value.field == field
    assert caught.value.value == bad
    assert "1-100 characters" in caught.value.reason


@pytest.mark.parametrize("good", ["L1", "0", "lead-1", "crm:lead_42.v2", "a" * 100])
def test_well_formed_ids_are_accepted_and_print_as_their_value(good: str) -> None:
    lead_id = LeadId(good)

    assert lead_id.value == good
    assert str(lead_id) == good


def test_ids_compare_by_value_and_sort() -> None:
    assert LeadId("L-1") == LeadId("L-1")
    assert LeadId("L-1") != LeadId("L-2")
    assert sorted([LeadId("b"), LeadId("a")]) == [LeadId("a"), LeadId("b")]


def test_user_ref_refuses_an_empty_id() -> None:
    with pytest.raises(InvalidValue, match="must not be empty") as caught:
        UserRef("   ")

    assert caught.value.field == "user.id"


def test_user_ref_refuses_an_over_long_id_or_name() -> None:
    with pytest.raises(InvalidValue) as too_long_id:
        UserRef("u" * 101)
    with pytest.raises(InvalidValue) as too_long_name:
        UserRef("u1", "n" * 201)

    assert too_long_id.value.field == "user.id"
    assert too_long_name.value.field == "user.name"


def test_user_ref_trims_and_prints_its_name_or_else_its_id() -> None:
    named = UserRef(" u1 ", " Ann ")

    assert (named.id, named.name) == ("u1", "Ann")
    assert str(named) == "Ann"
    assert str(UserRef("u2")) == "u2"


# ---------------------------------------------------------------------------------------------
# E-mail


def test_email_keeps_the_text_and_normalises_for_comparison() -> None:
    email = EmailAddress("  Ada.Lovelace@Example.COM ")

    assert email.text == "Ada.Lovelace@Example.COM"
    assert email.normalized == "ada.lovelace@example.com"
    assert email.domain == "example.com"
    assert str(email) == "Ada.Lovelace@Example.COM"


@pytest.mark.parametrize(
    "bad", ["ada", "ada@", "@example.com", "ada@@example.com", "ada@example", "ada lovelace@x.com"]
)
def test_email_with_bad_syntax_is_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        EmailAddress(bad)

    assert caught.value.field == "email"
    assert caught.value.value == bad
    assert caught.value.reason


def test_empty_email_is_refused() -> None:
    with pytest.raises(InvalidValue, match="must not be empty") as caught:
        EmailAddress("  ")

    assert caught.value.field == "email"


def test_email_that_is_not_text_is_refused() -> None:
    with pytest.raises(InvalidValue, match="must be text") as caught:
        EmailAddress(42)  # type: ignore[arg-type]

    assert caught.value.field == "email"


# ---------------------------------------------------------------------------------------------
# Phone


def test_phone_number_with_a_default_region_gets_its_e164_form() -> None:
    phone = PhoneNumber("070-123 45 67", "se")

    assert phone.raw == "070-123 45 67"
    assert phone.region == "SE"
    assert phone.e164 == "+46701234567"
    assert str(phone) == "070-123 45 67"


def test_phone_number_with_a_country_code_needs_no_region() -> None:
    phone = PhoneNumber("+44 20 7946 0958")

    assert phone.e164 == "+442079460958"
    assert phone.region is None


def test_phone_number_keeps_its_extension() -> None:
    assert PhoneNumber("+1 650 253 0000 ext. 123").extension == "123"


def test_phone_number_without_plus_and_without_region_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        PhoneNumber("0701234567")

    assert caught.value.field == "phone"
    assert caught.value.reason == "no country code and no default region"


def test_phone_number_with_an_unknown_region_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        PhoneNumber("0701234567", "XX")

    assert caught.value.field == "phone.region"
    assert caught.value.value == "XX"


@pytest.mark.parametrize("bad", ["abc", "12", "+46 70 123 45 67 89 01 23 45", "+999 1234567"])
def test_unparseable_phone_number_is_refused(bad: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        PhoneNumber(bad, "SE")

    assert caught.value.field == "phone"
    assert caught.value.value == bad
    assert caught.value.reason


def test_empty_phone_number_is_refused() -> None:
    with pytest.raises(InvalidValue, match="must not be empty"):
        PhoneNumber(" ", "SE")


# ---------------------------------------------------------------------------------------------
# Money


def test_money_refuses_a_float() -> None:
    with pytest.raises(InvalidValue, match="not a float") as caught:
        Money(1.5, "EUR")

    assert caught.value.field == "amount"


def test_money_refuses_a_bool() -> None:
    with pytest.raises(InvalidValue) as caught:
        Money(True, "EUR")

    assert caught.value.field == "amount"


@pytest.mark.parametrize("bad", ["NaN", Decimal("NaN"), "Infinity", Decimal("-Infinity"), "sNaN"])
def test_money_refuses_nan_and_infinity(bad: str | Decimal) -> None:
    with pytest.raises(InvalidValue, match="finite") as caught:
        Money(bad, "EUR")

    assert caught.value.field == "amount"


def test_money_refuses_text_that_is_not_a_number() -> None:
    with pytest.raises(InvalidValue, match="not a decimal number") as caught:
        Money("ten", "EUR")

    assert caught.value.field == "amount"


@pytest.mark.parametrize("bad", ["XYZ", "EURO", "", "eu"])
def test_money_refuses_an_unknown_currency(bad: str) -> None:
    with pytest.raises(InvalidValue, match="ISO 4217") as caught:
        Money(Decimal(1), bad)

    assert caught.value.field == "currency"


def test_money_refuses_a_currency_that_is_not_text() -> None:
    with pytest.raises(InvalidValue) as caught:
        Money(Decimal(1), 978)

    assert caught.value.field == "currency"


def test_money_normalises_the_currency_code() -> None:
    assert Money(Decimal(1), " sek ").currency == "SEK"


@pytest.mark.parametrize("amount", ["1e15", "-1e15", "1000000000000000.00"])
def test_money_refuses_an_amount_of_ten_to_the_fifteen_or_more(amount: str) -> None:
    with pytest.raises(InvalidValue, match="10\\^15") as caught:
        Money(amount, "EUR")

    assert caught.value.field == "amount"


def test_money_refuses_an_amount_that_rounding_carries_up_to_the_limit() -> None:
    with pytest.raises(InvalidValue, match="10\\^15"):
        Money("999999999999999.995", "EUR")


def test_money_accepts_the_largest_amount_below_the_limit() -> None:
    assert Money("999999999999999.99", "EUR").amount == Decimal("999999999999999.99")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.675", "EUR", "2.68"),
        ("2.665", "EUR", "2.67"),
        ("2.664", "EUR", "2.66"),
        ("-2.675", "EUR", "-2.68"),
        ("10", "EUR", "10.00"),
        ("0.5", "JPY", "1"),
        ("1.49", "JPY", "1"),
        ("-0.5", "JPY", "-1"),
        ("1.0005", "BHD", "1.001"),
        ("1.0004", "BHD", "1.000"),
        ("0.0000001", "XAU", "0.0000001"),  # gold has no minor unit: no rounding
    ],
)
def test_money_rounds_half_up_to_the_currency_minor_units(
    amount: str, currency: str, expected: str
) -> None:
    money = Money(amount, currency)

    assert money.amount == Decimal(expected)
    assert money.amount.as_tuple() == Decimal(expected).as_tuple()


def test_currency_exponent_knows_the_minor_units() -> None:
    assert currency_exponent("EUR") == 2
    assert currency_exponent("JPY") == 0
    assert currency_exponent("BHD") == 3
    assert currency_exponent("XAU") is None


def test_currency_exponent_refuses_an_unknown_code() -> None:
    with pytest.raises(InvalidValue) as caught:
        currency_exponent("ABC")

    assert caught.value.field == "currency"


def test_money_accepts_int_decimal_and_decimal_text() -> None:
    assert Money(3, "EUR") == Money(Decimal("3.00"), "EUR") == Money(" 3 ", "EUR")


def test_money_adds_subtracts_negates_and_multiplies_in_one_currency() -> None:
    a = Money(Decimal("10.50"), "EUR")
    b = Money(Decimal("0.25"), "EUR")

    assert a + b == Money(Decimal("10.75"), "EUR")
    assert a - b == Money(Decimal("10.25"), "EUR")
    assert -a == Money(Decimal("-10.50"), "EUR")
    assert a * 2 == 2 * a == Money(Decimal(21), "EUR")
    assert a * Decimal("0.333") == Money(Decimal("3.50"), "EUR")
    assert Money.zero("JPY") == Money(0, "JPY")


def test_money_refuses_to_multiply_by_a_float_or_bool() -> None:
    a = Money(Decimal(1), "EUR")

    with pytest.raises(TypeError):
        _ = a * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = a * True


def test_money_adding_a_number_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = Money(Decimal(1), "EUR") + 1  # type: ignore[operator]


def test_money_compares_within_one_currency() -> None:
    small = Money(Decimal(1), "EUR")
    big = Money(Decimal(2), "EUR")

    assert small < big
    assert small <= big
    assert big > small
    assert big >= small
    assert small <= Money(Decimal(1), "EUR")
    assert not big < small


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_combining_two_currencies_raises_currency_mismatch(
    combine: Callable[[Money, Money], object],
) -> None:
    eur = Money(Decimal(1), "EUR")
    usd = Money(Decimal(1), "USD")

    with pytest.raises(CurrencyMismatch) as caught:
        combine(eur, usd)

    assert (caught.value.left, caught.value.right) == ("EUR", "USD")
    assert isinstance(caught.value, InvalidValue)


@pytest.mark.parametrize("other", [5, Decimal(5), None])
def test_comparing_money_with_a_number_is_a_type_error(other: object) -> None:
    with pytest.raises(TypeError):
        _ = Money(Decimal(1), "EUR") < other  # type: ignore[operator]


def test_money_in_two_currencies_is_unequal_but_not_an_error() -> None:
    assert Money(Decimal(1), "EUR") != Money(Decimal(1), "USD")


def test_money_prints_amount_and_currency() -> None:
    assert str(Money("1234.5", "SEK")) == "1234.50 SEK"


# ---------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize("part", ["first", "last", "middle", "salutation", "suffix"])
def test_person_name_refuses_an_over_long_part_naming_it(part: str) -> None:
    with pytest.raises(InvalidValue, match="longer than 100") as caught:
        PersonName(**{part: "x" * 101})

    assert caught.value.field == f"name.{part}"


def test_person_name_refuses_a_part_that_is_not_text() -> None:
    with pytest.raises(InvalidValue, match="must be text") as caught:
        PersonName(first=None)  # type: ignore[arg-type]

    assert caught.value.field == "name.first"


def test_person_name_trims_parts_and_composes_the_full_name() -> None:
    name = PersonName(first=" Ada ", middle="M.", last="Lovelace", salutation="Dr.", suffix="Jr.")

    assert name.first == "Ada"
    assert name.full == "Dr. Ada M. Lovelace Jr."
    assert str(name) == "Dr. Ada M. Lovelace Jr."
    assert not name.is_empty
    assert PersonName().is_empty
    assert PersonName(suffix="Jr.").is_empty is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Dr. Ada M. Lovelace Jr.",
            PersonName(salutation="Dr.", first="Ada", middle="M.", last="Lovelace", suffix="Jr."),
        ),
        ("Lovelace, Ada", PersonName(first="Ada", last="Lovelace")),
        ("Lovelace, Ada M.", PersonName(first="Ada", middle="M.", last="Lovelace")),
        ("Lovelace, Dr. Ada", PersonName(salutation="Dr.", first="Ada", last="Lovelace")),
        ("Lovelace, Jr.", PersonName(last="Lovelace", suffix="Jr.")),
        ("Ada Lovelace, Jr.", PersonName(first="Ada", last="Lovelace", suffix="Jr.")),
        ("Ludwig van Beethoven", PersonName(first="Ludwig", last="van Beethoven")),
        ("Anna von der Leyen", PersonName(first="Anna", last="von der Leyen")),
        (
            "Ada Augusta King Lovelace",
            PersonName(first="Ada", middle="Augusta King", last="Lovelace"),
        ),
        ("Madonna", PersonName(last="Madonna")),
        ("Mr. Smith", PersonName(salutation="Mr.", last="Smith")),
        ("  Ada   Lovelace  ", PersonName(first="Ada", last="Lovelace")),
        ("", PersonName()),
        ("   ", PersonName()),
    ],
)
def test_full_name_is_split_the_way_business_contact_manager_does(
    text: str, expected: PersonName
) -> None:
    assert PersonName.parse(text) == expected


def test_parsing_a_full_name_that_is_not_text_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        PersonName.parse(5)  # type: ignore[arg-type]

    assert caught.value.field == "name.full"


def test_parsing_an_over_long_full_name_is_refused() -> None:
    with pytest.raises(InvalidValue, match="longer than 400") as caught:
        PersonName.parse("Ada " * 101)

    assert caught.value.field == "name.full"


def test_parsing_a_full_name_with_an_over_long_word_names_the_part() -> None:
    with pytest.raises(InvalidValue) as caught:
        PersonName.parse("Ada " + "L" * 101)

    assert caught.value.field == "name.last"


# ---------------------------------------------------------------------------------------------
# Address


@pytest.mark.parametrize(
    ("part", "limit"),
    [
        ("line1", 250),
        ("line2", 250),
        ("line3", 250),
        ("city", 80),
        ("state_or_province", 50),
        ("postal_code", 20),
        ("country", 80),
    ],
)
def test_address_refuses_an_over_long_part_naming_it(part: str, limit: int) -> None:
    Address(**{part: "1" * limit})  # exactly at the limit is fine

    with pytest.raises(InvalidValue, match=f"longer than {limit}") as caught:
        Address(**{part: "1" * (limit + 1)})

    assert caught.value.field == f"address.{part}"


@pytest.mark.parametrize("bad", ["123#45", "-12345", "12_345", "SW1A.1AA", "1234ö"])
def test_address_refuses_a_bad_postal_code_naming_address_postal_code(bad: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        Address(postal_code=bad)

    assert caught.value.field == "address.postal_code"
    assert caught.value.value == bad
    assert "letters, digits" in caught.value.reason


@pytest.mark.parametrize("good", ["123 45", "SW1A 1AA", "12345-6789", "K1A0B1"])
def test_address_accepts_usual_postal_codes(good: str) -> None:
    assert Address(postal_code=good).postal_code == good


def test_address_that_is_not_text_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        Address(city=5)  # type: ignore[arg-type]

    assert caught.value.field == "address.city"


def test_address_lines_print_as_on_an_envelope() -> None:
    address = Address(
        line1=" Storgatan 1 ", city="Stockholm", postal_code="111 22", country="Sweden"
    )

    assert address.line1 == "Storgatan 1"
    assert address.lines() == ("Storgatan 1", "111 22 Stockholm", "Sweden")
    assert not address.is_empty
    assert Address().is_empty


# ---------------------------------------------------------------------------------------------
# URL


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("www.contoso.com", "https://www.contoso.com"),
        ("contoso.com/about", "https://contoso.com/about"),
        ("HTTP://WWW.Contoso.COM/Path", "http://www.contoso.com/Path"),
        ("https://contoso.com:8443/x?q=1", "https://contoso.com:8443/x?q=1"),
        ("  https://contoso.com  ", "https://contoso.com"),
    ],
)
def test_url_is_normalised_and_a_bare_host_gets_https(text: str, expected: str) -> None:
    url = Url(text)

    assert url.text == expected
    assert str(url) == expected
    assert Url(url.text) == url  # normalising is idempotent


def test_url_host_is_lower_cased() -> None:
    assert Url("https://WWW.Contoso.com/").host == "www.contoso.com"


@pytest.mark.parametrize(
    "bad", ["ftp://contoso.com", "javascript://alert(1)", "file:///etc/passwd"]
)
def test_url_with_another_scheme_is_refused(bad: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        Url(bad)

    assert caught.value.field == "website"
    assert caught.value.reason == "scheme must be http or https"


def test_url_with_spaces_is_refused() -> None:
    with pytest.raises(InvalidValue, match="spaces") as caught:
        Url("https://contoso .com")

    assert caught.value.field == "website"


@pytest.mark.parametrize(
    "bad",
    ["localhost", "https://", "https://-bad-.com", "https://user:pw@contoso.com", "mailto:a@b.com"],
)
def test_url_without_a_valid_host_is_refused(bad: str) -> None:
    with pytest.raises(InvalidValue, match="host") as caught:
        Url(bad)

    assert caught.value.field == "website"


def test_url_with_a_bad_port_is_refused() -> None:
    with pytest.raises(InvalidValue, match="not a valid URL"):
        Url("https://contoso.com:99999")


def test_url_empty_or_over_long_is_refused() -> None:
    with pytest.raises(InvalidValue, match="must not be empty"):
        Url("")
    with pytest.raises(InvalidValue, match="longer than 200"):
        Url("https://contoso.com/" + "a" * 200)


# ---------------------------------------------------------------------------------------------
# Immutability


@pytest.mark.parametrize(
    "value",
    [
        LeadId("L-1"),
        UserRef("u1"),
        EmailAddress("a@example.com"),
        PhoneNumber("+46701234567"),
        Money(Decimal(1), "EUR"),
        PersonName(last="Lovelace"),
        Address(city="Stockholm"),
        Url("contoso.com"),
    ],
)
def test_values_are_frozen(value: attrs.AttrsInstance) -> None:
    field = attrs.fields(type(value))[0].name

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(value, field, "changed")


# ---------------------------------------------------------------------------------------------
# The exact field, value and reason of each refusal, and the boundaries


def _refusal(build: Callable[[], object]) -> tuple[str, object, str]:
    with pytest.raises(InvalidValue) as caught:
        build()
    return caught.value.field, caught.value.value, caught.value.reason


class _BrokenZone(tzinfo):
    def utcoffset(self, dt: datetime | None) -> timedelta:
        raise RuntimeError("no offset today")

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_require_aware_names_the_field_the_value_and_the_reason() -> None:
    naive = datetime(2024, 5, 1, 9, 30)
    broken = datetime(2024, 5, 1, 9, 30, tzinfo=_BrokenZone())
    west_of_max = datetime.max.replace(tzinfo=timezone(timedelta(hours=-1)))

    assert _refusal(lambda: require_aware("at", 0)) == ("at", 0, "must be a datetime")  # type: ignore[arg-type]
    assert _refusal(lambda: require_aware("note.at", naive)) == (
        "note.at",
        naive,
        "must be timezone-aware (a naive datetime is refused)",
    )
    assert _refusal(lambda: require_aware("at", broken)) == (
        "at",
        broken,
        "has a time zone that gives no valid offset",
    )
    assert _refusal(lambda: require_aware("at", west_of_max)) == (
        "at",
        west_of_max,
        "is out of range once converted to UTC",
    )


@pytest.fixture
def far_east_local_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Etc/GMT-14")  # UTC+14
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("far_east_local_zone")
def test_require_aware_checks_the_range_in_utc_whatever_the_machines_zone() -> None:
    # 23:00 UTC on the last day is 13:00 the next year in UTC+14: out of range there only.
    last_hour = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)

    assert require_aware("at", last_hour) is last_hour


def test_user_ref_names_the_empty_id_it_refuses() -> None:
    assert _refusal(lambda: UserRef("   ")) == ("user.id", "", "must not be empty")


def test_email_is_refused_beyond_254_characters_and_accepted_at_254() -> None:
    local, labels = "a" * 64, ["b" * 63, "c" * 63, "d" * 57, "com"]
    longest = f"{local}@{'.'.join(labels)}"
    assert len(longest) == 254
    too_long = "e" + longest

    assert EmailAddress(longest).text == longest
    assert _refusal(lambda: EmailAddress(too_long)) == (
        "email",
        too_long,
        "longer than 254 characters",
    )


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("ada", "An email address must have an @-sign"),
        ("ada@", "There must be something after the @-sign"),
        ("@example.com", "There must be something before the @-sign"),
    ],
)
def test_email_refusal_gives_the_validators_reason_without_its_final_period(
    bad: str, reason: str
) -> None:
    assert _refusal(lambda: EmailAddress(bad)) == ("email", bad, reason)


def test_empty_email_is_refused_with_its_trimmed_text() -> None:
    assert _refusal(lambda: EmailAddress("  ")) == ("email", "", "must not be empty")


def test_phone_text_is_limited_to_50_characters() -> None:
    spaced = "+46" + " " * 38 + "701234567"
    assert len(spaced) == 50

    assert PhoneNumber(spaced).e164 == "+46701234567"
    assert _refusal(lambda: PhoneNumber("1" * 51, "SE")) == (
        "phone",
        "1" * 51,
        "longer than 50 characters",
    )


def test_a_restored_phone_number_equals_the_parsed_one_without_parsing() -> None:
    parsed = PhoneNumber("  +1 650 253 0000 ext. 123 ")
    restored = PhoneNumber.restore("  +1 650 253 0000 ext. 123 ", None, "+16502530000", "123")

    assert restored == parsed
    assert (restored.raw, restored.region, restored.e164, restored.extension) == (
        "+1 650 253 0000 ext. 123",
        None,
        "+16502530000",
        "123",
    )
    swedish = PhoneNumber.restore("070-123 45 67", "SE", "+46701234567")
    assert (swedish.region, swedish.e164, swedish.extension) == ("SE", "+46701234567", "")
    assert swedish == PhoneNumber("070-123 45 67", "SE")


@pytest.mark.parametrize("e164", ["+1234", "+123456789012345"])
def test_restore_accepts_an_e164_number_of_4_to_15_digits(e164: str) -> None:
    assert PhoneNumber.restore("x", None, e164).e164 == e164


@pytest.mark.parametrize(
    ("args", "field", "value", "reason"),
    [
        (("  ", None, "+46701234567"), "phone", "  ", "must not be empty"),
        (("1" * 51, None, "+46701234567"), "phone", "1" * 51, "longer than 50 characters"),
        ((5, None, "+46701234567"), "phone", 5, "must be text"),
        (("070", "XX", "+46701234567"), "phone.region", "XX", "not a known ISO 3166 region code"),
        (("070", "se", "+46701234567"), "phone.region", "se", "not a known ISO 3166 region code"),
        (
            ("070", "SE", "46701234567"),
            "phone.e164",
            "46701234567",
            "not an E.164 number such as +46812345678",
        ),
        (("070", "SE", "+123"), "phone.e164", "+123", "not an E.164 number such as +46812345678"),
        (
            ("070", "SE", "+0701234567"),
            "phone.e164",
            "+0701234567",
            "not an E.164 number such as +46812345678",
        ),
        (
            ("070", "SE", "+1234567890123456"),
            "phone.e164",
            "+1234567890123456",
            "not an E.164 number such as +46812345678",
        ),
        (
            ("070", "SE", 46701234567),
            "phone.e164",
            46701234567,
            "not an E.164 number such as +46812345678",
        ),
        (("070", "SE", "+46701234567", "12a"), "phone.extension", "12a", "must be digits"),
        (("070", "SE", "+46701234567", 12), "phone.extension", 12, "must be digits"),
    ],
    ids=[
        "empty",
        "too long",
        "not text",
        "unknown region",
        "lower-case region",
        "no plus",
        "too short",
        "leading zero",
        "too long e164",
        "e164 not text",
        "letters in extension",
        "extension not text",
    ],
)
def test_restore_refuses_data_this_library_never_writes(
    args: tuple[object, ...], field: str, value: object, reason: str
) -> None:
    assert _refusal(lambda: PhoneNumber.restore(*args)) == (field, value, reason)  # type: ignore[arg-type]


def test_money_of_equal_amounts_is_neither_less_nor_greater() -> None:
    one, same = Money(Decimal(1), "EUR"), Money("1.00", "EUR")

    assert not one < same
    assert not one > same
    assert one <= same
    assert one >= same


def test_money_multiplies_exactly_before_rounding_once_to_the_currency() -> None:
    # 0.00499...9 (31 digits) is below half a cent: exact arithmetic rounds it down, where a
    # 28-digit context would first round it to 0.005 and then up to a cent.
    factor = Decimal("0.004999999999999999999999999999999")

    assert Money(Decimal(1), "EUR") * factor == Money("0.00", "EUR")


@pytest.mark.parametrize("factor", ["9e999999999999999999", "-9e999999999999999999"])
def test_money_times_a_factor_beyond_any_decimal_is_refused_as_not_finite(factor: str) -> None:
    field, value, reason = _refusal(lambda: Money(Decimal(10), "EUR") * Decimal(factor))

    assert (field, reason) == ("amount", "must be a finite number")
    assert isinstance(value, Decimal)
    assert value.is_infinite()


def test_money_refuses_a_factor_that_is_not_finite_naming_it() -> None:
    infinite = Decimal("-Infinity")
    assert _refusal(lambda: Money(Decimal(1), "EUR") * infinite) == (
        "factor",
        infinite,
        "must be a finite number",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lovelace, Ada, Jr.", PersonName(first="Ada", last="Lovelace", suffix="Jr.")),
        ("Lovelace, Ada Maria King", PersonName(first="Ada", middle="Maria King", last="Lovelace")),
        ("Dr.", PersonName(last="Dr.")),
        ("Jr", PersonName(last="Jr")),
        ("Lovelace Jr.", PersonName(last="Lovelace", suffix="Jr.")),
        ("van Beethoven", PersonName(first="van", last="Beethoven")),
        (
            "Anna Maria von der Leyen",
            PersonName(first="Anna", middle="Maria", last="von der Leyen"),
        ),
        ("Ada Lovelace JRX", PersonName(first="Ada", middle="Lovelace", last="JRX")),
    ],
    ids=[
        "suffix after last, first",
        "middle names after last, first",
        "a lone salutation is a name",
        "a lone suffix is a name",
        "last name and suffix",
        "the first word is the first name",
        "every particle joins the last name",
        "a title only less its dots",
    ],
)
def test_full_name_splitting_edge_cases(text: str, expected: PersonName) -> None:
    assert PersonName.parse(text) == expected


@pytest.mark.parametrize(
    ("build", "field", "value", "reason"),
    [
        (
            lambda: Money(1.5, "EUR"),
            "amount",
            1.5,
            "must be a Decimal, an int or a decimal string (not a float)",
        ),
        (lambda: Money("abc", "EUR"), "amount", "abc", "not a decimal number"),
        (lambda: Money(1, 978), "currency", 978, "must be an ISO 4217 code such as 'EUR'"),
        (lambda: Money(1, "XYZ"), "currency", "XYZ", "not an ISO 4217 currency code"),
        (lambda: currency_exponent("ABC"), "currency", "ABC", "not an ISO 4217 currency code"),
        (
            lambda: Money(Decimal("999999999999999.995"), "EUR"),
            "amount",
            Decimal("999999999999999.995"),
            "must be less than 10^15 in magnitude",
        ),
        (
            lambda: PhoneNumber("070", "XX"),
            "phone.region",
            "XX",
            "not a known ISO 3166 region code",
        ),
        (lambda: PhoneNumber("  ", "SE"), "phone", "", "must not be empty"),
        (
            lambda: LeadId("-1"),
            "lead_id",
            "-1",
            "must be 1-100 characters of letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit",
        ),
        (lambda: Url("w" * 201), "website", "w" * 201, "longer than 200 characters"),
    ],
    ids=[
        "float amount",
        "text amount",
        "numeric currency",
        "unknown currency",
        "unknown exponent",
        "rounded up to the limit",
        "unknown region",
        "empty phone",
        "malformed id",
        "long url",
    ],
)
def test_each_value_refusal_names_its_field_value_and_reason(
    build: Callable[[], object], field: str, value: object, reason: str
) -> None:
    assert _refusal(build) == (field, value, reason)


def test_comparing_money_with_another_type_names_that_type() -> None:
    with pytest.raises(TypeError, match=r"^cannot compare Money with int$"):
        _ = Money(Decimal(1), "EUR") < 5  # type: ignore[operator]


def test_an_unsafe_character_is_named_in_full_in_the_email_refusal() -> None:
    # Only the validator's final period is cut: a name ending in "X" (SIX) keeps its letters.
    bad = "ad\U000e0036a@example.com"

    assert _refusal(lambda: EmailAddress(bad)) == (
        "email",
        bad,
        "The email address contains unsafe characters: TAG DIGIT SIX",
    )


@pytest.mark.parametrize("text", ["1e15", "-1E15", "9999999999999999", "2e15"])
def test_money_refuses_ten_to_the_fifteen_and_more_naming_the_amount_as_given(text: str) -> None:
    assert _refusal(lambda: Money(text, "EUR")) == (
        "amount",
        text,
        "must be less than 10^15 in magnitude",
    )


def test_a_postal_code_with_other_characters_is_refused_saying_which_are_allowed() -> None:
    assert _refusal(lambda: Address(postal_code="#12")) == (
        "address.postal_code",
        "#12",
        "may hold only letters, digits, spaces and dashes",
    )
