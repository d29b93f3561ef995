"""The fast path of the constructor type checks (leadkit._typecheck) decides as the plain
walk does: an exact type it takes always passes the check, and for drawn arguments to every
public constructor the first wrong argument (name, value, reason) is the same either way."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from unittest import mock

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
from leadkit._typecheck import _Checks, exact_types


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
