"""Qualification policy, currency registry and field maps: validated when built."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

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
