"""Qualification policy, currency registry and field maps: validated when built."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from types import NoneType
from typing import ForwardRef, Optional, Union

import pytest

from leadkit import (
    Address,
    EmailAddress,
    Lead,
    LeadId,
    LeadkitConverter,
    LeadPatch,
    Money,
    PersonName,
    UserRef,
    make_converter,
)
from leadkit.errors import ConfigurationError, CurrencyMismatch, InvalidValue
from leadkit.policies import (
    BCM_POLICY,
    D365_ACCOUNT_MAP,
    D365_CONTACT_MAP,
    D365_MAPS,
    D365_OPPORTUNITY_MAP,
    DEFAULT_POLICY,
    PROMPT_POLICY,
    ConversionMaps,
    CurrencyRegistry,
    DuplicateHandling,
    ExchangeRate,
    FieldMap,
    FieldMapping,
    NotesCarryOver,
    QualificationPolicy,
    QualifyMode,
    RecordKind,
    _contact_map,
    _members,
    _type_name,
    mappable_targets,
)

ANN = UserRef("ann")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


# Policy -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def converter() -> LeadkitConverter:
    return make_converter()  # building one costs ~0.4 s: share it


def test_the_default_policy_auto_creates_links_notes_and_warns_on_duplicates() -> None:
    assert DEFAULT_POLICY.mode is QualifyMode.AUTO_CREATE
    assert DEFAULT_POLICY.notes is NotesCarryOver.LINK
    assert DEFAULT_POLICY.duplicates is DuplicateHandling.WARN
    assert DEFAULT_POLICY.prospects_on_disqualify is False
    assert DEFAULT_POLICY.maps == D365_MAPS
    assert PROMPT_POLICY.mode is QualifyMode.PROMPT
    assert BCM_POLICY.notes is NotesCarryOver.COPY


def test_policy_fallback_currency_is_the_default_else_the_base() -> None:
    registry = CurrencyRegistry("SEK", {"EUR": Decimal("0.087")})
    assert QualificationPolicy(currencies=registry).fallback_currency == "SEK"
    policy = QualificationPolicy(currencies=registry, default_currency="eur")
    assert policy.default_currency == "EUR"
    assert policy.fallback_currency == "EUR"


def test_policy_refuses_a_default_currency_outside_a_closed_registry() -> None:
    registry = CurrencyRegistry("SEK", {"EUR": Decimal("0.087")}, only_listed=True)
    with pytest.raises(ConfigurationError):
        QualificationPolicy(currencies=registry, default_currency="USD")


def test_policy_refuses_an_unknown_default_currency() -> None:
    with pytest.raises(ConfigurationError):
        QualificationPolicy(default_currency="XXY")


@pytest.mark.parametrize(
    "setting",
    [
        {"mode": "auto"},
        {"notes": "copy"},
        {"duplicates": True},
        {"prospects_on_disqualify": "yes"},
        {"currencies": "EUR"},
        {"maps": D365_ACCOUNT_MAP},
    ],
)
def test_policy_refuses_settings_of_the_wrong_kind(setting: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        QualificationPolicy(**setting)  # type: ignore[arg-type]


def test_policy_round_trips_through_the_converter(converter: LeadkitConverter) -> None:
    policy = QualificationPolicy(
        mode=QualifyMode.PROMPT,
        currencies=CurrencyRegistry("EUR", {"SEK": Decimal("11.5")}, only_listed=True),
        default_currency="SEK",
        notes=NotesCarryOver.COPY,
        duplicates=DuplicateHandling.BLOCK,
        prospects_on_disqualify=True,
    )
    assert converter.loads(converter.dumps(policy), QualificationPolicy) == policy


def test_policy_describes_itself_row_by_row() -> None:
    rows = dict(DEFAULT_POLICY.describe())
    assert rows["mode"] == "AUTO_CREATE"
    assert rows["notes carry-over"] == "LINK"
    assert "company -> name" in rows["account map"]


# Currencies -------------------------------------------------------------------------------


def test_registry_converts_through_the_base_currency() -> None:
    registry = CurrencyRegistry("EUR", {"SEK": Decimal("11.5"), "USD": Decimal("1.1")})
    assert registry.convert(Money("115", "SEK"), "EUR") == Money("10", "EUR")
    assert registry.convert(Money("115", "SEK"), "USD") == Money("11", "USD")
    assert registry.convert(Money("3", "EUR"), "EUR") == Money("3", "EUR")


def test_registry_refuses_to_convert_without_a_rate() -> None:
    registry = CurrencyRegistry("EUR")
    with pytest.raises(CurrencyMismatch) as error:
        registry.convert(Money("1", "SEK"), "EUR", "budget_amount")
    assert error.value.field == "budget_amount"


def test_registry_lists_the_base_currency_first() -> None:
    registry = CurrencyRegistry("eur", [ExchangeRate("sek", Decimal("11.5"))])
    assert registry.codes == ("EUR", "SEK")
    assert registry.rate("EUR") == 1
    assert registry.rate("SEK") == Decimal("11.5")
    assert registry.rate("USD") is None


def test_an_open_registry_allows_any_iso_currency_a_closed_one_only_its_own() -> None:
    assert CurrencyRegistry("EUR").allows("JPY")
    closed = CurrencyRegistry("EUR", {"SEK": Decimal(11)}, only_listed=True)
    assert closed.allows("SEK")
    assert not closed.allows("JPY")
    with pytest.raises(InvalidValue):
        closed.check("JPY")
    with pytest.raises(InvalidValue):
        closed.check("nope")


@pytest.mark.parametrize(
    "build",
    [
        lambda: CurrencyRegistry("XYZ"),
        lambda: CurrencyRegistry("EUR", {"EUR": Decimal(1)}),
        lambda: CurrencyRegistry("EUR", [ExchangeRate("SEK", 11), ExchangeRate("SEK", 12)]),
        lambda: ExchangeRate("SEK", Decimal(0)),
        lambda: ExchangeRate("SEK", 1.5),
        lambda: ExchangeRate("SEK", "abc"),
        lambda: ExchangeRate("QQQ", Decimal(1)),
    ],
    ids=["unknown base", "base rate", "listed twice", "zero", "float", "text", "unknown code"],
)
def test_registry_refuses_bad_configuration(build: object) -> None:
    with pytest.raises(ConfigurationError):
        build()  # type: ignore[operator]


# Field maps -------------------------------------------------------------------------------


def test_the_d365_account_map_fills_name_website_phone_address_and_owner() -> None:
    assert D365_ACCOUNT_MAP.describe() == (
        "company -> name",
        "website -> website",
        "business_phone -> business_phone",
        "address -> address",
        "owner -> owner",
    )


def test_the_d365_contact_and_opportunity_maps() -> None:
    contact = set(D365_CONTACT_MAP.targets)
    assert {"name.first", "name.last", "job_title", "email", "mobile_phone"} <= contact
    assert {"business_phone", "address", "source", "owner"} <= contact
    opportunity = {str(m) for m in D365_OPPORTUNITY_MAP.mappings}
    assert {"topic -> name", "budget_amount -> budget_amount"} <= opportunity
    assert {"estimated_close_date -> estimated_close_date", "source -> source"} <= opportunity


def test_a_map_reads_the_lead_values_by_target() -> None:
    lead = Lead.create(
        LeadId("L-1"),
        LeadPatch(
            topic="Deal",
            name=PersonName(first="Ada", last="Byron"),
            email="ada@example.com",
            address=Address(city="Lund"),
        ),
        at=T0,
        by=ANN,
    )
    values = D365_CONTACT_MAP.values(lead)
    assert values["name.first"] == "Ada"
    assert values["email"] == EmailAddress("ada@example.com")
    assert values["address"] == Address(city="Lund")
    assert values["owner"] == ANN


def test_a_custom_map_of_the_same_type_is_accepted() -> None:
    fmap = FieldMap(RecordKind.ACCOUNT, [("company", "name"), ("description", "description")])
    assert fmap.targets == ("name", "description")


def test_a_required_value_may_fill_an_optional_field() -> None:
    FieldMap(RecordKind.ACCOUNT, [("company", "name"), ("owner", "owner")])


@pytest.mark.parametrize(
    ("mappings", "message"),
    [
        ([("company", "name"), ("rating", "description")], "cannot fill"),
        ([("company", "name"), ("email", "website")], "cannot fill"),
        ([("company", "name"), ("topic", "name")], "two sources for one target"),
        (
            [("company", "name"), ("address", "address"), ("address.city", "address.city")],
            "two sources",
        ),
        ([("company", "name"), ("shoe_size", "description")], "not a mappable lead field"),
        ([("company", "name"), ("description", "slogan")], "not a field of Account"),
        ([("company", "name"), ("company", "id")], "set by the conversion"),
        ([("company", "name"), ("name.full", "description")], "not a mappable lead field"),
        ([("company", "name"), ("custom_fields", "description")], "not a mappable lead field"),
        ([("website", "website")], "nothing fills the account name"),
    ],
)
def test_a_bad_account_map_is_refused_when_built(
    mappings: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ConfigurationError) as error:
        FieldMap(RecordKind.ACCOUNT, mappings)
    assert message in str(error.value)


def test_an_optional_option_cannot_fill_a_text_field() -> None:
    with pytest.raises(ConfigurationError, match=re.escape("LeadSource | None cannot fill a str")):
        FieldMap(RecordKind.CONTACT, [("name.last", "name.last"), ("source", "job_title")])


def test_opportunity_links_and_currency_are_not_mappable() -> None:
    with pytest.raises(ConfigurationError, match="set by the conversion"):
        FieldMap(RecordKind.OPPORTUNITY, [("topic", "name"), ("company", "currency")])
    assert "currency" not in mappable_targets(RecordKind.OPPORTUNITY)
    assert "customer" not in mappable_targets(RecordKind.OPPORTUNITY)
    assert "name" in mappable_targets(RecordKind.OPPORTUNITY)


def test_a_contact_map_needs_a_name() -> None:
    with pytest.raises(ConfigurationError, match="contact's name"):
        FieldMap(RecordKind.CONTACT, [("email", "email")])
    FieldMap(RecordKind.CONTACT, [("name", "name")])


def test_a_map_must_be_pairs() -> None:
    with pytest.raises(ConfigurationError):
        FieldMap(RecordKind.ACCOUNT, [("company",)])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError):
        FieldMap(RecordKind.ACCOUNT, {"company": "name"})  # type: ignore[dict-item]


def test_conversion_maps_refuse_a_map_for_another_record() -> None:
    with pytest.raises(ConfigurationError):
        ConversionMaps(account=D365_CONTACT_MAP)


def test_a_field_map_round_trips_through_the_converter(converter: LeadkitConverter) -> None:
    fmap = FieldMap(RecordKind.ACCOUNT, [FieldMapping("company", "name")])
    assert converter.structure(converter.unstructure(fmap), FieldMap) == fmap


def test_a_bad_map_in_stored_data_is_refused_when_loaded(converter: LeadkitConverter) -> None:
    data = {"kind": "account", "mappings": [{"source": "rating", "target": "name"}]}
    with pytest.raises((ConfigurationError, InvalidValue)):
        converter.structure(data, FieldMap)


def test_the_d365_contact_map_copies_the_person_fields_of_the_lead() -> None:
    # _contact_map builds D365_CONTACT_MAP when leadkit.policies is imported; called again here.
    same = (
        "name.salutation", "name.first", "name.middle", "name.last", "name.suffix", "job_title",
        "company", "business_phone", "mobile_phone", "email", "address", "source", "owner",
    )  # fmt: skip
    built = _contact_map()

    assert built.kind is RecordKind.CONTACT
    assert built.mappings == tuple(FieldMapping(path, path) for path in same)
    assert built == D365_CONTACT_MAP


def test_a_registry_check_normalises_an_allowed_code_and_names_the_field_otherwise() -> None:
    closed = CurrencyRegistry("SEK", {"EUR": Decimal("0.087")}, only_listed=True)

    assert closed.check(" eur ") == "EUR"
    assert CurrencyRegistry("SEK").check("usd", "budget") == "USD"
    for code, field, reason in (
        (978, "currency", "must be an ISO 4217 code such as 'EUR'"),
        ("XXY", "currency", "not an ISO 4217 currency code"),
        ("usd", "currency", "not a currency of this organisation (SEK, EUR)"),
    ):
        with pytest.raises(InvalidValue) as caught:
            closed.check(code)  # type: ignore[arg-type]
        assert (caught.value.field, caught.value.value, caught.value.reason) == (
            field,
            code,
            reason,
        )
    with pytest.raises(InvalidValue) as named:
        closed.check("usd", "budget")
    assert named.value.field == "budget"


def test_converting_to_an_unknown_currency_names_both_and_the_field() -> None:
    registry = CurrencyRegistry("SEK", {"EUR": Decimal("0.087")})

    with pytest.raises(CurrencyMismatch) as caught:
        registry.convert(Money("10", "EUR"), "USD")

    assert caught.value.field == "amount"
    assert "EUR" in str(caught.value)
    assert "USD" in str(caught.value)


# Every refusal names what was refused and why ------------------------------------------------


def _refusal(build: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(ConfigurationError) as caught:
        build()
    return caught.value.what, caught.value.reason


@pytest.mark.parametrize(
    ("build", "what", "reason"),
    [
        (
            lambda: ExchangeRate("SEK", True),
            "exchange rate",
            "True must be a Decimal (not a float)",
        ),
        (lambda: ExchangeRate("SEK", 1.5), "exchange rate", "1.5 must be a Decimal (not a float)"),
        (lambda: ExchangeRate("SEK", "abc"), "exchange rate", "'abc' is not a number"),
        (lambda: ExchangeRate("SEK", Decimal(0)), "exchange rate", "Decimal('0') must be positive"),
        (lambda: ExchangeRate("SEK", -2), "exchange rate", "-2 must be positive"),
        (lambda: ExchangeRate("SEK", "NaN"), "exchange rate", "'NaN' must be positive"),
        (lambda: ExchangeRate("SEK", "Infinity"), "exchange rate", "'Infinity' must be positive"),
        (
            lambda: ExchangeRate("QQQ", 1),
            "exchange rate",
            "'QQQ' is not an ISO 4217 currency code",
        ),
        (
            lambda: ExchangeRate(752, 1),  # type: ignore[arg-type]
            "exchange rate",
            "752 is not an ISO 4217 currency code",
        ),
        (
            lambda: CurrencyRegistry("XYZ"),
            "currency registry base",
            "'XYZ' is not an ISO 4217 currency code",
        ),
        (
            lambda: CurrencyRegistry(None),  # type: ignore[arg-type]
            "currency registry base",
            "None is not an ISO 4217 currency code",
        ),
        (
            lambda: CurrencyRegistry("EUR", [("SEK", 11)]),  # type: ignore[list-item]
            "currency registry",
            "('SEK', 11) is not an ExchangeRate",
        ),
        (
            lambda: CurrencyRegistry("eur", {"EUR": 1}),
            "currency registry",
            "EUR is the base currency: its rate is 1",
        ),
        (
            lambda: CurrencyRegistry("EUR", {"SEK": 11, "sek": 12}),
            "currency registry",
            "SEK listed twice",
        ),
        (
            lambda: CurrencyRegistry("EUR", only_listed="yes"),  # type: ignore[arg-type]
            "currency registry",
            "only_listed must be true or false",
        ),
    ],
    ids=[
        "bool rate",
        "float rate",
        "text rate",
        "zero rate",
        "negative rate",
        "NaN rate",
        "infinite rate",
        "unknown rate code",
        "numeric rate code",
        "unknown base",
        "no base",
        "not an ExchangeRate",
        "rate for the base",
        "listed twice",
        "only_listed not a bool",
    ],
)
def test_a_bad_currency_setting_is_refused_naming_what_and_why(
    build: Callable[[], object], what: str, reason: str
) -> None:
    assert _refusal(build) == (what, reason)


def test_exchange_rates_accept_decimals_ints_and_decimal_text_and_normalise_the_code() -> None:
    assert ExchangeRate(" sek ", "11.5") == ExchangeRate("SEK", Decimal("11.5"))
    assert ExchangeRate("SEK", 3).per_base == Decimal(3)
    assert ExchangeRate("SEK", "0.0001").per_base == Decimal("0.0001")  # any positive rate
    assert CurrencyRegistry(" eur ").base == "EUR"


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ({"mode": "auto"}, "mode must be one of AUTO_CREATE, PROMPT"),
        ({"notes": "copy"}, "notes must be one of LINK, COPY, NONE"),
        ({"duplicates": True}, "duplicates must be one of WARN, BLOCK, IGNORE"),
        ({"currencies": "EUR"}, "currencies must be a registry"),
        ({"maps": D365_ACCOUNT_MAP}, "maps must be ConversionMaps"),
        ({"prospects_on_disqualify": "yes"}, "prospects_on_disqualify must be true or false"),
        (
            {
                "currencies": CurrencyRegistry("SEK", {"EUR": 1, "NOK": 1}, only_listed=True),
                "default_currency": "usd",
            },
            "default currency USD is not in the registry (SEK, EUR, NOK)",
        ),
    ],
)
def test_a_bad_policy_setting_is_refused_naming_the_setting_and_the_choices(
    setting: dict[str, object], reason: str
) -> None:
    assert _refusal(lambda: QualificationPolicy(**setting)) == (  # type: ignore[arg-type]
        "qualification policy",
        reason,
    )


def test_an_unknown_default_currency_is_refused_as_the_policy_default_currency() -> None:
    assert _refusal(lambda: QualificationPolicy(default_currency="XXY")) == (
        "qualification policy default currency",
        "'XXY' is not an ISO 4217 currency code",
    )


@pytest.mark.parametrize(
    ("build", "what", "reason"),
    [
        (
            lambda: FieldMap(RecordKind.ACCOUNT, "company"),  # type: ignore[arg-type]
            "field map",
            "give a sequence of (source, target) pairs",
        ),
        (
            lambda: FieldMap(RecordKind.ACCOUNT, [("company",)]),  # type: ignore[list-item]
            "field map",
            "('company',) is not a (source, target) pair",
        ),
        (
            lambda: FieldMap(RecordKind.ACCOUNT, [("company", "name", "website")]),  # type: ignore[list-item]
            "field map",
            "('company', 'name', 'website') is not a (source, target) pair",
        ),
        (
            lambda: FieldMap("account", [("company", "name")]),  # type: ignore[arg-type]
            "field map",
            "'account' is not a RecordKind",
        ),
        (
            lambda: ConversionMaps(contact=D365_ACCOUNT_MAP),
            "conversion maps",
            "the contact map must be a FieldMap for contact",
        ),
        (
            lambda: ConversionMaps(opportunity="topic -> name"),  # type: ignore[arg-type]
            "conversion maps",
            "the opportunity map must be a FieldMap for opportunity",
        ),
    ],
    ids=[
        "text",
        "not a pair",
        "three",
        "kind not a RecordKind",
        "map for another record",
        "not a map",
    ],
)
def test_a_malformed_map_is_refused_naming_what_and_why(
    build: Callable[[], object], what: str, reason: str
) -> None:
    assert _refusal(build) == (what, reason)


@pytest.mark.parametrize(
    ("kind", "mapping", "reason"),
    [
        (
            RecordKind.ACCOUNT,
            ("shoe_size", "description"),
            "'shoe_size' is not a mappable lead field",
        ),
        (
            RecordKind.ACCOUNT,
            ("company.upper", "description"),
            "'company.upper' is not a mappable lead field",
        ),
        (
            RecordKind.ACCOUNT,
            ("company", "id"),
            "'id' is set by the conversion and cannot be mapped",
        ),
        (
            RecordKind.OPPORTUNITY,
            ("company", "customer.id"),
            "'customer.id' is set by the conversion and cannot be mapped",
        ),
        (
            RecordKind.OPPORTUNITY,
            ("company", "customer.id.value"),
            "'customer.id.value' is set by the conversion and cannot be mapped",
        ),
        (RecordKind.ACCOUNT, ("description", "slogan"), "'slogan' is not a field of Account"),
        (
            RecordKind.CONTACT,
            ("company", "name.first.upper"),
            "'name.first.upper' is not a field of Contact",
        ),
        (
            RecordKind.ACCOUNT,
            ("rating", "description"),
            "rating -> description: a None | Rating cannot fill a str",
        ),
    ],
    ids=[
        "unknown source",
        "source below a plain value",
        "reserved target",
        "below a reserved target",
        "deep below a reserved target",
        "unknown target",
        "target below a plain value",
        "other type",
    ],
)
def test_a_bad_mapping_is_refused_naming_the_record_map_and_the_mapping(
    kind: RecordKind, mapping: tuple[str, str], reason: str
) -> None:
    required = {RecordKind.ACCOUNT: ("company", "name"), RecordKind.CONTACT: ("name", "name")}
    first = required.get(kind, ("topic", "name"))
    what = f"{kind.value} field map"
    assert _refusal(lambda: FieldMap(kind, [first, mapping])) == (what, reason)


@pytest.mark.parametrize(
    "targets",
    [("address", "address.city"), ("address.city", "address"), ("address.city", "address.city")],
)
def test_overlapping_targets_are_refused_whichever_comes_first(
    targets: tuple[str, str],
) -> None:
    first, second = targets
    assert _refusal(
        lambda: FieldMap(
            RecordKind.ACCOUNT, [("company", "name"), (first, first), (second, second)]
        )
    ) == (
        "account field map",
        f"two sources for one target: {second!r} is already filled through {first!r}",
    )


def test_sibling_targets_with_a_common_prefix_do_not_overlap() -> None:
    fmap = FieldMap(RecordKind.ACCOUNT, [("company", "name"), ("address.city", "address.city")])
    assert fmap.targets == ("name", "address.city")


def test_a_map_without_its_required_field_names_the_record_map() -> None:
    assert _refusal(lambda: FieldMap(RecordKind.OPPORTUNITY, [("need", "need")])) == (
        "opportunity field map",
        "nothing fills the opportunity name",
    )


def test_a_type_is_named_by_its_members_and_an_unnamed_one_by_its_repr() -> None:
    assert _members(Optional[int]) == frozenset({int, NoneType})  # noqa: UP045 (typing.Union form)
    assert _members(int | None) == frozenset({int, NoneType})
    assert _members(str) == frozenset({str})
    assert _type_name(Union[ForwardRef("Later"), None]) == "ForwardRef('Later') | None"  # noqa: UP007


def test_policy_describes_every_setting_of_a_full_policy() -> None:
    policy = QualificationPolicy(
        mode=QualifyMode.PROMPT,
        currencies=CurrencyRegistry("EUR", {"SEK": 11, "USD": 1}),
        default_currency="SEK",
        duplicates=DuplicateHandling.BLOCK,
        prospects_on_disqualify=True,
    )
    rows = policy.describe()
    assert rows[:7] == (
        ("mode", "PROMPT"),
        ("base currency", "EUR"),
        ("other currencies", "SEK, USD"),
        ("default currency", "SEK"),
        ("notes carry-over", "LINK"),
        ("duplicates", "BLOCK"),
        ("prospects on disqualify", "yes"),
    )
    assert rows[7] == ("account map", "; ".join(D365_ACCOUNT_MAP.describe()))
    assert [name for name, _ in rows[7:]] == ["account map", "contact map", "opportunity map"]


def test_policy_describes_unset_settings_with_a_dash() -> None:
    rows = dict(DEFAULT_POLICY.describe())
    assert rows["other currencies"] == "-"
    assert rows["default currency"] == "-"
    assert rows["prospects on disqualify"] == "no"
    assert rows["account map"] == (
        "company -> name; website -> website; business_phone -> business_phone; "
        "address -> address; owner -> owner"
    )
    one_other = QualificationPolicy(currencies=CurrencyRegistry("EUR", {"SEK": 11}))
    assert dict(one_other.describe())["other currencies"] == "SEK"
