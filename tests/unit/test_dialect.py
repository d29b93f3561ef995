"""Specification of the API dialect (leadkit.dialect): one input format, a labelled output."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given

from leadkit import (
    Address,
    InvalidValue,
    Lead,
    LeadId,
    LeadSource,
    Money,
    PersonName,
    PhoneNumber,
    Rating,
    UserRef,
    lead_json,
    make_converter,
    parse_lead_fields,
    parse_money,
)
from leadkit.testing.strategies import leads


@pytest.mark.parametrize(
    "given_value",
    [
        {"amount": "5000", "currency": "SEK"},
        {"amount": 5000, "currency": "sek"},
        "5000 SEK",
        ("5000", "SEK"),
        ["5000", "SEK"],
        Money("5000", "SEK"),
    ],
)
def test_money_comes_in_every_documented_form(given_value: object) -> None:
    assert parse_money(given_value, "budget_amount") == Money("5000", "SEK")


@pytest.mark.parametrize(
    ("given_value", "field"),
    [
        ({"amount": 1.5, "currency": "SEK"}, "budget_amount.amount"),
        ({"amount": "1", "currency": "XYZ"}, "budget_amount.currency"),
        ({"amount": "1"}, "budget_amount.currency"),
        ({"amount": "1", "currency": "SEK", "rate": 2}, "budget_amount.rate"),
        ("5000", "budget_amount"),
        (1.5, "budget_amount"),
        ("lots SEK", "budget_amount.amount"),
    ],
)
def test_bad_money_names_the_part(given_value: object, field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_money(given_value, "budget_amount")
    assert caught.value.field == field


def test_options_by_label_name_or_code_and_a_name_string_or_object() -> None:
    by_label = parse_lead_fields({"source": "Web", "rating": "hot", "name": "Dr. Ada Lovelace"})
    by_code = parse_lead_fields(
        {
            "source": 8,
            "rating": Rating.HOT.code,
            "name": {"salutation": "Dr.", "first": "Ada", "last": "Lovelace"},
        }
    )
    assert by_label == by_code
    assert by_label.source is LeadSource.WEB
    assert by_label.name == PersonName(first="Ada", last="Lovelace", salutation="Dr.")


def test_address_date_phone_and_null() -> None:
    patch = parse_lead_fields(
        {
            "address": {"city": "Lund", "postal_code": "223 50"},
            "estimated_close_date": "2026-12-31",
            "mobile_phone": "070-123 45 67",
            "email": None,
        },
        phone_region="SE",
    )
    assert patch.address == Address(city="Lund", postal_code="223 50")
    assert patch.estimated_close_date == date(2026, 12, 31)
    assert isinstance(patch.mobile_phone, PhoneNumber)
    assert patch.mobile_phone.e164 == "+46701234567"
    assert patch.email is None


def test_a_phone_without_country_and_no_region_is_refused_by_field() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_lead_fields({"business_phone": "070-123 45 67"})
    assert caught.value.field == "business_phone"


def test_every_unknown_key_and_bad_value_is_reported_by_path() -> None:
    body: dict[str, Any] = {
        "topic": "x",
        "colour": "red",
        "emial": "a@b.example",
        "name": {"first": "Ada", "nick": "A"},
        "address": {"postal_code": "<script>"},
        "estimated_close_date": "tomorrow",
        "source": "Carrier pigeon",
    }
    with pytest.raises(InvalidValue) as caught:
        parse_lead_fields(body)
    assert set(caught.value.fields) == {
        "colour",
        "emial",
        "name.nick",
        "address.postal_code",
        "estimated_close_date",
        "source",
    }


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_lead_fields(["topic"])  # type: ignore[arg-type]
    assert caught.value.field == "body"


def test_lead_json_shows_option_labels_and_status_labels() -> None:
    at = datetime(2026, 11, 23, tzinfo=UTC)
    lead = Lead.create(
        LeadId("L-1"),
        parse_lead_fields({"topic": "Coffee", "name": "Ada Lovelace", "source": "Web"}),
        at=at,
        by=UserRef("anna"),
    )
    shown = lead_json(lead)
    assert shown["source"] == {"code": 8, "label": "Web"}
    assert shown["rating"] is None
    assert shown["state"] == {"code": 0, "label": "Open"}
    assert shown["reason"] == {"code": 1, "label": "New"}
    json.dumps(shown)


@given(leads())
def test_lead_json_is_the_stored_document_with_labels(lead: Lead) -> None:
    shown = lead_json(lead)
    stored = make_converter().unstructure(lead)
    json.dumps(shown)
    for key, value in stored.items():
        if key in ("source", "rating", "budget", "need", "purchase_timeframe"):
            assert shown[key] == (
                None if value is None else {"code": value, "label": shown[key]["label"]}
            )
        elif key not in ("state", "reason", "score", "score_rating", "purchase_process"):
            assert shown[key] == value


def test_several_bad_plain_values_are_all_reported() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_lead_fields({"email": "not an address", "topic": 5, "rating": "lukewarm"})
    assert set(caught.value.fields) == {"email", "topic", "rating"}
