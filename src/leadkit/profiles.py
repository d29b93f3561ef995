"""Required-field profiles: which lead fields must be filled and how long text may be.

The Dynamics 365 default requires Topic (at most 300 characters) and Last Name (at most 50);
the Outlook Business Contact Manager profile requires only the full name. Both apply the
Dynamics 365 column lengths to every text field. A create or update that breaks the profile
raises one :class:`InvalidValue` listing every missing or too-long field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from types import MappingProxyType
from typing import Any, Final

import attrs

from leadkit._named import named
from leadkit.errors import ConfigurationError, FieldProblem, InvalidValue
from leadkit.patch import PATCH_FIELDS

__all__ = [
    "BCM_PROFILE",
    "D365_LENGTHS",
    "D365_PROFILE",
    "DEFAULT_PROFILE",
    "LENGTHS_PROFILE",
    "PROFILES",
    "RULE_FIELDS",
    "FieldProfile",
    "FieldRule",
    "field_value",
    "is_blank",
    "profile_named",
]

# Dynamics 365 lead column lengths.
D365_LENGTHS: Final[dict[str, int]] = {
    "topic": 300,
    "name.salutation": 100,
    "name.first": 50,
    "name.middle": 50,
    "name.last": 50,
    "name.suffix": 10,
    "name.full": 160,
    "job_title": 100,
    "company": 100,
    "initiated_by": 100,
    "description": 2000,
    "email": 100,
    "website": 200,
    "business_phone": 50,
    "mobile_phone": 50,
}


_NAME_PARTS: Final = ("first", "last", "middle", "salutation", "suffix", "full")
_ADDRESS_PARTS: Final = (
    "line1", "line2", "line3", "city", "state_or_province", "postal_code", "country",
)  # fmt: skip
RULE_FIELDS: Final[tuple[str, ...]] = (
    *PATCH_FIELDS,
    *(f"name.{p}" for p in _NAME_PARTS),
    *(f"address.{p}" for p in _ADDRESS_PARTS),
)
"""The dotted paths a field rule may name: every editable field and the name/address parts."""


def field_value(record: Any, path: str) -> object:
    """Read a dotted path (``name.last``, ``address.city``) from a lead.

    ``name.full`` is the composed full name. Raises ConfigurationError for an unknown path.
    """
    value = record
    for part in path.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ConfigurationError("field rule", f"unknown lead field {path!r}") from None
    return value


# One attrgetter per dotted path (at most the few RULE_FIELDS): reading ``name.last`` in C.
_GETTERS: Final[dict[str, Callable[[Any], object]]] = {}


def _read(record: Any, path: str) -> object:
    """field_value, with the attribute walk done by a cached ``operator.attrgetter``; any
    AttributeError is left to field_value, which raises the same ConfigurationError."""
    get = _GETTERS.get(path)
    if get is None:
        get = _GETTERS.setdefault(path, attrgetter(path))
    try:
        return get(record)
    except AttributeError:
        return field_value(record, path)


def is_blank(value: object) -> bool:
    """True for None, blank text and empty names, addresses and maps."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    empty = getattr(value, "is_empty", None)
    if isinstance(empty, bool):
        return empty
    try:
        return len(value) == 0  # type: ignore[arg-type]
    except TypeError:
        return False


def _length(value: object) -> int:
    return len(str(value)) if value is not None else 0


@attrs.frozen
class FieldRule:
    """One rule of a profile: the field's dotted path, whether it is required, and its
    maximum length in characters (None for no limit). Raises ConfigurationError for a
    non-positive length."""

    field: str
    required: bool = False
    max_length: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.field not in RULE_FIELDS:
            raise ConfigurationError(
                "field rule", f"unknown lead field {self.field!r}; known: {', '.join(RULE_FIELDS)}"
            )
        if self.max_length is not None and self.max_length < 1:
            raise ConfigurationError(f"field rule {self.field}", "max_length must be positive")


def _rules(value: Iterable[FieldRule]) -> tuple[FieldRule, ...]:
    return tuple(value)


@attrs.frozen
class FieldProfile:
    """A named set of field rules, checked on create and update.

    Raises ConfigurationError when built with a field named twice.
    """

    name: str
    rules: tuple[FieldRule, ...] = attrs.field(converter=_rules)

    def __attrs_post_init__(self) -> None:
        fields = [r.field for r in self.rules]
        if len(set(fields)) != len(fields):
            raise ConfigurationError(f"profile {self.name!r}", "a field is named twice")

    @property
    def required_fields(self) -> tuple[str, ...]:
        """The dotted paths this profile requires."""
        return tuple(r.field for r in self.rules if r.required)

    def problems(self, record: Any) -> list[FieldProblem]:
        """Every missing or too-long field of ``record``, in rule order."""
        found: list[FieldProblem] = []
        for rule in self.rules:
            value = _read(record, rule.field)
            if rule.required and is_blank(value):
                found.append(FieldProblem(rule.field, value, "is required"))
            elif rule.max_length is not None and _length(value) > rule.max_length:
                found.append(
                    FieldProblem(
                        rule.field,
                        value,
                        f"longer than {rule.max_length} characters ({_length(value)})",
                    )
                )
        return found

    def check(self, record: Any) -> None:
        """Raise one InvalidValue listing every missing or too-long field of ``record``."""
        found = self.problems(record)
        if found:
            raise InvalidValue.many(found)


def _profile(name: str, required: Iterable[str]) -> FieldProfile:
    needed = set(required)
    rules = [FieldRule(f, f in needed, n) for f, n in D365_LENGTHS.items()]
    rules += [FieldRule(f, True) for f in sorted(needed - set(D365_LENGTHS))]
    # Required fields first, so the error lists them first.
    rules.sort(key=lambda r: not r.required)
    return FieldProfile(name, rules)


D365_PROFILE: Final = _profile("Dynamics 365", ("topic", "name.last"))
BCM_PROFILE: Final = _profile("Outlook Business Contact Manager", ("name.full",))
DEFAULT_PROFILE: Final = D365_PROFILE
named(DEFAULT_PROFILE, "DEFAULT_PROFILE")  # help() shows the name, not every field rule
named(BCM_PROFILE, "BCM_PROFILE")

LENGTHS_PROFILE: Final = _profile("Dynamics 365 lengths", ())
"""No required field, the Dynamics 365 column lengths: what a later command checks on a lead
created under a host's own profile when it is given no profile (leadkit cannot know the
host's required fields; pass the profile to check them)."""
named(LENGTHS_PROFILE, "LENGTHS_PROFILE")

PROFILES: Final[Mapping[str, FieldProfile]] = MappingProxyType(
    {profile.name: profile for profile in (D365_PROFILE, BCM_PROFILE)}
)
"""The shipped profiles by name. A lead records the name of the profile it was created under
(``Lead.profile``), and its later commands check that profile unless given another."""


def profile_named(name: str) -> FieldProfile:
    """The shipped profile called ``name``; for any other name (a host's own profile)
    :data:`LENGTHS_PROFILE`. Raises InvalidValue naming ``profile`` for a name that is not
    text."""
    if not isinstance(name, str):
        raise InvalidValue("profile", name, "must be the name of a profile")
    return PROFILES.get(name, LENGTHS_PROFILE)
