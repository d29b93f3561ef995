"""Field labels agree with the import headers, in every header language."""

from __future__ import annotations

import pytest

from leadkit.io.columns import _SPECS, LANGUAGES
from leadkit.labels import FIELD_LABELS, LABEL_LANGUAGES, field_label
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.profiles import RULE_FIELDS
from leadkit.values import LeadId, UserRef


def test_the_label_languages_are_the_header_languages() -> None:
    assert LABEL_LANGUAGES == LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_column_field_has_its_first_header_name_as_label(language: str) -> None:
    for spec in _SPECS:
        if spec.supplies and spec.supplies[0] in FIELD_LABELS:
            first = spec.supplies[0]
            if any(s.supplies and s.supplies[0] == first for s in _SPECS[: _SPECS.index(spec)]):
                continue  # the first column supplying a field names it
            assert field_label(first, language) == spec.display_name(language), first


def test_every_profile_field_but_the_composed_ones_has_a_label() -> None:
    assert all(field_label(path) for path in RULE_FIELDS)


def test_a_profile_error_names_each_missing_field_by_its_label() -> None:
    from datetime import UTC, datetime

    from leadkit.errors import InvalidValue

    with pytest.raises(InvalidValue) as caught:
        Lead.create(LeadId("x"), LeadPatch(), at=datetime(2030, 1, 1, tzinfo=UTC), by=UserRef("u"))
    assert [p.label for p in caught.value.problems] == ["Topic", "Last Name"]
    assert "Temat (topic): is required" in caught.value.describe("pl")


@pytest.mark.parametrize("language", LABEL_LANGUAGES)
def test_an_invalid_value_names_the_field_by_its_label_and_path_in_every_language(
    language: str,
) -> None:
    from leadkit.errors import InvalidValue

    error = InvalidValue("name.last", "", "is required")
    assert error.problems[0].label == "Last Name"
    label = FIELD_LABELS["name.last"][language]
    assert f"{label} (name.last): is required" in error.describe(language)
    nested = InvalidValue("fields.address.city", "x" * 3, "too long")
    assert f"{FIELD_LABELS['address.city'][language]} (fields.address.city)" in nested.describe(
        language
    )
    assert "Last Name (name.last): is required" in str(error)


def test_a_field_without_a_label_is_named_by_its_path_alone() -> None:
    from leadkit.errors import InvalidValue

    error = InvalidValue("custom_fields.shoe_size", 3, "must be text")
    assert error.problems[0].label == ""
    assert "custom_fields.shoe_size: must be text" in str(error)
