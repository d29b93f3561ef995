"""Issue 22: a public constructor given an argument of the wrong type raises InvalidValue (or
ConfigurationError for rules, models and policies) naming the parameter, never a bare
TypeError or AttributeError (leadkit._typecheck)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import attrs
import pytest

import leadkit
import leadkit.io
from leadkit import (
    CustomFields,
    DuplicateRule,
    Lead,
    LeadId,
    LeadPatch,
    LeadQuery,
    OneOf,
    PersonName,
    QualificationPolicy,
    RecordType,
    UserRef,
)
from leadkit._typecheck import UNCHECKED, check_constructors
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
    def parts(value: object) -> tuple[int, ...]:
        return tuple(int(x) for x in value)  # type: ignore[attr-defined]

    @attrs.frozen
    class Parts:
        items: tuple[int, ...] = attrs.field(converter=parts)

    Parts.__module__ = "leadkit.example"  # only leadkit's own classes are wrapped
    check_constructors([Parts])
    with pytest.raises(InvalidValue) as caught:
        Parts(["1", "x"])
    assert caught.value.field == "arguments"
    assert "cannot build a Parts: ValueError" in caught.value.reason


def test_custom_fields_that_are_not_pairs_keep_their_own_refusal() -> None:
    with pytest.raises(InvalidValue) as caught:
        CustomFields([1, 2])
    assert (caught.value.field, caught.value.reason) == (
        "custom_fields",
        "must be a mapping of name to value",
    )


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
        f"{c.__module__}.{c.__qualname__}"
        for c in wrapped
        if not getattr(c.__init__, "__leadkit_checked__", False)
    ]
    # Only the classes exempted on purpose, each with its reason.
    assert sorted(unchecked) == sorted(UNCHECKED)


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("lead_id", lambda p, at, by: Lead.create("L-1", p, at=at, by=by)),  # type: ignore[arg-type]
        ("fields", lambda p, at, by: Lead.create(LeadId("L-1"), {}, at=at, by=by)),  # type: ignore[arg-type]
        ("by", lambda p, at, by: Lead.create(LeadId("L-1"), p, at=at, by="anna")),  # type: ignore[arg-type]
        ("owner", lambda p, at, by: Lead.create(LeadId("L-1"), p, at=at, by=by, owner="bo")),  # type: ignore[arg-type]
    ],
)
def test_lead_create_checks_its_arguments_since_lead_itself_is_exempt(
    name: str, call: Callable[[LeadPatch, datetime, UserRef], Lead]
) -> None:
    patch = LeadPatch(topic="Pumps", name=PersonName(last="Berg"))
    with pytest.raises(InvalidValue) as caught:
        call(patch, datetime(2026, 1, 1, tzinfo=UTC), UserRef("anna", "Anna"))
    assert caught.value.field == name


def test_a_command_given_a_user_of_the_wrong_type_is_refused_by_its_event() -> None:
    lead = Lead.create(
        LeadId("L-1"),
        LeadPatch(topic="Pumps", name=PersonName(last="Berg")),
        at=datetime(2026, 1, 1, tzinfo=UTC),
        by=UserRef("anna", "Anna"),
    )
    with pytest.raises(InvalidValue) as caught:
        lead.add_note("Called", at=datetime(2026, 1, 2, tzinfo=UTC), by="anna")  # type: ignore[arg-type]
    assert caught.value.field == "by"


def test_the_right_types_still_build() -> None:
    query = LeadQuery(text="ada")
    assert query.text == "ada"
    assert isinstance(LeadkitError(), Exception)
