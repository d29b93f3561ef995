"""Duplicate rules and rule sets as data: :class:`DuplicateRule` ANDs its conditions over a
base and a matching record type (which may differ: a lead against contacts); a
:class:`DuplicateRuleSet` ORs its rules, with a :class:`CheckMode` saying what a save does on a
match. Both are frozen attrs classes validated when built (ConfigurationError naming the
problem).

Part of the rules as data (:mod:`leadkit.duplicates.rules` re-exports every name here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from typing import Protocol, runtime_checkable

import attrs

from leadkit.duplicates.conditions import Condition, _member
from leadkit.duplicates.record_view import DuplicateRecord, RecordType, duplicate_field_spec
from leadkit.errors import ConfigurationError

__all__ = ["CheckMode", "DuplicateRule", "DuplicateRuleSet", "WeightedRule"]


class CheckMode(Enum):
    """What a save does when a rule set finds duplicates."""

    ALLOW = "allow"
    """Save without checking."""
    WARN = "warn"
    """Save, and hand the matches back as warnings for the user to look at."""
    BLOCK = "block"
    """Refuse the save (DuplicatesUnresolved) while any match is left unresolved."""


def _record_type(value: RecordType | str) -> RecordType:
    return _member(RecordType, "record type", value)


def _mode(value: CheckMode | str) -> CheckMode:
    return _member(CheckMode, "check mode", value)


# --------------------------------------------------------------------------------------------
# Rules and rule sets
# --------------------------------------------------------------------------------------------


def _conditions(value: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class DuplicateRule:
    """Conditions ANDed over a base record type and a matching record type.

    ``ignore_blank``: a condition with a blank value on either side does not match (with
    False, blank equals blank, as in Dataverse). ``exclude_inactive``: closed leads are never
    matches. Raises ConfigurationError for a blank name, no conditions, or a field the base or
    matching record type does not have.
    """

    name: str
    base_type: RecordType = attrs.field(converter=_record_type)
    matching_type: RecordType = attrs.field(converter=_record_type)
    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions)
    ignore_blank: bool = True
    exclude_inactive: bool = True
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigurationError("duplicate rule", "needs a name")
        what = f"duplicate rule {self.name!r}"
        if not self.conditions:
            raise ConfigurationError(what, "needs at least one condition")
        for condition in self.conditions:
            if not isinstance(condition, Condition):
                raise ConfigurationError(what, f"{condition!r} is not a Condition")
            for field, record_type in (
                (condition.base_field, self.base_type),
                (condition.matching_field, self.matching_type),
            ):
                if record_type not in duplicate_field_spec(field).record_types:
                    raise ConfigurationError(what, f"a {record_type.value} has no {field} field")
        for flag in ("ignore_blank", "exclude_inactive"):
            if not isinstance(getattr(self, flag), bool):
                raise ConfigurationError(what, f"{flag} must be true or false")

    @property
    def is_symmetric(self) -> bool:
        """True when the rule compares one record type with itself, field for field, so that
        it gives the same answer for (a, b) as for (b, a)."""
        return self.base_type is self.matching_type and all(c.is_symmetric for c in self.conditions)

    def describe(self) -> str:
        """``lead vs contact: email = email AND ...``."""
        conditions = " AND ".join(c.describe() for c in self.conditions)
        return f"{self.base_type.value} vs {self.matching_type.value}: {conditions}"


@runtime_checkable
class WeightedRule(Protocol):
    """What a rule set needs of a probabilistic rule: the optional rule kind, implemented by
    :class:`~leadkit.duplicates.probabilistic.FittedRule` (which imports this module)."""

    @property
    def name(self) -> str:
        """The rule's name."""
        ...

    @property
    def base_type(self) -> RecordType:
        """The type of the records checked."""
        ...

    @property
    def matching_type(self) -> RecordType:
        """The type of the candidates."""
        ...

    @property
    def description(self) -> str:
        """The rule's description."""
        ...

    @property
    def ignore_blank(self) -> bool:
        """True when a record without blocking values has no candidates."""
        ...

    @property
    def exclude_inactive(self) -> bool:
        """True when inactive records take no part in a scan."""
        ...

    @property
    def is_symmetric(self) -> bool:
        """True when the rule gives (a, b) and (b, a) the same answer."""
        ...

    def describe(self) -> str:
        """One line saying what the rule compares."""
        ...

    def readers(self) -> tuple[Callable[[DuplicateRecord], tuple[str, ...]], ...]:
        """The readers of the values the rule compares, one per compared field."""
        ...

    def blocking_keys(self, record: DuplicateRecord) -> tuple[str, ...]:
        """The keys a record is blocked under."""
        ...

    def evidence(self, a: Sequence[tuple[str, ...]], b: Sequence[tuple[str, ...]]) -> object:
        """A ``RuleEvidence`` for two records' compared values, or None (no match)."""
        ...


def _rules(
    value: Iterable[DuplicateRule | WeightedRule],
) -> tuple[DuplicateRule | WeightedRule, ...]:
    return tuple(value)


def _is_rule(value: object) -> bool:
    return isinstance(value, DuplicateRule) or isinstance(value, WeightedRule)  # noqa: SIM101


@attrs.frozen(kw_only=True)
class DuplicateRuleSet:
    """Rules ORed: a record is a duplicate of another when any rule matches.

    A rule is a :class:`DuplicateRule` or, the optional probabilistic kind, a
    :class:`~leadkit.duplicates.probabilistic.FittedRule` (``fit(rule, records)``): it takes
    part wherever rules do (``find_duplicates``, the save and qualification checks, imports,
    scans), blocked by its own keys and explained field by field.

    ``mode`` says what a save does on a match (:class:`CheckMode`). Raises ConfigurationError
    for a blank name, no rules, a value that is not a rule or two rules with the same name.
    """

    name: str
    rules: tuple[DuplicateRule | WeightedRule, ...] = attrs.field(converter=_rules)
    mode: CheckMode = attrs.field(default=CheckMode.WARN, converter=_mode)
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigurationError("duplicate rule set", "needs a name")
        what = f"duplicate rule set {self.name!r}"
        if not self.rules:
            raise ConfigurationError(what, "needs at least one rule")
        names = [r.name for r in self.rules if _is_rule(r)]
        if len(names) != len(self.rules):
            raise ConfigurationError(what, "rules must be DuplicateRule or FittedRule values")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ConfigurationError(what, f"rule names must be unique: {', '.join(repeated)}")

    def rule(self, name: str) -> DuplicateRule:
        """The deterministic rule called ``name``. Raises ConfigurationError if there is none
        (or it is a probabilistic rule: :meth:`fitted` returns those)."""
        found = self._named(name)
        if not isinstance(found, DuplicateRule):
            raise ConfigurationError(
                f"duplicate rule set {self.name!r}", f"{name!r} is a probabilistic rule (fitted)"
            )
        return found

    def fitted(self, name: str) -> WeightedRule:
        """The probabilistic rule called ``name``. Raises ConfigurationError if there is none
        (or it is a deterministic rule: :meth:`rule` returns those)."""
        found = self._named(name)
        if isinstance(found, DuplicateRule):
            raise ConfigurationError(
                f"duplicate rule set {self.name!r}", f"{name!r} is not a probabilistic rule"
            )
        return found

    def _named(self, name: str) -> DuplicateRule | WeightedRule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise ConfigurationError(f"duplicate rule set {self.name!r}", f"no rule {name!r}")

    def for_base(self, record_type: RecordType) -> tuple[DuplicateRule | WeightedRule, ...]:
        """The rules that check records of ``record_type``."""
        return tuple(r for r in self.rules if r.base_type is record_type)

    def only(self, *names: str) -> DuplicateRuleSet:
        """A rule set with just the named rules (same name and mode)."""
        return attrs.evolve(self, rules=tuple(self._named(n) for n in names))

    def with_mode(self, mode: CheckMode) -> DuplicateRuleSet:
        """The same rules with another check mode."""
        return attrs.evolve(self, mode=mode)


# --------------------------------------------------------------------------------------------
# The default rule set for leads
