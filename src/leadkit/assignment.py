"""Lead assignment as pure, deterministic data: manual, round-robin, capacity and rules.

A strategy looks at one lead and the current :class:`AssignmentState` (round-robin cursors and
each seller's open-lead count, passed in and handed back: no hidden state) and returns a
:class:`Decision` naming the new owner and the rule that decided, or None to leave the lead
alone. :func:`assign_leads` runs a strategy over many leads, skips closed leads (they are never
reassigned) and assigns through :meth:`Lead.assign`, so every change is a ``LeadAssigned``
event that names its rule::

    team = Team("inside-sales", (UserRef("ana"), UserRef("bo")))
    result = assign_leads(leads, RoundRobin(team), at=now, by=admin)
    # result.leads: the changed leads; result.state: pass it to the next run
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from types import MappingProxyType
from typing import Final, Protocol

import attrs

from leadkit.errors import ConfigurationError
from leadkit.lead import Lead
from leadkit.values import LeadId, UserRef, require_aware

__all__ = [
    "ASSIGNMENT_FIELDS",
    "AssignmentOutcome",
    "AssignmentResult",
    "AssignmentRule",
    "AssignmentRules",
    "AssignmentState",
    "AssignmentStatus",
    "AssignmentStrategy",
    "CapacityWeighted",
    "Decision",
    "FieldIn",
    "ManualAssignment",
    "NumberBetween",
    "RoundRobin",
    "Seller",
    "Team",
    "assign_leads",
    "open_lead_counts",
]


def _frozen_counts(value: Mapping[str, int] | None) -> Mapping[str, int]:
    return MappingProxyType(dict({} if value is None else value))


@attrs.frozen(kw_only=True)
class AssignmentState:
    """What a run of assignments remembers, as a value: the next round-robin position per team
    name and the open-lead count per seller id. Pass the state a run returns to the next."""

    cursors: Mapping[str, int] = attrs.field(factory=dict, converter=_frozen_counts, eq=False)
    open_counts: Mapping[str, int] = attrs.field(factory=dict, converter=_frozen_counts, eq=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AssignmentState):
            return NotImplemented
        return dict(self.cursors) == dict(other.cursors) and dict(self.open_counts) == dict(
            other.open_counts
        )

    def __hash__(self) -> int:
        return hash((frozenset(self.cursors.items()), frozenset(self.open_counts.items())))

    def cursor(self, team: str) -> int:
        """The next round-robin position of ``team`` (0 when never used)."""
        return self.cursors.get(team, 0)

    def open_count(self, seller_id: str) -> int:
        """How many open leads ``seller_id`` holds (0 when unknown)."""
        return self.open_counts.get(seller_id, 0)


@attrs.frozen
class Decision:
    """A strategy's answer: give the lead to ``owner``; ``rule`` names what decided; with
    ``cursor``, the strategy moved team ``cursor[0]``'s round-robin position to ``cursor[1]``."""

    owner: UserRef
    rule: str
    cursor: tuple[str, int] | None = None


class AssignmentStrategy(Protocol):
    """Decides who owns a lead. Must be deterministic: the same lead and state give the same
    decision. Returns None to leave the lead where it is."""

    def decide(self, lead: Lead, state: AssignmentState) -> Decision | None: ...


def _rule_name(name: str, field: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ConfigurationError(field, f"a rule name needs 1-200 characters, got {name!r}")
    return name.strip()


# ---------------------------------------------------------------------------------------------
# Strategies


@attrs.frozen
class ManualAssignment:
    """Always the same owner (a user picked by hand, or a rule's target seller)."""

    owner: UserRef
    rule: str = "manual"

    def decide(self, lead: Lead, state: AssignmentState) -> Decision | None:
        """Give every lead to :attr:`owner`."""
        return Decision(self.owner, self.rule)


def _members(value: Iterable[UserRef]) -> tuple[UserRef, ...]:
    return tuple(value)


@attrs.frozen
class Team:
    """A named group of sellers, in the order round-robin walks them.

    Raises ConfigurationError for an empty name, no members or a member listed twice.
    """

    name: str
    members: tuple[UserRef, ...] = attrs.field(converter=_members)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "name", _rule_name(self.name, "team.name"))
        if not self.members:
            raise ConfigurationError(f"team {self.name!r}", "has no members")
        ids = [m.id for m in self.members]
        if len(set(ids)) != len(ids):
            raise ConfigurationError(f"team {self.name!r}", "lists a member twice")


@attrs.frozen
class RoundRobin:
    """Walks the team's members in order, one lead each, from the state's cursor on."""

    team: Team

    @property
    def rule(self) -> str:
        """The rule name events carry: ``round-robin:<team>``."""
        return f"round-robin:{self.team.name}"

    def decide(self, lead: Lead, state: AssignmentState) -> Decision | None:
        """The member at the team's cursor; the cursor moves one on."""
        size = len(self.team.members)
        position = state.cursor(self.team.name) % size
        return Decision(
            self.team.members[position], self.rule, (self.team.name, (position + 1) % size)
        )


@attrs.frozen
class Seller:
    """A seller and how many open leads they can hold. Raises ConfigurationError for a
    capacity below 0."""

    user: UserRef
    capacity: int

    def __attrs_post_init__(self) -> None:
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, int):
            raise ConfigurationError(f"seller {self.user.id}", "capacity must be a whole number")
        if self.capacity < 0:
            raise ConfigurationError(f"seller {self.user.id}", "capacity must not be negative")


def _sellers(value: Iterable[Seller]) -> tuple[Seller, ...]:
    return tuple(value)


@attrs.frozen
class CapacityWeighted:
    """Gives each lead to the seller with the lowest load (open leads / capacity) among those
    below capacity; ties go to the seller listed first. When everyone is full the lead stays
    unassigned, unless ``overflow`` (then the lowest load wins anyway).

    Raises ConfigurationError for no sellers, a seller listed twice or an empty name.
    """

    sellers: tuple[Seller, ...] = attrs.field(converter=_sellers)
    name: str = "capacity"
    overflow: bool = False

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "name", _rule_name(self.name, "capacity.name"))
        if not self.sellers:
            raise ConfigurationError("capacity-weighted assignment", "needs at least one seller")
        ids = [s.user.id for s in self.sellers]
        if len(set(ids)) != len(ids):
            raise ConfigurationError("capacity-weighted assignment", "lists a seller twice")

    @property
    def rule(self) -> str:
        """The rule name events carry: ``capacity:<name>``."""
        return f"capacity:{self.name}" if self.name != "capacity" else "capacity"

    def decide(self, lead: Lead, state: AssignmentState) -> Decision | None:
        """The least-loaded seller with room (see the class docstring)."""
        best: Seller | None = None
        best_load: tuple[int, int] = (1, 0)  # load as a fraction n/d, compared by cross product
        for seller in self.sellers:
            count = state.open_count(seller.user.id)
            has_room = count < seller.capacity
            if not has_room and not self.overflow:
                continue
            load = (count, seller.capacity) if seller.capacity else (count + 1, 0)
            if best is None or _less(load, best_load):
                best, best_load = seller, load
        return None if best is None else Decision(best.user, self.rule)


def _less(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """a < b for loads n/d, where d == 0 means infinitely loaded (ordered by n)."""
    (an, ad), (bn, bd) = a, b
    if ad == 0 or bd == 0:
        return (ad == 0, an) < (bd == 0, bn)
    return an * bd < bn * ad


# ---------------------------------------------------------------------------------------------
# Rules by field


def _text_value(lead: Lead, field: str) -> str | None:
    if field == "source":
        return None if lead.source is None else lead.source.label
    if field == "rating":
        return None if lead.rating is None else lead.rating.label
    if field == "score_rating":
        return None if lead.score_rating is None else lead.score_rating.label
    if field in ("country", "city", "state_or_province", "postal_code"):
        return str(getattr(lead.address, field)) or None
    if field in ("company", "job_title", "initiated_by"):
        return str(getattr(lead, field)) or None
    if field.startswith("custom:"):
        value = lead.custom_fields.get(field[len("custom:") :])
        return None if value is None else str(value)
    return None


def _number_value(lead: Lead, field: str) -> Decimal | None:
    if field == "score":
        return lead.score
    if field == "stars":
        return None if lead.stars is None else Decimal(lead.stars)
    if field.startswith("custom:"):
        value = lead.custom_fields.get(field[len("custom:") :])
        if isinstance(value, bool) or value is None:
            return None
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    return None


ASSIGNMENT_FIELDS: Final = frozenset(
    {
        "source",
        "rating",
        "score_rating",
        "country",
        "city",
        "state_or_province",
        "postal_code",
        "company",
        "job_title",
        "initiated_by",
        "score",
        "stars",
    }
)
"""Fields a rule can test; also ``custom:<name>`` for a custom field (e.g. company size)."""

_NUMBER_FIELDS: Final = frozenset({"score", "stars"})


def _check_field(field: str, *, numeric: bool) -> None:
    if field.startswith("custom:") and len(field) > len("custom:"):
        return
    allowed = _NUMBER_FIELDS if numeric else ASSIGNMENT_FIELDS - _NUMBER_FIELDS
    if field not in allowed:
        raise ConfigurationError(
            f"assignment rule field {field!r}",
            f"use one of {', '.join(sorted(allowed))} or custom:<name>",
        )


def _folded(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().casefold() for v in values)


@attrs.frozen
class FieldIn:
    """Matches when the lead's ``field`` (an option label or text, case-insensitive) is one
    of ``values``. Raises ConfigurationError for an unknown field or no values."""

    field: str
    values: frozenset[str] = attrs.field(converter=_folded)

    def __attrs_post_init__(self) -> None:
        _check_field(self.field, numeric=False)
        if not self.values:
            raise ConfigurationError(f"assignment rule on {self.field!r}", "lists no values")

    def matches(self, lead: Lead) -> bool:
        """True when the lead's value is listed."""
        value = _text_value(lead, self.field)
        return value is not None and value.strip().casefold() in self.values


def _decimal_or_none(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@attrs.frozen
class NumberBetween:
    """Matches when the lead's numeric ``field`` (score, stars, or a custom number such as
    ``custom:employees`` for company size) is in ``low <= x < high`` (either end open when
    None). Raises ConfigurationError for an unknown field or an empty range."""

    field: str
    low: Decimal | None = attrs.field(default=None, converter=_decimal_or_none)
    high: Decimal | None = attrs.field(default=None, converter=_decimal_or_none)

    def __attrs_post_init__(self) -> None:
        _check_field(self.field, numeric=not self.field.startswith("custom:"))
        if self.low is None and self.high is None:
            raise ConfigurationError(f"assignment rule on {self.field!r}", "has no bounds")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ConfigurationError(f"assignment rule on {self.field!r}", "low must be < high")

    def matches(self, lead: Lead) -> bool:
        """True when the value is present and in range."""
        value = _number_value(lead, self.field)
        if value is None:
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value < self.high)


Condition = FieldIn | NumberBetween


def _conditions(value: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple(value)


@attrs.frozen
class AssignmentRule:
    """When every condition matches (ANDed), ``target`` decides (a seller through
    :class:`ManualAssignment`, a team through :class:`RoundRobin`, or a
    :class:`CapacityWeighted` pool). Raises ConfigurationError for an empty name or no
    conditions."""

    name: str
    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions)
    target: ManualAssignment | RoundRobin | CapacityWeighted

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "name", _rule_name(self.name, "rule.name"))
        if not self.conditions:
            raise ConfigurationError(f"assignment rule {self.name!r}", "has no conditions")

    def matches(self, lead: Lead) -> bool:
        """True when every condition matches."""
        return all(c.matches(lead) for c in self.conditions)


def _rules(value: Iterable[AssignmentRule]) -> tuple[AssignmentRule, ...]:
    return tuple(value)


@attrs.frozen
class AssignmentRules:
    """Rules tried in order, first match wins; ``fallback`` decides when none matches (else
    the lead is left alone). The event's rule reads ``<rule name>/<target rule>``.

    Raises ConfigurationError for two rules with one name.
    """

    rules: tuple[AssignmentRule, ...] = attrs.field(converter=_rules)
    fallback: ManualAssignment | RoundRobin | CapacityWeighted | None = None

    def __attrs_post_init__(self) -> None:
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ConfigurationError("assignment rules", "two rules share a name")

    def decide(self, lead: Lead, state: AssignmentState) -> Decision | None:
        """The first matching rule's target decides; else the fallback."""
        for rule in self.rules:
            if rule.matches(lead):
                decision = rule.target.decide(lead, state)
                if decision is None:
                    return None
                return attrs.evolve(decision, rule=f"{rule.name}/{decision.rule}")
        return None if self.fallback is None else self.fallback.decide(lead, state)


# ---------------------------------------------------------------------------------------------
# Running a strategy


class AssignmentStatus(Enum):
    """What happened to one lead."""

    ASSIGNED = "assigned"
    UNCHANGED = "unchanged"  # the decision named the current owner
    SKIPPED_CLOSED = "skipped_closed"
    UNASSIGNED = "unassigned"  # the strategy declined (no rule matched, everyone full)


@attrs.frozen
class AssignmentOutcome:
    """One lead's outcome; ``rule`` names what decided (empty when nothing did)."""

    lead_id: LeadId
    status: AssignmentStatus
    owner: UserRef | None = None
    rule: str = ""


@attrs.frozen
class AssignmentResult:
    """A run's changed leads (with pending ``LeadAssigned`` events), one outcome per input
    lead in input order, and the state to pass to the next run."""

    leads: tuple[Lead, ...]
    outcomes: tuple[AssignmentOutcome, ...]
    state: AssignmentState


def open_lead_counts(leads: Iterable[Lead]) -> dict[str, int]:
    """Open leads per owner id (the ``open_counts`` a capacity strategy needs)."""
    return dict(Counter(lead.owner.id for lead in leads if lead.is_open))


def _state_view(cursors: Mapping[str, int], counts: Mapping[str, int]) -> AssignmentState:
    """``AssignmentState(cursors=cursors, open_counts=counts)`` (copies of both), built
    without the constructor's checks: :func:`assign_leads` builds one per lead from the
    plain dicts it keeps, whose keys and values it wrote itself."""
    state = object.__new__(AssignmentState)
    object.__setattr__(state, "cursors", MappingProxyType(dict(cursors)))
    object.__setattr__(state, "open_counts", MappingProxyType(dict(counts)))
    return state


def assign_leads(
    leads: Sequence[Lead] | Iterable[Lead],
    strategy: AssignmentStrategy,
    *,
    at: datetime,
    by: UserRef,
    state: AssignmentState | None = None,
) -> AssignmentResult:
    """Run ``strategy`` over ``leads`` in order and assign each open lead it decides for.

    Closed leads are skipped and consume no round-robin turn. The returned state has the
    moved cursors and the open counts updated (the new owner +1, the previous owner -1).
    Deterministic: the same leads, strategy and state give the same result. Raises
    InvalidValue for a naive ``at``.
    """
    require_aware("at", at)
    cursors = dict(state.cursors) if state is not None else {}
    counts = dict(state.open_counts) if state is not None else {}
    changed: list[Lead] = []
    outcomes: list[AssignmentOutcome] = []
    for lead in leads:
        if lead.is_closed:
            outcomes.append(AssignmentOutcome(lead.id, AssignmentStatus.SKIPPED_CLOSED))
            continue
        decision = strategy.decide(lead, _state_view(cursors, counts))
        if decision is None:
            outcomes.append(AssignmentOutcome(lead.id, AssignmentStatus.UNASSIGNED))
            continue
        if decision.cursor is not None:
            cursors[decision.cursor[0]] = decision.cursor[1]
        assigned = lead.assign(decision.owner, at=at, by=by, rule=decision.rule)
        if assigned is lead:
            outcomes.append(
                AssignmentOutcome(lead.id, AssignmentStatus.UNCHANGED, lead.owner, decision.rule)
            )
            continue
        counts[decision.owner.id] = counts.get(decision.owner.id, 0) + 1
        previous = lead.owner.id
        if counts.get(previous, 0) > 0:
            counts[previous] -= 1
        changed.append(assigned)
        outcomes.append(
            AssignmentOutcome(lead.id, AssignmentStatus.ASSIGNED, decision.owner, decision.rule)
        )
    return AssignmentResult(
        tuple(changed), tuple(outcomes), AssignmentState(cursors=cursors, open_counts=counts)
    )
