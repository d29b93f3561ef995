"""The lead lifecycle: states, status reasons as data, the transition table and status models.

Dynamics 365 semantics::

    Open (New 1, Contacted 2)  --qualify-->     Qualified (Qualified 3)
    Open                       --disqualify-->  Disqualified (Lost 4, Cannot Contact 5,
                                                 No Longer Interested 6, Canceled 7)
    Qualified / Disqualified   --reactivate-->  Open (New 1)

Status reasons are values, not an enum, so a host may add its own (D365 lets an administrator
add reasons, e.g. "Nurturing" under Open). A :class:`StatusModel` lists the reasons a host uses
with the labels it shows; the Dynamics 365 model is the default and the Salesforce, Odoo and
Outlook Business Contact Manager presets map their labels onto the same three states.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from types import MappingProxyType
from typing import ClassVar, Final

import attrs

from leadkit.errors import ConfigurationError, InvalidValue

__all__ = [
    "BCM_STATUS_MODEL",
    "D365_STATUS_MODEL",
    "DEFAULT_STATUS_MODEL",
    "ODOO_STATUS_MODEL",
    "SALESFORCE_STATUS_MODEL",
    "STANDARD_REASONS",
    "TRANSITIONS",
    "LeadState",
    "StatusLabel",
    "StatusModel",
    "StatusReason",
    "can_transition",
]


class LeadState(Enum):
    """The three lead states with their Dynamics 365 ``statecode``."""

    OPEN = 0
    QUALIFIED = 1
    DISQUALIFIED = 2

    @property
    def code(self) -> int:
        """The Dynamics 365 ``statecode``."""
        return int(self.value)

    @property
    def label(self) -> str:
        """ "Open", "Qualified" or "Disqualified"."""
        return self.name.title()

    @property
    def is_closed(self) -> bool:
        """True for Qualified and Disqualified: the lead is read-only."""
        return self is not LeadState.OPEN

    def __str__(self) -> str:
        return self.label


def _reason_code(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValue("reason.code", value, "must be a non-negative integer")
    return value


def _reason_label(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100:
        raise InvalidValue("reason.label", value, "must be 1-100 characters of text")
    return value.strip()


@attrs.frozen
class StatusReason:
    """A status reason (``statuscode``): its code, label and the state it belongs to.

    The seven Dynamics 365 reasons are class attributes (``StatusReason.NEW`` ...); a host may
    build its own. Raises InvalidValue for a negative code or an empty label.
    """

    code: int = attrs.field(converter=_reason_code)
    label: str = attrs.field(converter=_reason_label, eq=False)
    state: LeadState

    NEW: ClassVar[StatusReason]
    CONTACTED: ClassVar[StatusReason]
    QUALIFIED: ClassVar[StatusReason]
    LOST: ClassVar[StatusReason]
    CANNOT_CONTACT: ClassVar[StatusReason]
    NO_LONGER_INTERESTED: ClassVar[StatusReason]
    CANCELED: ClassVar[StatusReason]

    def __str__(self) -> str:
        return self.label


StatusReason.NEW = StatusReason(1, "New", LeadState.OPEN)
StatusReason.CONTACTED = StatusReason(2, "Contacted", LeadState.OPEN)
StatusReason.QUALIFIED = StatusReason(3, "Qualified", LeadState.QUALIFIED)
StatusReason.LOST = StatusReason(4, "Lost", LeadState.DISQUALIFIED)
StatusReason.CANNOT_CONTACT = StatusReason(5, "Cannot Contact", LeadState.DISQUALIFIED)
StatusReason.NO_LONGER_INTERESTED = StatusReason(6, "No Longer Interested", LeadState.DISQUALIFIED)
StatusReason.CANCELED = StatusReason(7, "Canceled", LeadState.DISQUALIFIED)

STANDARD_REASONS: Final[tuple[StatusReason, ...]] = (
    StatusReason.NEW,
    StatusReason.CONTACTED,
    StatusReason.QUALIFIED,
    StatusReason.LOST,
    StatusReason.CANNOT_CONTACT,
    StatusReason.NO_LONGER_INTERESTED,
    StatusReason.CANCELED,
)

TRANSITIONS: Final[Mapping[LeadState, frozenset[LeadState]]] = MappingProxyType(
    {
        LeadState.OPEN: frozenset({LeadState.QUALIFIED, LeadState.DISQUALIFIED}),
        LeadState.QUALIFIED: frozenset({LeadState.OPEN}),  # reactivate
        LeadState.DISQUALIFIED: frozenset({LeadState.OPEN}),  # reactivate
    }
)


def can_transition(current: LeadState, requested: LeadState) -> bool:
    """True when the lifecycle allows moving from ``current`` to ``requested``."""
    return requested in TRANSITIONS[current]


def _check_table(
    transitions: Mapping[LeadState, frozenset[LeadState]], reasons: Iterable[StatusReason]
) -> None:
    """Every state has a row, every state is reachable, every state owns a reason."""
    if set(transitions) != set(LeadState):
        raise ConfigurationError("TRANSITIONS", "every state needs a row")
    reachable = {LeadState.OPEN}
    frontier = [LeadState.OPEN]
    while frontier:
        for nxt in transitions[frontier.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    if reachable != set(LeadState):
        missing = sorted(s.label for s in set(LeadState) - reachable)
        raise ConfigurationError("TRANSITIONS", f"unreachable states: {missing}")
    owned = {r.state for r in reasons}
    if owned != set(LeadState):
        raise ConfigurationError("reasons", "every state needs at least one reason")
    for state, targets in transitions.items():
        if state in targets:
            raise ConfigurationError("TRANSITIONS", f"{state} must not lead to itself")


_check_table(TRANSITIONS, STANDARD_REASONS)


@attrs.frozen
class StatusLabel:
    """A label a CRM shows ("Working - Contacted") and the reason it stands for."""

    label: str = attrs.field(converter=_reason_label)
    reason: StatusReason


def _labels(value: Iterable[StatusLabel]) -> tuple[StatusLabel, ...]:
    return tuple(value)


@attrs.frozen
class StatusModel:
    """The reasons a host uses and the labels it shows, mapped onto the three states.

    ``initial`` is the reason of a new lead, ``reactivated`` the reason after reactivation,
    ``qualified`` the reason of a qualified lead. Validated when built: raises
    ConfigurationError when labels repeat, when a reason code means two things, when a state has
    no reason, or when ``initial``/``reactivated``/``qualified`` are not of the right state.
    """

    name: str
    labels: tuple[StatusLabel, ...] = attrs.field(converter=_labels)
    initial: StatusReason = StatusReason.NEW
    reactivated: StatusReason = StatusReason.NEW
    qualified: StatusReason = StatusReason.QUALIFIED

    def __attrs_post_init__(self) -> None:
        what = f"status model {self.name!r}"
        if not self.labels:
            raise ConfigurationError(what, "has no labels")
        seen: dict[str, StatusLabel] = {}
        codes: dict[int, StatusReason] = {}
        for entry in self.labels:
            key = entry.label.casefold()
            if key in seen:
                raise ConfigurationError(what, f"label {entry.label!r} is used twice")
            seen[key] = entry
            known = codes.setdefault(entry.reason.code, entry.reason)
            if known.state is not entry.reason.state:
                raise ConfigurationError(
                    what, f"reason code {entry.reason.code} is given two states"
                )
        states = {e.reason.state for e in self.labels}
        if states != set(LeadState):
            missing = sorted(s.label for s in set(LeadState) - states)
            raise ConfigurationError(what, f"no label for state(s) {missing}")
        for role, reason, state in (
            ("initial", self.initial, LeadState.OPEN),
            ("reactivated", self.reactivated, LeadState.OPEN),
            ("qualified", self.qualified, LeadState.QUALIFIED),
        ):
            if reason.state is not state:
                raise ConfigurationError(what, f"{role} reason must be of state {state}")
            if reason.code not in codes:
                raise ConfigurationError(what, f"{role} reason {reason} has no label")

    @property
    def reasons(self) -> tuple[StatusReason, ...]:
        """Every distinct reason of the model, in label order."""
        found: dict[int, StatusReason] = {}
        for entry in self.labels:
            found.setdefault(entry.reason.code, entry.reason)
        return tuple(found.values())

    def reasons_for(self, state: LeadState) -> tuple[StatusReason, ...]:
        """The reasons of ``state``."""
        return tuple(r for r in self.reasons if r.state is state)

    def label_for(self, reason: StatusReason) -> str:
        """The first label this model shows for ``reason`` (the reason's own label if none)."""
        for entry in self.labels:
            if entry.reason.code == reason.code:
                return entry.label
        return reason.label

    def parse(self, value: object) -> StatusReason:
        """Find a reason by label (case-insensitive), by code, or as a reason value.

        Raises InvalidValue naming ``reason`` when the model has no such reason.
        """
        if isinstance(value, StatusReason):
            for reason in self.reasons:
                if reason.code == value.code:
                    return reason
        elif isinstance(value, int) and not isinstance(value, bool):
            for reason in self.reasons:
                if reason.code == value:
                    return reason
        elif isinstance(value, str):
            key = value.strip().casefold()
            for entry in self.labels:
                if entry.label.casefold() == key:
                    return entry.reason
            if key.isdigit():
                for reason in self.reasons:
                    if reason.code == int(key):
                        return reason
        choices = ", ".join(e.label for e in self.labels)
        raise InvalidValue("reason", value, f"not a status of {self.name}; known: {choices}")


def _identity_labels(reasons: Iterable[StatusReason]) -> tuple[StatusLabel, ...]:
    return tuple(StatusLabel(r.label, r) for r in reasons)


D365_STATUS_MODEL: Final = StatusModel("Dynamics 365", _identity_labels(STANDARD_REASONS))
DEFAULT_STATUS_MODEL: Final = D365_STATUS_MODEL

SALESFORCE_STATUS_MODEL: Final = StatusModel(
    "Salesforce",
    (
        StatusLabel("Open - Not Contacted", StatusReason.NEW),
        StatusLabel("Working - Contacted", StatusReason.CONTACTED),
        StatusLabel("Closed - Converted", StatusReason.QUALIFIED),
        StatusLabel("Closed - Not Converted", StatusReason.LOST),
    ),
)

ODOO_STATUS_MODEL: Final = StatusModel(
    "Odoo",
    (
        StatusLabel("New", StatusReason.NEW),
        StatusLabel("Qualified", StatusReason.CONTACTED),
        StatusLabel("Converted", StatusReason.QUALIFIED),
        StatusLabel("Lost", StatusReason.LOST),
    ),
)

BCM_STATUS_MODEL: Final = StatusModel(
    "Outlook Business Contact Manager",
    (
        StatusLabel("Open", StatusReason.NEW),
        StatusLabel("In Progress", StatusReason.CONTACTED),
        StatusLabel("Converted", StatusReason.QUALIFIED),
        StatusLabel("Disqualified", StatusReason.LOST),
        StatusLabel("Not Interested", StatusReason.NO_LONGER_INTERESTED),
    ),
)
