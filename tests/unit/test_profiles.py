"""Specification of required-field profiles (leadkit.profiles)."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest

from leadkit.errors import ConfigurationError, FieldProblem, InvalidValue
from leadkit.fields import CustomFields
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.profiles import (
    BCM_PROFILE,
    D365_LENGTHS,
    D365_PROFILE,
    DEFAULT_PROFILE,
    LENGTHS_PROFILE,
    PROFILES,
    RULE_FIELDS,
    FieldProfile,
    FieldRule,
    _profile,
    field_value,
    is_blank,
    profile_named,
)
from leadkit.values import Address, EmailAddress, LeadId, PersonName, UserRef

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
ANN = UserRef("u1", "Ann")


def _lead(**fields: object) -> Lead:
    """A lead built without any profile check, to hold the profile to."""
    return Lead(
        id=LeadId("L-1"),
        owner=ANN,
        created_at=AT,
        created_by=ANN,
        modified_at=AT,
        modified_by=ANN,
        **fields,  # type: ignore[arg-type]
    )


def _problems(profile: FieldProfile, **fields: object) -> InvalidValue:
    with pytest.raises(InvalidValue) as caught:
        profile.check(_lead(**fields))
    return caught.value


# ---------------------------------------------------------------------------------------------
# Dynamics 365 default


def test_the_default_profile_is_dynamics_365() -> None:
    assert DEFAULT_PROFILE is D365_PROFILE
    assert D365_PROFILE.required_fields == ("topic", "name.last")


def test_d365_accepts_a_lead_with_topic_and_last_name() -> None:
    D365_PROFILE.check(_lead(topic="Printers", name=PersonName(last="Lovelace")))


def test_d365_lists_every_missing_field_in_one_error() -> None:
    error = _problems(D365_PROFILE, name=PersonName(first="Ada"))

    assert error.fields == ("topic", "name.last")
    assert [p.reason for p in error.problems] == ["is required", "is required"]
    assert str(error).startswith("2 invalid fields")


def test_d365_treats_blank_text_as_missing() -> None:
    error = _problems(D365_PROFILE, topic="   ", name=PersonName(last="Lovelace"))

    assert error.fields == ("topic",)


def test_d365_topic_may_hold_at_most_300_characters() -> None:
    D365_PROFILE.check(_lead(topic="t" * 300, name=PersonName(last="Lovelace")))

    error = _problems(D365_PROFILE, topic="t" * 301, name=PersonName(last="Lovelace"))

    assert error.problems == (FieldProblem("topic", "t" * 301, "longer than 300 characters (301)"),)


def test_d365_last_name_may_hold_at_most_50_characters() -> None:
    D365_PROFILE.check(_lead(topic="Printers", name=PersonName(last="L" * 50)))

    error = _problems(D365_PROFILE, topic="Printers", name=PersonName(last="L" * 51))

    assert error.fields == ("name.last",)
    assert error.reason == "longer than 50 characters (51)"


def test_d365_lists_missing_and_too_long_fields_together_required_first() -> None:
    error = _problems(
        D365_PROFILE,
        name=PersonName(first="A" * 51),
        job_title="j" * 101,
        description="d" * 2001,
    )

    assert error.fields == ("topic", "name.last", "name.first", "job_title", "description")


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"company": "c" * 101}, "company"),
        ({"initiated_by": "i" * 101}, "initiated_by"),
        ({"email": EmailAddress("a" * 60 + "@" + "b" * 40 + ".com")}, "email"),
        ({"name": PersonName(last="L", suffix="s" * 11)}, "name.suffix"),
        ({"name": PersonName(salutation="S" * 100, first="F" * 50, last="L" * 10)}, "name.full"),
    ],
)
def test_d365_applies_its_column_lengths_to_every_text_field(
    fields: dict[str, object], path: str
) -> None:
    fields = {"topic": "Printers", "name": PersonName(last="Lovelace"), **fields}

    error = _problems(D365_PROFILE, **fields)

    assert error.fields == (path,)


def test_d365_lengths_are_the_dynamics_365_column_lengths() -> None:
    assert D365_LENGTHS["topic"] == 300
    assert D365_LENGTHS["name.last"] == 50
    assert D365_LENGTHS["name.first"] == 50
    assert D365_LENGTHS["description"] == 2000
    assert D365_LENGTHS["website"] == 200


# ---------------------------------------------------------------------------------------------
# Outlook Business Contact Manager


def test_bcm_requires_only_the_full_name() -> None:
    assert BCM_PROFILE.required_fields == ("name.full",)

    BCM_PROFILE.check(_lead(name=PersonName(first="Ada")))


def test_bcm_refuses_a_lead_without_any_name() -> None:
    error = _problems(BCM_PROFILE, topic="Printers")

    assert error.fields == ("name.full",)
    assert error.reason == "is required"


def test_bcm_still_applies_the_column_lengths() -> None:
    error = _problems(BCM_PROFILE, name=PersonName(last="Lovelace"), topic="t" * 301)

    assert error.fields == ("topic",)


def test_a_lead_can_be_created_under_the_bcm_profile_without_a_topic() -> None:
    lead = Lead.create(LeadId("L-1"), LeadPatch(name="Ada"), at=AT, by=ANN, profile=BCM_PROFILE)

    assert lead.topic == ""
    assert lead.name.last == "Ada"


# ---------------------------------------------------------------------------------------------
# Building rules and profiles


@pytest.mark.parametrize("bad", ["", "nmae.last", "name.nickname", "address.planet", "owner"])
def test_a_field_rule_must_name_a_known_lead_field_when_built(bad: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        FieldRule(bad)

    assert (caught.value.what, caught.value.reason) == (
        "field rule",
        f"unknown lead field {bad!r}; known: {', '.join(RULE_FIELDS)}",
    )


def test_a_field_rule_accepts_every_editable_field_and_name_and_address_part() -> None:
    for path in ("topic", "email", "name.full", "name.first", "address.postal_code"):
        assert FieldRule(path).field == path


@pytest.mark.parametrize("bad", [0, -1])
def test_a_field_rule_length_must_be_positive(bad: int) -> None:
    with pytest.raises(ConfigurationError) as caught:
        FieldRule("topic", max_length=bad)

    assert (caught.value.what, caught.value.reason) == (
        "field rule topic",
        "max_length must be positive",
    )


def test_a_field_rule_may_allow_a_single_character() -> None:
    assert FieldRule("topic", max_length=1).max_length == 1


def test_a_profile_naming_a_field_twice_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        FieldProfile("Twice", [FieldRule("topic", True), FieldRule("topic", max_length=10)])

    assert (caught.value.what, caught.value.reason) == ("profile 'Twice'", "a field is named twice")


def test_a_missing_required_field_reports_the_blank_value_it_found() -> None:
    profile = FieldProfile("Strict", (FieldRule("company", True),))

    (problem,) = profile.problems(_lead(company="   "))

    assert (problem.field, problem.value, problem.reason) == ("company", "   ", "is required")


def test_an_empty_optional_field_is_never_too_long() -> None:
    profile = FieldProfile("Short", (FieldRule("email", max_length=1),))

    assert profile.problems(_lead()) == []


def test_a_preset_profile_requires_its_fields_first_and_keeps_the_d365_lengths() -> None:
    # _profile builds the presets when leadkit.profiles is imported; called again here.
    profile = _profile("Custom", ["name.last", "address.city", "topic"])

    assert profile.name == "Custom"
    assert profile.rules == (
        FieldRule("topic", True, 300),
        FieldRule("name.last", True, 50),
        FieldRule("address.city", True),
        *(
            FieldRule(f, False, n)
            for f, n in D365_LENGTHS.items()
            if f not in {"topic", "name.last"}
        ),
    )


def test_a_custom_profile_checks_its_own_rules() -> None:
    profile = FieldProfile(
        "Strict", (FieldRule("company", True), FieldRule("address.city", True, 5))
    )

    assert profile.required_fields == ("company", "address.city")
    error = _problems(profile, address=Address(city="Stockholm"))
    assert error.fields == ("company", "address.city")
    assert profile.problems(_lead(company="Contoso", address=Address(city="Lund"))) == []


def test_a_profile_rule_naming_an_unknown_field_is_refused_when_built() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown lead field 'nmae\.last'"):
        FieldProfile("Typo", (FieldRule("nmae.last", True),))


# ---------------------------------------------------------------------------------------------
# Helpers


def test_field_value_reads_a_dotted_path_and_the_composed_full_name() -> None:
    lead = _lead(name=PersonName(first="Ada", last="Lovelace"), address=Address(city="Lund"))

    assert field_value(lead, "name.last") == "Lovelace"
    assert field_value(lead, "name.full") == "Ada Lovelace"
    assert field_value(lead, "address.city") == "Lund"


def test_field_value_refuses_an_unknown_path() -> None:
    with pytest.raises(ConfigurationError) as caught:
        field_value(_lead(), "address.planet")

    assert (caught.value.what, caught.value.reason) == (
        "field rule",
        "unknown lead field 'address.planet'",
    )


def test_problems_on_a_record_without_a_ruled_field_refuse_it_as_field_value_does() -> None:
    @attrs.frozen
    class Card:
        company: str

    profile = FieldProfile("Strict", (FieldRule("company", True), FieldRule("address.city")))

    with pytest.raises(ConfigurationError) as caught:
        profile.problems(Card("Contoso"))

    assert caught.value.reason == "unknown lead field 'address.city'"
    assert FieldProfile("Company", (FieldRule("company", True),)).problems(Card(" ")) == [
        FieldProblem("company", " ", "is required")
    ]


@pytest.mark.parametrize(
    ("value", "blank"),
    [
        (None, True),
        ("", True),
        ("  ", True),
        ("x", False),
        (PersonName(), True),
        (PersonName(last="L"), False),
        (Address(), True),
        (Address(city="Lund"), False),
        (CustomFields(), True),
        (CustomFields({"x": 0}), False),
        ((), True),
        (0, False),
        (False, False),
    ],
)
def test_is_blank_knows_empty_values(value: object, blank: bool) -> None:
    assert is_blank(value) is blank


def test_a_shipped_profile_is_found_by_name_and_any_other_name_gives_the_lengths_only() -> None:
    assert PROFILES == {
        "Dynamics 365": D365_PROFILE,
        "Outlook Business Contact Manager": BCM_PROFILE,
    }
    assert profile_named("Dynamics 365") is D365_PROFILE
    assert profile_named("Outlook Business Contact Manager") is BCM_PROFILE
    assert profile_named("Our own") is LENGTHS_PROFILE
    assert LENGTHS_PROFILE.required_fields == ()
    assert {(r.field, r.max_length) for r in LENGTHS_PROFILE.rules} == set(D365_LENGTHS.items())


def test_a_profile_name_must_be_text() -> None:
    with pytest.raises(InvalidValue) as caught:
        profile_named(365)  # type: ignore[arg-type]

    assert (caught.value.field, caught.value.value, caught.value.reason) == (
        "profile",
        365,
        "must be the name of a profile",
    )
