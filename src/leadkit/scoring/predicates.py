"""Predicates as data: how a scoring criterion is decided from a lead's fields.

A predicate names a field by its dotted path (``budget``, ``address.country``,
``custom_fields.segment``) and says what must hold of it. The fields a predicate may read are
listed in :data:`SCORABLE_FIELDS` with their kind, and every predicate is checked against
that list when it is built: a bad path, an operator the field's kind does not support or an
operand of the wrong type raises :class:`ConfigurationError` then, not when a lead is scored.

=====================  =========================================================
``Ticked()``           the user ticked this criterion on the lead (BCM check box)
``IsSet(f)``           the field holds a value (non-blank text, a non-empty list)
``Equals(f, v)``       equals ``v`` (text: trimmed and case-insensitive)
``OneOf(f, vs)``       equals one of ``vs``
``AtLeast(f, n)``      a number, amount or count ``>= n``
``AtMost(f, n)``       a number, amount or count ``<= n``
``WithinDays(f, n)``   a date within ``n`` days of the scoring time (ahead, behind, around)
``Contains(f, t)``     text containing ``t`` (case-insensitive)
``AllOf(ps)``          every predicate holds
``AnyOf(ps)``          at least one holds
``Not(p)``             ``p`` does not hold
=====================  =========================================================

A field with no value meets no predicate but ``Not`` of one. :func:`compile_predicate` turns a
predicate into a plain function once per model; scoring then calls only those functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import attrs

from leadkit.errors import ConfigurationError, InvalidValue
from leadkit.fields import (
    Budget,
    LeadSource,
    Need,
    OptionSet,
    OptionValue,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
    custom_kind,
)
from leadkit.values import currency_exponent

if TYPE_CHECKING:
    from leadkit.lead import Lead

__all__ = [
    "SCORABLE_FIELDS",
    "AllOf",
    "AnyOf",
    "AtLeast",
    "AtMost",
    "Contains",
    "Equals",
    "IsSet",
    "Not",
    "OneOf",
    "Operand",
    "Predicate",
    "ScorableField",
    "ScoringFieldKind",
    "Test",
    "Ticked",
    "Window",
    "WithinDays",
    "compile_predicate",
    "field_reader",
    "field_spec",
]

Operand: TypeAlias = str | int | Decimal | bool | date | datetime | OptionSet | OptionValue
"""A value a predicate compares with: an option of the field's option set, text, a number,
a date, or for a custom field any custom value."""

Test: TypeAlias = "Callable[[Lead, datetime], bool]"
"""A compiled predicate: ``test(lead, at)``."""


class ScoringFieldKind(Enum):
    """What kind of value a scorable field holds; it decides which predicates apply."""

    TEXT = "text"
    OPTION = "option"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    COUNT = "count"
    CUSTOM = "custom"


@attrs.frozen
class ScorableField:
    """A lead field that predicates may read: its path, kind and (for option fields) the
    option set its values come from."""

    path: str
    kind: ScoringFieldKind
    options: type[OptionSet] | None = None


def _fields() -> dict[str, ScorableField]:
    table: dict[str, ScorableField] = {}
    for path in (
        "topic", "job_title", "company", "initiated_by", "description", "name.first",
        "name.last", "name.full", "address.city", "address.state_or_province",
        "address.postal_code", "address.country", "email", "website", "business_phone",
        "mobile_phone", "owner.id",
    ):  # fmt: skip
        table[path] = ScorableField(path, ScoringFieldKind.TEXT)
    options: dict[str, type[OptionSet]] = {
        "source": LeadSource,
        "rating": Rating,
        "budget": Budget,
        "need": Need,
        "purchase_timeframe": PurchaseTimeframe,
        "purchase_process": PurchaseProcess,
    }
    for path, kind in options.items():
        table[path] = ScorableField(path, ScoringFieldKind.OPTION, kind)
    for path in ("budget_amount", "estimated_value"):
        table[path] = ScorableField(path, ScoringFieldKind.MONEY)
    table["estimated_close_date"] = ScorableField("estimated_close_date", ScoringFieldKind.DATE)
    for path in ("created_at", "modified_at"):
        table[path] = ScorableField(path, ScoringFieldKind.DATETIME)
    for path in ("stakeholders", "notes", "activities"):
        table[path] = ScorableField(path, ScoringFieldKind.COUNT)
    return table


SCORABLE_FIELDS: Final[Mapping[str, ScorableField]] = MappingProxyType(_fields())
"""Every lead field a predicate may read, by path; plus ``custom_fields.<name>`` for any
custom field. Text fields read e-mail and website as typed and phones in E.164 form; count
fields count stakeholders, notes or activities."""

_CUSTOM_PATH: Final = re.compile(r"^custom_fields\.([a-z][a-z0-9_]{0,63})$")


def field_spec(path: object) -> ScorableField:
    """The scorable field at ``path``. Raises ConfigurationError for an unknown path."""
    if isinstance(path, str):
        if path in SCORABLE_FIELDS:
            return SCORABLE_FIELDS[path]
        if _CUSTOM_PATH.match(path):
            return ScorableField(path, ScoringFieldKind.CUSTOM)
    known = ", ".join(sorted(SCORABLE_FIELDS))
    raise ConfigurationError(
        "predicate", f"unknown field {path!r}; scorable fields: {known}, custom_fields.<name>"
    )


def _refuse(message: str) -> ConfigurationError:
    return ConfigurationError("predicate", message)


def _require_kind(op: str, spec: ScorableField, *kinds: ScoringFieldKind) -> None:
    if spec.kind not in kinds:
        allowed = ", ".join(k.value for k in kinds)
        raise _refuse(f"{op} does not apply to {spec.kind.value} field {spec.path!r} ({allowed})")


def _operand(spec: ScorableField, value: object) -> Operand:
    """Check and normalise one operand of equals / one_of for the field's kind."""
    if spec.kind is ScoringFieldKind.OPTION:
        assert spec.options is not None
        try:
            return spec.options.parse(value, spec.path)
        except InvalidValue as e:
            raise _refuse(str(e)) from None
    if spec.kind is ScoringFieldKind.TEXT:
        if not isinstance(value, str) or not value.strip():
            raise _refuse(f"{spec.path!r} compares with non-empty text, not {value!r}")
        return value.strip()
    if spec.kind is ScoringFieldKind.CUSTOM:
        try:
            kind = custom_kind(value)  # type: ignore[arg-type]
        except InvalidValue as e:
            raise _refuse(f"{spec.path!r}: {e.reason}") from None
        if kind == "text":
            assert isinstance(value, str)
            if not value.strip():
                raise _refuse(f"{spec.path!r} compares with non-empty text")
            return value.strip()
        if isinstance(value, Decimal) and not value.is_finite():
            raise _refuse(f"{spec.path!r}: a number must be finite")
        return value  # type: ignore[return-value]
    raise _refuse(f"equals / one_of do not apply to {spec.kind.value} field {spec.path!r}")


def _number(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise _refuse(f"a limit must be a Decimal, an int or a decimal string, not {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _refuse(f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise _refuse(f"a limit must be finite, not {value!r}")
    return number


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen
class Predicate:
    """Base of every predicate. Build the subclasses; this class matches nothing itself."""

    def children(self) -> tuple[Predicate, ...]:
        """The predicates this one combines (empty for a leaf)."""
        return ()

    def walk(self) -> Iterator[Predicate]:
        """This predicate and every predicate inside it, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()

    def uses_tick(self) -> bool:
        """True when the user's tick on the lead decides (part of) this predicate."""
        return any(isinstance(p, Ticked) for p in self.walk())

    def describe(self) -> str:
        """A short human-readable form."""
        raise NotImplementedError


@attrs.frozen
class Ticked(Predicate):
    """The user ticked the criterion on the lead (the Outlook BCM check box)."""

    def describe(self) -> str:
        return "ticked by a user"


@attrs.frozen
class IsSet(Predicate):
    """The field holds a value: an option, non-blank text, an amount, a date, a non-empty
    list. Raises ConfigurationError for an unknown field."""

    field: str

    def __attrs_post_init__(self) -> None:
        field_spec(self.field)

    def describe(self) -> str:
        return f"{self.field} is set"


@attrs.frozen
class Equals(Predicate):
    """The field equals ``value``. Option fields take a member, code, name or label ("Will
    Buy"); text compares trimmed and case-insensitively; custom values compare with their
    type (``Decimal("1")`` is not ``1``). Raises ConfigurationError for a money, date or
    count field or a value of the wrong type."""

    field: str
    value: Operand

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "value", _operand(field_spec(self.field), self.value))

    def describe(self) -> str:
        return f"{self.field} = {_show(self.value)}"


@attrs.frozen
class OneOf(Predicate):
    """The field equals one of ``values`` (compared as :class:`Equals` does; duplicates are
    dropped). Raises ConfigurationError for an empty list or a value :class:`Equals`
    refuses."""

    field: str
    values: tuple[Operand, ...] = attrs.field(converter=_tuple)

    def __attrs_post_init__(self) -> None:
        spec = field_spec(self.field)
        if not self.values:
            raise _refuse(f"one_of on {self.field!r} needs at least one value")
        seen: list[Operand] = []
        for value in self.values:
            checked = _operand(spec, value)
            if not any(_same_operand(checked, s) for s in seen):
                seen.append(checked)
        object.__setattr__(self, "values", tuple(seen))

    def describe(self) -> str:
        return f"{self.field} in ({', '.join(_show(v) for v in self.values)})"


def _same_operand(a: Operand, b: Operand) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return type(a) is type(b) and a == b


def _limits(op: str, spec: ScorableField, currency: str | None) -> str | None:
    _require_kind(op, spec, ScoringFieldKind.MONEY, ScoringFieldKind.COUNT, ScoringFieldKind.CUSTOM)
    if currency is None:
        return None
    if spec.kind is not ScoringFieldKind.MONEY:
        raise _refuse(f"a currency applies only to amount fields, not {spec.path!r}")
    code = currency.strip().upper() if isinstance(currency, str) else currency
    try:
        currency_exponent(code)
    except InvalidValue as e:
        raise _refuse(str(e)) from None
    return code


@attrs.frozen
class AtLeast(Predicate):
    """The amount, count or custom number is at least ``number``.

    For an amount, ``currency`` (if given) must match: an amount in another currency does
    not meet it. Raises ConfigurationError for a text, option or date field, a float or a
    non-finite limit."""

    field: str
    number: Decimal = attrs.field(converter=_number)
    currency: str | None = None

    def __attrs_post_init__(self) -> None:
        code = _limits("at_least", field_spec(self.field), self.currency)
        object.__setattr__(self, "currency", code)

    def describe(self) -> str:
        unit = f" {self.currency}" if self.currency else ""
        return f"{self.field} >= {self.number}{unit}"


@attrs.frozen
class AtMost(Predicate):
    """The amount, count or custom number is at most ``number`` (see :class:`AtLeast`)."""

    field: str
    number: Decimal = attrs.field(converter=_number)
    currency: str | None = None

    def __attrs_post_init__(self) -> None:
        code = _limits("at_most", field_spec(self.field), self.currency)
        object.__setattr__(self, "currency", code)

    def describe(self) -> str:
        unit = f" {self.currency}" if self.currency else ""
        return f"{self.field} <= {self.number}{unit}"


class Window(Enum):
    """Which side of the scoring time a :class:`WithinDays` window covers."""

    AHEAD = "ahead"
    """From the scoring date up to ``days`` days later (a close date this quarter)."""
    BEHIND = "behind"
    """From ``days`` days before the scoring date up to it (created this month)."""
    AROUND = "around"
    """Up to ``days`` days either side."""


@attrs.frozen
class WithinDays(Predicate):
    """The date is within ``days`` calendar days of the scoring time's date.

    A date-time is first moved into the scoring time's time zone. ``window`` says whether the
    days count ahead, behind or both ways. Raises ConfigurationError for a field that holds
    no date or ``days`` outside 0-36500."""

    field: str
    days: int
    window: Window = Window.AROUND

    def __attrs_post_init__(self) -> None:
        spec = field_spec(self.field)
        _require_kind(
            "within_days",
            spec,
            ScoringFieldKind.DATE,
            ScoringFieldKind.DATETIME,
            ScoringFieldKind.CUSTOM,
        )
        if isinstance(self.days, bool) or not isinstance(self.days, int):
            raise _refuse(f"days must be a whole number, not {self.days!r}")
        if not 0 <= self.days <= 36500:
            raise _refuse(f"days must be from 0 to 36500, not {self.days}")
        if not isinstance(self.window, Window):
            raise _refuse(f"window must be a Window, not {self.window!r}")

    def describe(self) -> str:
        return f"{self.field} within {self.days} days {self.window.value}"


@attrs.frozen
class Contains(Predicate):
    """The text contains ``text`` (case-insensitive). Raises ConfigurationError for a field
    that is not text or empty ``text``."""

    field: str
    text: str

    def __attrs_post_init__(self) -> None:
        _require_kind(
            "contains", field_spec(self.field), ScoringFieldKind.TEXT, ScoringFieldKind.CUSTOM
        )
        if not isinstance(self.text, str) or not self.text.strip():
            raise _refuse(f"contains on {self.field!r} needs non-empty text")
        object.__setattr__(self, "text", self.text.strip())

    def describe(self) -> str:
        return f"{self.field} contains {self.text!r}"


def _predicates(op: str, value: Iterable[Any]) -> tuple[Predicate, ...]:
    items = tuple(value)
    if not items:
        raise _refuse(f"{op} needs at least one predicate")
    for item in items:
        if not isinstance(item, Predicate) or type(item) is Predicate:
            raise _refuse(f"{op} combines predicates, not {item!r}")
    return items


def _all_of(value: Iterable[Predicate]) -> tuple[Predicate, ...]:
    return _predicates("all_of", value)


def _any_of(value: Iterable[Predicate]) -> tuple[Predicate, ...]:
    return _predicates("any_of", value)


@attrs.frozen
class AllOf(Predicate):
    """Every predicate in ``of`` holds. Raises ConfigurationError for an empty list."""

    of: tuple[Predicate, ...] = attrs.field(converter=_all_of)

    def children(self) -> tuple[Predicate, ...]:
        return self.of

    def describe(self) -> str:
        return "(" + " and ".join(p.describe() for p in self.of) + ")"


@attrs.frozen
class AnyOf(Predicate):
    """At least one predicate in ``of`` holds. Raises ConfigurationError for an empty list."""

    of: tuple[Predicate, ...] = attrs.field(converter=_any_of)

    def children(self) -> tuple[Predicate, ...]:
        return self.of

    def describe(self) -> str:
        return "(" + " or ".join(p.describe() for p in self.of) + ")"


@attrs.frozen
class Not(Predicate):
    """``predicate`` does not hold.

    Raises ConfigurationError when ``predicate`` uses :class:`Ticked`: ticking a criterion
    must never lower a score.
    """

    predicate: Predicate

    def __attrs_post_init__(self) -> None:
        _predicates("not", (self.predicate,))
        if self.predicate.uses_tick():
            raise _refuse("not(ticked) is refused: ticking a criterion must never lower a score")

    def children(self) -> tuple[Predicate, ...]:
        return (self.predicate,)

    def describe(self) -> str:
        return f"not {self.predicate.describe()}"


def _show(value: Operand) -> str:
    if isinstance(value, OptionSet):
        return value.label
    if isinstance(value, OptionValue):
        return value.label or str(value.code)
    if isinstance(value, str):
        return repr(value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# Compilation


Getter: TypeAlias = "Callable[[Lead], Any]"


def _text_reader(path: str) -> Getter:
    get = attrgetter(path)
    if path in ("email", "website"):
        return lambda lead: "" if (v := get(lead)) is None else v.text
    if path in ("business_phone", "mobile_phone"):
        return lambda lead: "" if (v := get(lead)) is None else v.e164
    return get


def field_reader(spec: ScorableField) -> Getter:
    """A function reading the field's value from a lead: text for text fields ("" when
    unset), the member for option fields, the length for count fields, the value (or None)
    otherwise."""
    if spec.kind is ScoringFieldKind.TEXT:
        return _text_reader(spec.path)
    if spec.kind is ScoringFieldKind.COUNT:
        get = attrgetter(spec.path)
        return lambda lead: len(get(lead))
    if spec.kind is ScoringFieldKind.CUSTOM:
        name = spec.path.partition(".")[2]
        return lambda lead: lead.custom_fields.get(name)
    return attrgetter(spec.path)


def _custom_equals(op: Operand) -> Callable[[Any], bool]:
    kind = custom_kind(op)
    if kind == "text":
        folded = str(op).casefold()
        return lambda v: isinstance(v, str) and v.strip().casefold() == folded
    if kind == "option":
        assert isinstance(op, OptionValue)
        code = op.code
        return lambda v: isinstance(v, OptionValue) and v.code == code
    return lambda v: v is not None and custom_kind(v) == kind and v == op


def _is_number(v: object) -> bool:
    return isinstance(v, int | Decimal) and not isinstance(v, bool)


def _as_date(value: object, at: datetime) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(at.tzinfo).date()
    if isinstance(value, date):
        return value
    return None


def compile_predicate(predicate: Predicate, criterion_id: str) -> Test:
    """Turn ``predicate`` (of the criterion ``criterion_id``) into ``test(lead, at) -> bool``.

    Done once per model; the returned function reads the lead's fields directly.
    """
    match predicate:
        case Ticked():
            return lambda lead, at: criterion_id in lead.ticked_criteria
        case IsSet(field=field):
            spec = field_spec(field)
            get = field_reader(spec)
            if spec.kind is ScoringFieldKind.TEXT:
                if field in _VALUE_TEXT:  # e-mail, URL, phone: never blank when present
                    present = attrgetter(field)
                    return lambda lead, at: present(lead) is not None
                return lambda lead, at: bool(get(lead).strip())
            if spec.kind is ScoringFieldKind.COUNT:
                return lambda lead, at: get(lead) > 0
            if spec.kind is ScoringFieldKind.CUSTOM:
                return lambda lead, at: (
                    (v := get(lead)) is not None and (not isinstance(v, str) or bool(v.strip()))
                )
            return lambda lead, at: get(lead) is not None
        case Equals(field=field, value=value):
            spec = field_spec(field)
            get = field_reader(spec)
            if spec.kind is ScoringFieldKind.OPTION:
                return lambda lead, at: get(lead) is value
            if spec.kind is ScoringFieldKind.TEXT:
                text = str(value).casefold()
                return lambda lead, at: get(lead).strip().casefold() == text
            same = _custom_equals(value)
            return lambda lead, at: same(get(lead))
        case OneOf(field=field, values=values):
            spec = field_spec(field)
            get = field_reader(spec)
            if spec.kind is ScoringFieldKind.OPTION:
                members = frozenset(values)
                return lambda lead, at: get(lead) in members
            if spec.kind is ScoringFieldKind.TEXT:
                folded = frozenset(str(v).casefold() for v in values)
                return lambda lead, at: get(lead).strip().casefold() in folded
            checks = tuple(_custom_equals(v) for v in values)
            return lambda lead, at: any(check(get(lead)) for check in checks)
        case AtLeast(field=field, number=number, currency=currency):
            return _compare(field_spec(field), number, currency, at_least=True)
        case AtMost(field=field, number=number, currency=currency):
            return _compare(field_spec(field), number, currency, at_least=False)
        case WithinDays(field=field, days=days, window=window):
            spec = field_spec(field)
            get = field_reader(spec)
            low = 0 if window is Window.AHEAD else -days
            high = 0 if window is Window.BEHIND else days
            if spec.kind is ScoringFieldKind.DATE:
                return lambda lead, at: (
                    (d := get(lead)) is not None and (low <= (d - at.date()).days <= high)
                )
            if spec.kind is ScoringFieldKind.DATETIME:
                return lambda lead, at: (
                    low <= (get(lead).astimezone(at.tzinfo).date() - at.date()).days <= high
                )

            def within(lead: Lead, at: datetime) -> bool:
                day = _as_date(get(lead), at)
                return day is not None and low <= (day - at.date()).days <= high

            return within
        case Contains(field=field, text=text):
            get = field_reader(field_spec(field))
            needle = text.casefold()
            return lambda lead, at: isinstance(v := get(lead), str) and needle in v.casefold()
        case AllOf(of=of):
            return _all(tuple(compile_predicate(p, criterion_id) for p in of))
        case AnyOf(of=of):
            return _any(tuple(compile_predicate(p, criterion_id) for p in of))
        case Not(predicate=inner):
            test = compile_predicate(inner, criterion_id)
            return lambda lead, at: not test(lead, at)
    raise ConfigurationError("predicate", f"cannot compile {predicate!r}")


_VALUE_TEXT: Final = frozenset({"email", "website", "business_phone", "mobile_phone"})


def _all(tests: tuple[Test, ...]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda lead, at: first(lead, at) and second(lead, at)

    def every(lead: Lead, at: datetime) -> bool:
        for test in tests:  # noqa: SIM110 (a plain loop: all() over a generator is slower)
            if not test(lead, at):
                return False
        return True

    return every


def _any(tests: tuple[Test, ...]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda lead, at: first(lead, at) or second(lead, at)

    def some(lead: Lead, at: datetime) -> bool:
        for test in tests:  # noqa: SIM110 (a plain loop: any() over a generator is slower)
            if test(lead, at):
                return True
        return False

    return some


def _compare(spec: ScorableField, number: Decimal, currency: str | None, *, at_least: bool) -> Test:
    get = field_reader(spec)
    if spec.kind is ScoringFieldKind.MONEY:
        if at_least:
            if currency is None:
                return lambda lead, at: (m := get(lead)) is not None and m.amount >= number
            return lambda lead, at: (
                (m := get(lead)) is not None and m.currency == currency and m.amount >= number
            )
        if currency is None:
            return lambda lead, at: (m := get(lead)) is not None and m.amount <= number
        return lambda lead, at: (
            (m := get(lead)) is not None and m.currency == currency and m.amount <= number
        )
    if spec.kind is ScoringFieldKind.COUNT:
        if at_least:
            return lambda lead, at: get(lead) >= number
        return lambda lead, at: get(lead) <= number
    if at_least:
        return lambda lead, at: _is_number(v := get(lead)) and v >= number
    return lambda lead, at: _is_number(v := get(lead)) and v <= number
