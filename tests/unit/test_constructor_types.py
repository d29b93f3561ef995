"""Issue 22: a public constructor given an argument of the wrong type raises InvalidValue (or
ConfigurationError for rules, models and policies) naming the parameter, never a bare
TypeError or AttributeError (leadkit._typecheck)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import leadkit
import leadkit.io
from leadkit import (
    CustomFields,
    DuplicateRule,
    LeadQuery,
    OneOf,
    PersonName,
    QualificationPolicy,
    RecordType,
)
from leadkit.errors import ConfigurationError, InvalidValue, LeadkitError
from leadkit.io import EmailIntakePolicy, ImportPolicy


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: LeadQuery(text=0), "text"),  # type: ignore[arg-type]
        (lambda: LeadQuery(sort="x"), "sort"),  # type: ignore[arg-type]
        (lambda: LeadQuery(owner_id=5), "owner_id"),  # type: ignore[arg-type]
        (lambda: LeadQuery(states={"x"}), "states"),
        (lambda: PersonName(first=3), "name.first"),  # type: ignore[arg-type]
    ],
)
def test_a_wrong_type_is_an_invalid_value_naming_the_field(
    build: Callable[[], object], field: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        build()
    assert caught.value.field == field


@pytest.mark.parametrize(
    "build",
    [
        lambda: ImportPolicy(profile=3),  # type: ignore[arg-type]
        lambda: EmailIntakePolicy(source=3),  # type: ignore[arg-type]
        lambda: QualificationPolicy(mode="auto"),  # type: ignore[arg-type]
        lambda: DuplicateRule(
            name="r",
            base_type=RecordType.LEAD,
            matching_type=RecordType.LEAD,
            conditions=5.0,  # type: ignore[arg-type]
        ),
        lambda: OneOf("budget", None),  # type: ignore[arg-type]
    ],
)
def test_a_wrong_type_in_configuration_is_a_configuration_error(
    build: Callable[[], object],
) -> None:
    with pytest.raises(ConfigurationError):
        build()


def test_a_constructor_that_would_fail_inside_reports_its_arguments() -> None:
    with pytest.raises(InvalidValue) as caught:
        CustomFields([1, 2])
    assert caught.value.field == "arguments"
    assert "CustomFields" in caught.value.reason


def test_a_class_keeps_its_own_more_precise_refusal() -> None:
    with pytest.raises(InvalidValue, match="must be text") as caught:
        PersonName(last=[])  # type: ignore[arg-type]
    assert caught.value.field == "name.last"


def test_every_public_class_with_its_own_init_is_checked() -> None:
    classes = [getattr(leadkit, n) for n in leadkit.__all__]
    classes += [getattr(leadkit.io, n) for n in leadkit.io.__all__]
    wrapped = [
        c
        for c in classes
        if isinstance(c, type)
        and not issubclass(c, BaseException)
        and "__init__" in c.__dict__
        and c.__module__.startswith("leadkit")
        and not getattr(c, "_is_protocol", False)
        and not issubclass(c, __import__("enum").Enum)
    ]
    assert len(wrapped) > 100
    unchecked = [
        c.__name__ for c in wrapped if not getattr(c.__init__, "__leadkit_checked__", False)
    ]
    assert unchecked == []


def test_the_right_types_still_build() -> None:
    query = LeadQuery(text="ada")
    assert query.text == "ada"
    assert isinstance(LeadkitError(), Exception)
