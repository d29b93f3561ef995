"""The fast path of the constructor type checks (leadkit._typecheck) decides as the plain
walk does: an exact type it takes always passes the check, and for drawn arguments to every
public constructor the first wrong argument (name, value, reason) is the same either way."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from unittest import mock

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadkit
import leadkit.io
from leadkit import (
    UNSET,
    EmailAddress,
    LeadId,
    LeadSource,
    LeadState,
    Money,
    PersonName,
    PhoneNumber,
    UserRef,
    _typecheck,
)
from leadkit._typecheck import _Checks, check_constructors, exact_types, trusted
from leadkit.errors import InvalidValue
from leadkit.io import mapping as mapping_module
from leadkit.io.mapping import ParseOptions, RowParser, suggest_mapping


class _Text(str):
    """A str subclass: never on the fast path, still passes a ``str`` check."""


class _Picky:
    """Compares unequal to everything and cannot be hashed."""

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparison")


def _classes() -> list[type]:
    found: list[type] = []
    for module in (leadkit, leadkit.io):
        for name in module.__all__:
            value = getattr(module, name)
            init = vars(value).get("__init__") if isinstance(value, type) else None
            if getattr(init, "__leadkit_checked__", False):
                found.append(value)
    return found


CLASSES = _classes()
CHECKS = {cls: _Checks(cls, vars(cls)["__init__"].__wrapped__) for cls in CLASSES}
POOL: list[object] = [
    "",
    "x",
    _Text("x"),
    0,
    7,
    True,
    1.5,
    None,
    Decimal("1.5"),
    (),
    ("a",),
    ("a", 1),
    (LeadId("L-1"),),
    [],
    ["a"],
    {},
    {"a": 1},
    {"a": "b"},
    {1: "b"},
    frozenset({"a"}),
    frozenset({LeadState.OPEN}),
    {LeadState.OPEN},
    LeadId("L-1"),
    UserRef("u"),
    EmailAddress("a@b.se"),
    PersonName(last="B"),
    PhoneNumber("+46701234567"),
    Money(Decimal(5), "EUR"),
    UNSET,
    LeadState.OPEN,
    LeadSource.WEB,
    datetime(2026, 1, 1, tzinfo=UTC),
    date(2026, 1, 1),
    _Picky(),
    object(),
    len,
]
# Builtin values of many shapes: the types most exact sets hold.
BUILTINS = st.one_of(
    st.text(max_size=5),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.decimals(allow_nan=False),
    st.tuples(st.text(max_size=3)),
    st.lists(st.text(max_size=3), max_size=3).map(tuple),
    st.frozensets(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=3),
)
_ITEMS = st.lists(st.sampled_from(POOL), max_size=3)
# Containers of mixed items: the C fast path over their item types must not change a result.
CONTAINERS = st.one_of(
    _ITEMS.map(tuple),
    _ITEMS,
    st.frozensets(st.sampled_from(["a", 1, LeadState.OPEN, LeadId("L-1"), None]), max_size=3),
    st.dictionaries(st.sampled_from(["a", "b", 1]), st.sampled_from(POOL), max_size=3),
)
VALUES = st.one_of(st.sampled_from(POOL), BUILTINS, CONTAINERS)


def _plain_items(check: Any, exact: frozenset[type], values: Any) -> bool:
    return _typecheck._all(check, values)


def _entries(cls: type) -> list[tuple[str, tuple[type, ...], Any, str]]:
    checks = CHECKS[cls]
    return [*checks.by_name.values(), *checks.converted]


def test_every_public_class_has_checks_with_exact_types() -> None:
    assert len(CLASSES) > 100
    with_exact = [e for cls in CLASSES for e in _entries(cls) if e[1]]
    assert len(with_exact) > 300


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
def test_a_value_of_an_exact_type_passes_the_check(cls: type) -> None:
    for name, exact, check, _ in _entries(cls):
        for value in POOL:
            if type(value) in exact:
                assert check(value), (name, value)


@given(cls=st.sampled_from(CLASSES), data=st.data())
def test_an_exact_type_always_passes_on_drawn_builtins(cls: type, data: st.DataObject) -> None:
    for name, exact, check, _ in _entries(cls):
        value = data.draw(BUILTINS)
        if type(value) in exact:
            assert check(value), (name, value)


@given(cls=st.sampled_from(CLASSES), data=st.data())
def test_the_first_wrong_argument_is_the_same_on_both_paths(cls: type, data: st.DataObject) -> None:
    checks = CHECKS[cls]
    names = list(checks.by_name)
    positional = checks.positional
    count = 0 if positional is None else data.draw(st.integers(0, len(positional)))
    args = tuple(data.draw(VALUES) for _ in range(count))
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True) if names else st.just([]))
    kwargs = {name: data.draw(VALUES) for name in chosen}

    fast = checks.first_wrong(args, kwargs)
    with mock.patch.object(_typecheck, "_items", _plain_items):
        slow = checks.bound_wrong(args, kwargs, bind=False)

    assert fast == slow


def _safe(check: Any, value: object) -> bool | str:
    try:
        return bool(check(value))
    except Exception as e:
        return type(e).__name__


@given(cls=st.sampled_from(CLASSES), data=st.data())
def test_a_container_check_is_the_same_with_and_without_the_item_fast_path(
    cls: type, data: st.DataObject
) -> None:
    for name, _, check, _ in _entries(cls):
        value = data.draw(st.one_of(CONTAINERS, st.sampled_from(POOL)))
        fast = _safe(check, value)
        with mock.patch.object(_typecheck, "_items", _plain_items):
            assert _safe(check, value) == fast, (name, value)


@pytest.mark.parametrize(
    ("hint", "exact"),
    [
        (str, (str,)),
        (float, (int, float)),
        (int | None, (int, type(None))),
        (tuple[str, ...], ()),
        (object, ()),
        (Any, ()),
        (LeadState, (LeadState,)),
    ],
)
def test_exact_types_of_common_hints(hint: object, exact: tuple[type, ...]) -> None:
    assert exact_types(hint) == exact


def test_a_bool_is_not_taken_for_an_int() -> None:
    assert bool not in exact_types(int)
    assert bool not in exact_types(float)


# ---------------------------------------------------------------------------------------------
# The row parser's trusted construction path

_HEADERS = ("Topic", "First Name", "Last Name", "Full Name", "Company Name", "Email",
            "Business Phone", "City", "Country", "Budget Amount", "Currency", "Rating")  # fmt: skip
_CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "Ada",
            "Lovelace",
            "Öberg",
            "x" * 300,
            "ada@example.com",
            "Ada@Exämple.com",
            "a..b@x.se",
            "070-123 45 67",
            "+46 8 123 456",
            "12",
            "Sweden",
            "Narnia",
            "1 200,50",
            "-5",
            "abc",
            "EUR",
            "XXX",
            "Hot",
            "warm",
            "'=1+1",
            "a\x00b",
        ]
    ),
    st.text(max_size=12),
)
_BUILDERS = ("_NEW_PHONE", "_NEW_EMAIL", "_NEW_NAME", "_NEW_ADDRESS", "_NEW_MONEY", "_NEW_PATCH")


def test_the_row_parser_builds_its_values_on_the_trusted_path() -> None:
    for name in _BUILDERS:
        assert getattr(mapping_module, name).__name__.startswith("trusted_")


@given(
    cells=st.lists(_CELLS, min_size=0, max_size=len(_HEADERS) + 1),
    region=st.sampled_from(["SE", None]),
)
def test_a_row_parses_alike_on_the_trusted_and_the_checked_path(
    cells: list[str], region: str | None
) -> None:
    parser = RowParser(suggest_mapping(_HEADERS), _HEADERS, ParseOptions(phone_region=region))

    fast = parser.parse(2, cells)
    checked = {n: getattr(mapping_module, n).__name__.removeprefix("trusted_") for n in _BUILDERS}
    with mock.patch.multiple(
        mapping_module, **{n: getattr(leadkit, c) for n, c in checked.items()}
    ):
        slow = parser.parse(2, cells)

    assert fast == slow


def _ints(value: Any) -> tuple[int, ...]:
    return tuple(int(x) for x in value)


def test_trusted_keeps_the_refusal_of_a_failing_constructor() -> None:
    @attrs.frozen
    class Parts:
        items: tuple[int, ...] = attrs.field(converter=_ints)

    Parts.__module__ = "leadkit.example"
    check_constructors([Parts])
    with pytest.raises(InvalidValue) as caught:
        trusted(Parts)(["1", "x"])
    assert caught.value.field == "arguments"
    assert trusted(Parts)(["1"]) == Parts(["1"])
    assert trusted(int) is int  # not wrapped: the class itself
