"""Scoring predicates: every operator, its edges, its configuration errors and its JSON form."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest

from leadkit import (
    Budget,
    ConfigurationError,
    ContactId,
    InvalidValue,
    Lead,
    LeadId,
    LeadkitConverter,
    LeadPatch,
    LeadSource,
    Money,
    Need,
    OptionValue,
    PhoneNumber,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
    UserRef,
    make_converter,
)
from leadkit.fields import custom_kind
from leadkit.scoring import (
    SCORABLE_FIELDS,
    AllOf,
    AnyOf,
    AtLeast,
    AtMost,
    Contains,
    Equals,
    IsSet,
    Not,
    OneOf,
    Predicate,
    ScoringFieldKind,
    Ticked,
    Window,
    WithinDays,
    field_spec,
)
from leadkit.scoring.codec import predicate_from_data, predicate_to_data
from leadkit.scoring.predicates import (
    ScorableField,
    _fields,
    compile_predicate,
    field_reader,
)
from leadkit.values import currency_exponent

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
USER = UserRef("u1", "Ada")


def make_lead(**fields: Any) -> Lead:
    fields.setdefault("topic", "Fleet renewal")
    fields.setdefault("name", "Ada Lovelace")
    return Lead.create(LeadId("l1"), LeadPatch(**fields), at=AT, by=USER)


def holds(predicate: Predicate, lead: Lead, at: datetime = AT) -> bool:
    return compile_predicate(predicate, "crit")(lead, at)


# ---------------------------------------------------------------------------------------------
# Ticked and IsSet


def test_ticked_is_met_only_when_the_criterion_itself_is_ticked() -> None:
    lead = make_lead()
    assert not holds(Ticked(), lead)
    assert holds(Ticked(), lead.tick_criterion("crit", at=AT, by=USER))
    assert not holds(Ticked(), lead.tick_criterion("other", at=AT, by=USER))


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        ("company", {"company": "ACME"}),
        ("budget", {"budget": Budget.CAN_BUY}),
        ("email", {"email": "ada@example.com"}),
        ("business_phone", {"business_phone": "+46 8 123 456 78"}),
        ("estimated_value", {"estimated_value": Money("10", "EUR")}),
        ("estimated_close_date", {"estimated_close_date": date(2024, 6, 1)}),
        ("address.country", {"address": None}),
        ("custom_fields.segment", {"custom_fields": {"segment": "Retail"}}),
    ],
)
def test_is_set_is_met_by_a_value_and_not_by_its_absence(
    field: str, fields: dict[str, Any]
) -> None:
    if field == "address.country":
        from leadkit import Address

        fields = {"address": Address(country="Sweden")}
    assert holds(IsSet(field), make_lead(**fields))
    assert not holds(IsSet(field), make_lead())


def test_is_set_counts_stakeholders_notes_and_activities() -> None:
    lead = make_lead()
    assert not holds(IsSet("stakeholders"), lead)
    lead = lead.add_stakeholder(ContactId("c1"), at=AT, by=USER)
    assert holds(IsSet("stakeholders"), lead)
    assert holds(AtLeast("stakeholders", 1), lead)
    assert not holds(AtLeast("stakeholders", 2), lead)


def test_blank_custom_text_is_not_set() -> None:
    assert not holds(IsSet("custom_fields.segment"), make_lead(custom_fields={"segment": "  "}))


# ---------------------------------------------------------------------------------------------
# Equals and OneOf


@pytest.mark.parametrize("value", [Budget.WILL_BUY, 3, "3", "WILL_BUY", "Will Buy", "will buy"])
def test_equals_on_an_option_accepts_a_member_code_name_or_label(value: object) -> None:
    predicate = Equals("budget", value)  # type: ignore[arg-type]
    assert predicate.value is Budget.WILL_BUY
    assert holds(predicate, make_lead(budget=Budget.WILL_BUY))
    assert not holds(predicate, make_lead(budget=Budget.CAN_BUY))
    assert not holds(predicate, make_lead())


def test_equals_on_text_is_trimmed_and_case_insensitive() -> None:
    assert holds(Equals("company", "  acme "), make_lead(company="ACME"))
    assert not holds(Equals("company", "acme"), make_lead(company="ACME Corp"))
    assert not holds(Equals("company", "acme"), make_lead())


def test_equals_on_email_reads_the_address_as_typed() -> None:
    assert holds(Equals("email", "Ada@Example.com"), make_lead(email="ada@example.com"))


def test_equals_on_a_custom_field_compares_with_the_type() -> None:
    lead = make_lead(custom_fields={"seats": Decimal("1"), "tier": OptionValue(2, "Gold")})
    assert holds(Equals("custom_fields.seats", Decimal("1")), lead)
    assert not holds(Equals("custom_fields.seats", 1), lead)
    assert holds(Equals("custom_fields.tier", OptionValue(2)), lead)
    assert not holds(Equals("custom_fields.tier", OptionValue(3)), lead)
    assert not holds(Equals("custom_fields.missing", 1), lead)


def test_one_of_is_met_by_any_listed_value_and_drops_duplicates() -> None:
    predicate = OneOf("source", [LeadSource.PARTNER, "partner", LeadSource.WEB])
    assert predicate.values == (LeadSource.PARTNER, LeadSource.WEB)
    assert holds(predicate, make_lead(source=LeadSource.WEB))
    assert not holds(predicate, make_lead(source=LeadSource.SEMINAR))
    assert not holds(predicate, make_lead())


def test_one_of_on_text_and_custom_values() -> None:
    assert holds(OneOf("company", ["acme", "globex"]), make_lead(company="Globex"))
    lead = make_lead(custom_fields={"segment": "Retail"})
    assert holds(OneOf("custom_fields.segment", ["retail", 3]), lead)
    assert not holds(OneOf("custom_fields.segment", ["public"]), lead)


# ---------------------------------------------------------------------------------------------
# Numbers


def test_at_least_and_at_most_include_their_limit() -> None:
    lead = make_lead(estimated_value=Money("10000", "EUR"))
    assert holds(AtLeast("estimated_value", 10000), lead)
    assert not holds(AtLeast("estimated_value", "10000.01"), lead)
    assert holds(AtMost("estimated_value", Decimal(10000)), lead)
    assert not holds(AtMost("estimated_value", "9999.99"), lead)


def test_an_amount_in_another_currency_does_not_meet_a_currency_limit() -> None:
    lead = make_lead(estimated_value=Money("10000", "USD"))
    assert not holds(AtLeast("estimated_value", 5000, currency="eur"), lead)
    assert holds(AtLeast("estimated_value", 5000, currency="USD"), lead)
    assert not holds(AtMost("estimated_value", 50000, currency="EUR"), lead)
    assert AtLeast("estimated_value", 1, currency=" eur ").currency == "EUR"


def test_a_missing_amount_meets_neither_limit() -> None:
    lead = make_lead()
    assert not holds(AtLeast("budget_amount", 0), lead)
    assert not holds(AtMost("budget_amount", 0), lead)
    assert holds(Not(AtLeast("budget_amount", 0)), lead)


def test_custom_numbers_compare_and_other_custom_values_do_not() -> None:
    lead = make_lead(custom_fields={"seats": 12, "flag": True, "name": "x"})
    assert holds(AtLeast("custom_fields.seats", 12), lead)
    assert holds(AtMost("custom_fields.seats", Decimal("12.5")), lead)
    assert not holds(AtLeast("custom_fields.flag", 0), lead)
    assert not holds(AtLeast("custom_fields.name", 0), lead)


# ---------------------------------------------------------------------------------------------
# Dates


@pytest.mark.parametrize(
    ("offset", "window", "met"),
    [
        (0, Window.AHEAD, True),
        (30, Window.AHEAD, True),
        (31, Window.AHEAD, False),
        (-1, Window.AHEAD, False),
        (0, Window.BEHIND, True),
        (-30, Window.BEHIND, True),
        (-31, Window.BEHIND, False),
        (1, Window.BEHIND, False),
        (30, Window.AROUND, True),
        (-30, Window.AROUND, True),
        (31, Window.AROUND, False),
    ],
)
def test_within_days_counts_calendar_days_from_the_scoring_date(
    offset: int, window: Window, met: bool
) -> None:
    lead = make_lead(estimated_close_date=AT.date() + timedelta(days=offset))
    assert holds(WithinDays("estimated_close_date", 30, window), lead) is met


def test_within_days_reads_a_datetime_in_the_scoring_time_zone() -> None:
    created = datetime(2024, 4, 30, 23, 30, tzinfo=UTC)  # 1 May in UTC+2
    lead = Lead.create(LeadId("l1"), LeadPatch(topic="t", name="Ada Lovelace"), at=created, by=USER)
    plus_two = timezone(timedelta(hours=2))
    at = datetime(2024, 5, 1, 9, 0, tzinfo=plus_two)
    assert holds(WithinDays("created_at", 0, Window.BEHIND), lead, at)
    assert not holds(WithinDays("created_at", 0, Window.BEHIND), lead, at.astimezone(UTC))


def test_within_days_is_not_met_without_a_date() -> None:
    assert not holds(WithinDays("estimated_close_date", 365), make_lead())
    lead = make_lead(custom_fields={"renewal": date(2024, 5, 3), "label": "x"})
    assert holds(WithinDays("custom_fields.renewal", 2, Window.AHEAD), lead)
    assert not holds(WithinDays("custom_fields.label", 2), lead)


# ---------------------------------------------------------------------------------------------
# Text and combinations


def test_contains_is_case_insensitive() -> None:
    lead = make_lead(job_title="Chief Procurement Officer")
    assert holds(Contains("job_title", "procurement"), lead)
    assert not holds(Contains("job_title", "finance"), lead)
    assert not holds(Contains("job_title", "x"), make_lead())


def test_all_of_any_of_and_not_combine() -> None:
    lead = make_lead(budget=Budget.WILL_BUY, need=Need.NO_NEED)
    will_buy = Equals("budget", Budget.WILL_BUY)
    must = Equals("need", Need.MUST_HAVE)
    assert not holds(AllOf([will_buy, must]), lead)
    assert holds(AllOf([will_buy, Not(must)]), lead)
    assert holds(AnyOf([must, will_buy]), lead)
    assert not holds(AnyOf([must, Not(will_buy)]), lead)
    assert holds(AnyOf([Ticked(), will_buy]), lead)


def test_walk_and_uses_tick_see_nested_predicates() -> None:
    predicate = AllOf([IsSet("email"), AnyOf([Ticked(), IsSet("company")])])
    assert predicate.uses_tick()
    assert len(list(predicate.walk())) == 5
    assert not IsSet("email").uses_tick()
    assert "email is set" in predicate.describe()


# ---------------------------------------------------------------------------------------------
# Refused when built


@pytest.mark.parametrize(
    "build",
    [
        lambda: IsSet("no_such_field"),
        lambda: IsSet("custom_fields.Bad-Name"),
        lambda: Equals("budget", "maybe"),
        lambda: Equals("company", ""),
        lambda: Equals("company", 3),
        lambda: Equals("estimated_value", 3),
        lambda: Equals("custom_fields.x", 1.5),  # type: ignore[arg-type]
        lambda: OneOf("budget", []),
        lambda: AtLeast("company", 1),
        lambda: AtLeast("estimated_value", 1.5),
        lambda: AtLeast("estimated_value", "lots"),
        lambda: AtLeast("estimated_value", "NaN"),
        lambda: AtLeast("stakeholders", 1, currency="EUR"),
        lambda: AtMost("estimated_value", 1, currency="XYZ"),
        lambda: WithinDays("company", 3),
        lambda: WithinDays("estimated_close_date", -1),
        lambda: WithinDays("estimated_close_date", 1.5),  # type: ignore[arg-type]
        lambda: Contains("budget", "x"),
        lambda: Contains("company", " "),
        lambda: AllOf([]),
        lambda: AnyOf(["not a predicate"]),  # type: ignore[list-item]
        lambda: Not(Ticked()),
        lambda: Not(AnyOf([Ticked(), IsSet("email")])),
    ],
)
def test_a_bad_predicate_is_refused_when_built(build: Any) -> None:
    with pytest.raises(ConfigurationError):
        build()


def test_every_scorable_field_reads_a_real_lead() -> None:
    lead = make_lead(
        email="ada@example.com",
        website="example.com",
        business_phone=PhoneNumber("+46812345678"),
        rating=Rating.HOT,
        estimated_value=Money("1", "EUR"),
    )
    for path, spec in SCORABLE_FIELDS.items():
        assert spec.path == path
        value = field_reader(spec)(lead)
        if spec.kind is ScoringFieldKind.TEXT:
            assert isinstance(value, str)
        holds(IsSet(path), lead)
    assert field_reader(field_spec("business_phone"))(lead) == "+46812345678"
    assert field_reader(field_spec("website"))(lead) == lead.website.text  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# JSON


ALL_KINDS: list[Predicate] = [
    Ticked(),
    IsSet("email"),
    Equals("budget", Budget.CAN_BUY),
    Equals("company", "ACME"),
    Equals("custom_fields.seats", Decimal("2.5")),
    Equals("custom_fields.tier", OptionValue(2, "Gold")),
    Equals("custom_fields.renewal", date(2024, 1, 2)),
    Equals("custom_fields.since", datetime(2024, 1, 2, 3, tzinfo=UTC)),
    Equals("custom_fields.vip", True),
    OneOf("source", [LeadSource.WEB, LeadSource.PARTNER]),
    OneOf("custom_fields.segment", ["Retail", 7]),
    AtLeast("estimated_value", "1000.50", currency="EUR"),
    AtMost("stakeholders", 3),
    WithinDays("estimated_close_date", 90, Window.AHEAD),
    Contains("job_title", "chief"),
    AllOf([IsSet("email"), AnyOf([Ticked(), Not(IsSet("company"))])]),
]


@pytest.fixture(scope="module")
def converter() -> LeadkitConverter:
    return make_converter()


@pytest.mark.parametrize("predicate", ALL_KINDS, ids=lambda p: type(p).__name__)
def test_every_predicate_survives_a_json_round_trip(
    predicate: Predicate, converter: LeadkitConverter
) -> None:
    assert converter.loads(converter.dumps(predicate), type(predicate)) == predicate
    assert converter.structure(converter.unstructure(predicate), Predicate) == predicate
    assert predicate_from_data(predicate_to_data(predicate)) == predicate


def test_options_are_written_by_name_and_read_by_name_code_or_label() -> None:
    assert predicate_to_data(Equals("budget", Budget.WILL_BUY)) == {
        "op": "equals",
        "field": "budget",
        "value": "WILL_BUY",
    }
    for written in ("WILL_BUY", 3, "Will Buy"):
        data = {"op": "equals", "field": "budget", "value": written}
        assert predicate_from_data(data) == Equals("budget", Budget.WILL_BUY)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"op": "nope"}, "op"),
        ({"op": "is_set"}, "field"),
        ({"op": "is_set", "field": "email", "extra": 1}, "extra"),
        ({"op": "is_set", "field": "nowhere"}, "field"),
        ({"op": "all_of", "of": [{"op": "is_set", "field": "email"}, {"op": "x"}]}, "of[1].op"),
        ({"op": "not", "predicate": {"op": "is_set", "field": 3}}, "predicate.field"),
        ({"op": "within_days", "field": "created_at", "days": 3, "window": "sideways"}, "window"),
        (
            {"op": "equals", "field": "custom_fields.x", "value": {"type": "blob", "value": 1}},
            "value.type",
        ),
        (
            {"op": "equals", "field": "custom_fields.x", "value": {"type": "decimal", "value": 1}},
            "value.value",
        ),
    ],
)
def test_malformed_predicate_data_names_the_bad_key(data: object, path: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        predicate_from_data(data)
    assert caught.value.field == path


def test_a_predicate_the_registry_refuses_is_an_invalid_value_when_read(
    converter: LeadkitConverter,
) -> None:
    with pytest.raises(InvalidValue, match="one_of"):
        predicate_from_data({"op": "one_of", "field": "budget", "values": []})
    with pytest.raises(InvalidValue):
        converter.structure({"op": "is_set", "field": "email"}, Equals)


# ---------------------------------------------------------------------------------------------
# The scorable fields (built by _fields when the module is imported; called again here)

_TEXT_FIELDS = (
    "topic", "job_title", "company", "initiated_by", "description", "name.first", "name.last",
    "name.full", "address.city", "address.state_or_province", "address.postal_code",
    "address.country", "email", "website", "business_phone", "mobile_phone", "owner.id",
)  # fmt: skip


def test_the_scorable_fields_are_the_lead_fields_a_criterion_may_read() -> None:
    kind = ScoringFieldKind
    expected = {
        **{path: ScorableField(path, kind.TEXT) for path in _TEXT_FIELDS},
        "source": ScorableField("source", kind.OPTION, LeadSource),
        "rating": ScorableField("rating", kind.OPTION, Rating),
        "budget": ScorableField("budget", kind.OPTION, Budget),
        "need": ScorableField("need", kind.OPTION, Need),
        "purchase_timeframe": ScorableField("purchase_timeframe", kind.OPTION, PurchaseTimeframe),
        "purchase_process": ScorableField("purchase_process", kind.OPTION, PurchaseProcess),
        "budget_amount": ScorableField("budget_amount", kind.MONEY),
        "estimated_value": ScorableField("estimated_value", kind.MONEY),
        "estimated_close_date": ScorableField("estimated_close_date", kind.DATE),
        "created_at": ScorableField("created_at", kind.DATETIME),
        "modified_at": ScorableField("modified_at", kind.DATETIME),
        "stakeholders": ScorableField("stakeholders", kind.COUNT),
        "notes": ScorableField("notes", kind.COUNT),
        "activities": ScorableField("activities", kind.COUNT),
    }

    assert _fields() == expected
    assert dict(SCORABLE_FIELDS) == expected


# ---------------------------------------------------------------------------------------------
# Descriptions


@pytest.mark.parametrize(
    ("predicate", "text"),
    [
        (Ticked(), "ticked by a user"),
        (IsSet("email"), "email is set"),
        (Equals("rating", "hot"), "rating = Hot"),
        (Equals("topic", " Printers "), "topic = 'Printers'"),
        (
            Equals("custom_fields.segment", OptionValue(3, "Retail")),
            "custom_fields.segment = Retail",
        ),
        (Equals("custom_fields.segment", OptionValue(3)), "custom_fields.segment = 3"),
        (Equals("custom_fields.size", Decimal("10.5")), "custom_fields.size = 10.5"),
        (OneOf("rating", ["Hot", "Warm"]), "rating in (Hot, Warm)"),
        (OneOf("company", ["Contoso", "Fabrikam"]), "company in ('Contoso', 'Fabrikam')"),
        (AtLeast("budget_amount", 100, "eur"), "budget_amount >= 100 EUR"),
        (AtLeast("stakeholders", 2), "stakeholders >= 2"),
        (AtMost("budget_amount", "5000", "SEK"), "budget_amount <= 5000 SEK"),
        (AtMost("notes", 3), "notes <= 3"),
        (
            WithinDays("estimated_close_date", 30, Window.AHEAD),
            "estimated_close_date within 30 days ahead",
        ),
        (Contains("company", " Contoso "), "company contains 'Contoso'"),
        (AllOf([IsSet("email"), Ticked()]), "(email is set and ticked by a user)"),
        (AnyOf([IsSet("email"), Ticked()]), "(email is set or ticked by a user)"),
        (Not(IsSet("email")), "not email is set"),
    ],
)
def test_each_predicate_describes_itself(predicate: Predicate, text: str) -> None:
    assert predicate.describe() == text


# ---------------------------------------------------------------------------------------------
# Refusals say why


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda: OneOf("budget", []), "one_of on 'budget' needs at least one value"),
        (
            lambda: AtMost("company", 1),
            "at_most does not apply to text field 'company' (money, count, custom)",
        ),
        (
            lambda: AtLeast("company", 1),
            "at_least does not apply to text field 'company' (money, count, custom)",
        ),
        (
            lambda: WithinDays("company", 3),
            "within_days does not apply to text field 'company' (date, datetime, custom)",
        ),
        (
            lambda: WithinDays("estimated_close_date", 1.5),  # type: ignore[arg-type]
            "days must be a whole number, not 1.5",
        ),
        (
            lambda: Contains("budget", "x"),
            "contains does not apply to option field 'budget' (text, custom)",
        ),
        (lambda: Contains("company", " "), "contains on 'company' needs non-empty text"),
        (
            lambda: AtLeast("estimated_value", 1.5),
            "a limit must be a Decimal, an int or a decimal string, not 1.5",
        ),
        (lambda: AtLeast("estimated_value", "lots"), "'lots' is not a decimal number"),
        (
            lambda: AtLeast("stakeholders", 1, currency="EUR"),
            "a currency applies only to amount fields, not 'stakeholders'",
        ),
        (lambda: Equals("company", 3), "'company' compares with non-empty text, not 3"),
        (lambda: Equals("custom_fields.x", "  "), "'custom_fields.x' compares with non-empty text"),
        (
            lambda: Equals("custom_fields.x", Decimal("NaN")),
            "'custom_fields.x': a number must be finite",
        ),
        (
            lambda: Equals("estimated_value", 3),
            "equals / one_of do not apply to money field 'estimated_value'",
        ),
        (
            lambda: WithinDays("estimated_close_date", 36501),
            "days must be from 0 to 36500, not 36501",
        ),
        (
            lambda: WithinDays("estimated_close_date", 3, "ahead"),  # type: ignore[arg-type]
            "window must be a Window, not 'ahead'",
        ),
        (lambda: AtLeast("estimated_value", "Infinity"), "a limit must be finite, not 'Infinity'"),
        (
            lambda: IsSet("nmae"),
            "unknown field 'nmae'; scorable fields: "
            + ", ".join(sorted(SCORABLE_FIELDS))
            + ", custom_fields.<name>",
        ),
        (lambda: AllOf([]), "all_of needs at least one predicate"),
        (lambda: AnyOf([]), "any_of needs at least one predicate"),
        (lambda: AnyOf(["x"]), "any_of combines predicates, not 'x'"),  # type: ignore[list-item]
        (lambda: AllOf([Predicate()]), "all_of combines predicates, not Predicate()"),
        (lambda: Not(Predicate()), "not combines predicates, not Predicate()"),
        (
            lambda: Not(Ticked()),
            "not(ticked) is refused: ticking a criterion must never lower a score",
        ),
    ],
)
def test_a_refused_predicate_names_the_rule_it_breaks(build: Any, reason: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build()

    assert (caught.value.what, caught.value.reason) == ("predicate", reason)


@pytest.mark.parametrize("currency", ["XYZ", 978])
def test_a_limit_in_an_unknown_currency_says_why(currency: Any) -> None:
    with pytest.raises(InvalidValue) as unknown:
        currency_exponent(currency)
    with pytest.raises(ConfigurationError) as caught:
        AtMost("estimated_value", 1, currency=currency)

    assert (caught.value.what, caught.value.reason) == ("predicate", str(unknown.value))


@pytest.mark.parametrize("field", ["email", "website", "business_phone", "mobile_phone"])
def test_a_missing_email_website_or_phone_reads_as_empty_text(field: str) -> None:
    assert not holds(Contains(field, "x"), make_lead())
    assert not holds(Equals(field, "x"), make_lead())


def test_an_option_or_custom_value_the_field_cannot_hold_says_why() -> None:
    with pytest.raises(InvalidValue) as option:
        Budget.parse("maybe", "budget")
    with pytest.raises(InvalidValue) as custom:
        custom_kind(1.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError) as bad_option:
        Equals("budget", "maybe")
    with pytest.raises(ConfigurationError) as bad_custom:
        Equals("custom_fields.x", 1.5)  # type: ignore[arg-type]

    assert bad_option.value.reason == str(option.value)
    assert bad_custom.value.reason == f"'custom_fields.x': {custom.value.reason}"


def test_a_custom_text_operand_is_trimmed() -> None:
    assert Equals("custom_fields.segment", " Retail ").value == "Retail"


def test_within_days_accepts_up_to_a_hundred_years() -> None:
    assert WithinDays("estimated_close_date", 36500).days == 36500


def test_one_of_on_a_custom_number_compares_numbers() -> None:
    assert holds(OneOf("custom_fields.seats", [12, 13]), make_lead(custom_fields={"seats": 12}))
    assert not holds(OneOf("custom_fields.seats", [12, 13]), make_lead())


def test_a_tick_inside_all_of_or_any_of_is_the_criterion_s_own() -> None:
    lead = make_lead().tick_criterion("crit", at=AT, by=USER)

    assert holds(AllOf([Ticked(), IsSet("topic")]), lead)
    assert holds(AnyOf([Ticked(), IsSet("email")]), lead)


def test_a_predicate_of_an_unknown_kind_cannot_be_compiled() -> None:
    @attrs.frozen
    class Odd(Predicate):
        def describe(self) -> str:
            return "odd"

    with pytest.raises(ConfigurationError) as caught:
        compile_predicate(Odd(), "crit")

    assert (caught.value.what, caught.value.reason) == ("predicate", f"cannot compile {Odd()!r}")


def test_contains_applies_to_custom_text() -> None:
    lead = make_lead(custom_fields={"segment": "Retail banking"})

    assert holds(Contains("custom_fields.segment", "BANK"), lead)


# ---------------------------------------------------------------------------------------------
# Limits include their boundary for every kind


def test_a_currency_limit_includes_its_boundary() -> None:
    lead = make_lead(estimated_value=Money("10000", "EUR"))

    assert holds(AtLeast("estimated_value", 10000, currency="EUR"), lead)
    assert holds(AtMost("estimated_value", 10000, currency="EUR"), lead)
    assert not holds(AtMost("estimated_value", "9999.99", currency="EUR"), lead)


def test_a_count_limit_includes_its_boundary() -> None:
    lead = make_lead()  # no stakeholders
    assert holds(AtMost("stakeholders", 0), lead)
    assert holds(AtLeast("stakeholders", 0), lead)
    assert not holds(AtLeast("stakeholders", 1), lead)


def test_a_custom_number_limit_includes_its_boundary() -> None:
    lead = make_lead(custom_fields={"seats": 12, "name": "x"})

    assert holds(AtMost("custom_fields.seats", 12), lead)
    assert not holds(AtMost("custom_fields.seats", 11), lead)
    assert not holds(AtMost("custom_fields.name", 100), lead)


def test_within_days_reads_a_custom_datetime_in_the_scoring_time_zone() -> None:
    late = datetime(2024, 4, 30, 23, 30, tzinfo=UTC)  # 1 May in UTC+5
    lead = make_lead(custom_fields={"visit": late})
    plus_five = timezone(timedelta(hours=5))

    assert holds(
        WithinDays("custom_fields.visit", 0), lead, datetime(2024, 5, 1, 9, tzinfo=plus_five)
    )
    assert not holds(
        WithinDays("custom_fields.visit", 0), lead, datetime(2024, 5, 1, 9, tzinfo=UTC)
    )


# ---------------------------------------------------------------------------------------------
# all_of / any_of over one, two and many predicates: every truth table


@pytest.mark.parametrize(
    "truths", [t for n in (1, 2, 3, 4) for t in itertools.product((False, True), repeat=n)]
)
def test_all_of_needs_every_predicate_and_any_of_needs_one(truths: tuple[bool, ...]) -> None:
    lead = make_lead(estimated_close_date=AT.date())
    met = WithinDays("estimated_close_date", 0)  # reads the scoring time: it must be passed on
    children = [met if truth else Not(met) for truth in truths]

    assert holds(AllOf(children), lead) is all(truths)
    assert holds(AnyOf(children), lead) is any(truths)
