"""Option sets with their Dynamics 365 codes, and typed custom fields."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum
from typing import Final, Self, cast

import attrs

from leadkit.errors import InvalidValue
from leadkit.values import require_aware

__all__ = [
    "Budget",
    "CustomFields",
    "CustomValue",
    "LeadSource",
    "Need",
    "OptionSet",
    "OptionValue",
    "PurchaseProcess",
    "PurchaseTimeframe",
    "Rating",
    "custom_kind",
]


class OptionSet(IntEnum):
    """An option set: members carry the Dynamics 365 integer code and a display label."""

    @property
    def code(self) -> int:
        """The Dynamics 365 option value."""
        return int(self.value)

    @property
    def label(self) -> str:
        """The English display label ("Word of Mouth")."""
        special = _LABELS.get((type(self).__name__, self.name))
        return special or self.name.replace("_", " ").title()

    @classmethod
    def parse(cls, value: object, field: str | None = None) -> Self:
        """Accept a member, a code (int or digit string), a member name or a label.

        Case, spaces, dashes and underscores do not matter ("word of mouth", "WORD_OF_MOUTH").
        Raises InvalidValue naming ``field`` (default: the option set) for anything else.
        """
        name = field or _snake(cls.__name__)
        if isinstance(value, cls):
            return value
        if isinstance(value, bool | OptionSet):
            # Option sets are IntEnums: Budget.MAY_BUY must not pass as Rating.HOT.
            raise InvalidValue(name, value, "not an option of " + cls.__name__)
        if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
            try:
                return cls(int(value))
            except ValueError:
                pass
        elif isinstance(value, str):
            found = _by_key(cls).get(_key(value))
            if found is not None:
                return cast(Self, found)
        choices = ", ".join(f"{m.label} ({m.code})" for m in cls)
        raise InvalidValue(name, value, f"not an option of {cls.__name__}; choose one of {choices}")

    def __str__(self) -> str:
        return self.label


_SEPARATORS: Final = re.compile(r"[\s_\-]+")


def _key(text: str) -> str:
    return _SEPARATORS.sub("", text).casefold()


_KEYED: Final[dict[type[OptionSet], dict[str, OptionSet]]] = {}


def _by_key(cls: type[OptionSet]) -> dict[str, OptionSet]:
    """``cls``'s members by the key of their name and of their label (the first member in
    definition order wins a shared key, as a walk over the members would): built once."""
    found = _KEYED.get(cls)
    if found is None:
        found = {}
        for member in cls:
            found.setdefault(_key(member.name), member)
            found.setdefault(_key(member.label), member)
        _KEYED[cls] = found
    return found


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_LABELS: Final[dict[tuple[str, str], str]] = {
    ("LeadSource", "WORD_OF_MOUTH"): "Word of Mouth",
    ("LeadSource", "PUBLIC_RELATIONS"): "Public Relations",
    ("Budget", "NO_COMMITTED_BUDGET"): "No Committed Budget",
    ("Need", "MUST_HAVE"): "Must have",
    ("Need", "SHOULD_HAVE"): "Should have",
    ("Need", "GOOD_TO_HAVE"): "Good to have",
    ("Need", "NO_NEED"): "No need",
}


class Rating(OptionSet):
    """Lead rating (``leadqualitycode``): Hot 1, Warm 2, Cold 3."""

    HOT = 1
    WARM = 2
    COLD = 3


class LeadSource(OptionSet):
    """Where the lead came from (``leadsourcecode``)."""

    ADVERTISEMENT = 1
    EMPLOYEE_REFERRAL = 2
    EXTERNAL_REFERRAL = 3
    PARTNER = 4
    PUBLIC_RELATIONS = 5
    SEMINAR = 6
    TRADE_SHOW = 7
    WEB = 8
    WORD_OF_MOUTH = 9
    OTHER = 10


class Budget(OptionSet):
    """Budget status (``budgetstatus``)."""

    NO_COMMITTED_BUDGET = 0
    MAY_BUY = 1
    CAN_BUY = 2
    WILL_BUY = 3


class Need(OptionSet):
    """How much the customer needs the product (``need``)."""

    MUST_HAVE = 0
    SHOULD_HAVE = 1
    GOOD_TO_HAVE = 2
    NO_NEED = 3


class PurchaseTimeframe(OptionSet):
    """When the customer means to buy (``purchasetimeframe``)."""

    IMMEDIATE = 0
    THIS_QUARTER = 1
    NEXT_QUARTER = 2
    THIS_YEAR = 3
    UNKNOWN = 4


class PurchaseProcess(OptionSet):
    """How the customer decides (``purchaseprocess``)."""

    INDIVIDUAL = 0
    COMMITTEE = 1
    UNKNOWN = 2


# ---------------------------------------------------------------------------------------------
# Custom fields


@attrs.frozen
class OptionValue:
    """A value of a host-defined option set: its integer code and an optional label.

    Raises InvalidValue for a non-integer code or a label over 200 characters.
    """

    code: int
    label: str = ""

    def __attrs_post_init__(self) -> None:
        if isinstance(self.code, bool) or not isinstance(self.code, int):
            raise InvalidValue("option.code", self.code, "must be an integer")
        if not isinstance(self.label, str) or len(self.label) > 200:
            raise InvalidValue("option.label", self.label, "must be text of at most 200 characters")


CustomValue = str | int | Decimal | bool | date | datetime | OptionValue
"""The types a custom field may hold. Floats are refused: use Decimal."""

_CUSTOM_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CUSTOM_TEXT_MAX: Final = 4000


def custom_kind(value: CustomValue) -> str:
    """The kind name of a custom value: text, integer, decimal, boolean, date, datetime, option.

    Raises InvalidValue for any other type (floats included).
    """
    # Order matters: bool is an int, datetime is a date.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, Decimal):
        return "decimal"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, OptionValue):
        return "option"
    raise InvalidValue(
        "custom_fields",
        value,
        "must be text, integer, Decimal, boolean, date, datetime or OptionValue",
    )


def _check_custom(name: object, value: CustomValue) -> tuple[str, CustomValue]:
    if not isinstance(name, str) or not _CUSTOM_NAME.fullmatch(name):
        raise InvalidValue(
            "custom_fields",
            name,
            "a custom field name must be 1-64 characters of a-z, 0-9 and '_', starting with "
            "a letter",
        )
    path = f"custom_fields.{name}"
    try:
        kind = custom_kind(value)
    except InvalidValue as e:
        raise InvalidValue(path, value, e.reason) from None
    if kind == "text" and len(str(value)) > _CUSTOM_TEXT_MAX:
        raise InvalidValue(path, value, f"longer than {_CUSTOM_TEXT_MAX} characters")
    if kind == "decimal" and not Decimal(str(value)).is_finite():
        raise InvalidValue(path, value, "must be a finite number")
    if kind == "datetime":
        assert isinstance(value, datetime)
        require_aware(path, value)
    return name, value


def _to_items(value: object) -> tuple[tuple[str, CustomValue], ...]:
    if isinstance(value, CustomFields):
        return value.items_
    pairs: Iterable[tuple[str, CustomValue]]
    if isinstance(value, Mapping):
        pairs = value.items()
    elif isinstance(value, list | tuple) and all(
        isinstance(pair, tuple | list) and len(pair) == 2 for pair in value
    ):
        pairs = value
    else:
        raise InvalidValue("custom_fields", value, "must be a mapping of name to value")
    checked = dict(_check_custom(k, v) for k, v in pairs)
    return tuple(sorted(checked.items()))


@attrs.frozen(eq=False)
class CustomFields(Mapping[str, CustomValue]):
    """An immutable, typed map of host-defined fields (``new_industry`` -> ``"Retail"``).

    Names are 1-64 characters of ``a-z0-9_`` starting with a letter. Values are text (at most
    4,000 characters), int, Decimal, bool, date, aware datetime or :class:`OptionValue`; every
    round trip keeps the type. Raises InvalidValue for a bad name or value.
    """

    items_: tuple[tuple[str, CustomValue], ...] = attrs.field(default=(), converter=_to_items)

    def __getitem__(self, key: str) -> CustomValue:
        for name, value in self.items_:
            if name == key:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self.items_)

    def __len__(self) -> int:
        return len(self.items_)

    def set(self, name: str, value: CustomValue | None) -> CustomFields:
        """Return a copy with ``name`` set (or removed when ``value`` is None)."""
        data = dict(self.items_)
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
        return CustomFields(data)

    def merged(self, other: Mapping[str, CustomValue | None]) -> CustomFields:
        """Return a copy with every entry of ``other`` set (None removes the entry)."""
        data: dict[str, CustomValue] = dict(self.items_)
        for name, value in other.items():
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value
        return CustomFields(data)

    def _typed(self) -> tuple[tuple[str, str, CustomValue], ...]:
        return tuple((name, custom_kind(value), value) for name, value in self.items_)

    def __eq__(self, other: object) -> bool:
        # Type-sensitive: True is not 1 and Decimal("1") is not 1 here.
        if not isinstance(other, CustomFields):
            return NotImplemented
        return self._typed() == other._typed()

    def __hash__(self) -> int:
        return hash(self._typed())

    def __repr__(self) -> str:
        return f"CustomFields({dict(self.items_)!r})"
