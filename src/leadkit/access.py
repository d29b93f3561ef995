"""Row-level authorisation: who may do what to which records.

An :class:`Authorizer` answers two questions for a :class:`Principal` (a user, the business
unit they belong to and the names of their roles) and an :class:`Action` (read, write,
create, ...):

* ``check(principal, action, record)`` — may the principal do ``action`` to this record?
  It returns None to allow and raises :class:`~leadkit.errors.PermissionDenied` to deny.
* ``scope(principal, action)`` — which records may it do ``action`` to, as a
  :class:`~leadkit.ports.LeadQuery` whose ``owner_ids`` is the set of owners allowed (None:
  every owner). The adapters put that set in their queries (an SQL ``IN`` list), so lists,
  counts, reports and exports read only the permitted rows, and a page is never filtered
  after it was read.

Two authorisers ship: :class:`AllowAll` (the default everywhere: existing callers keep
working) and :class:`RoleDepthAuthorizer`, which follows Microsoft Dataverse's security
roles: a :class:`Role` grants each action at a :class:`Depth` — the user's own records,
their business unit's, their unit's and its child units', or the whole organisation's —
and the business units form a tree given as data (:class:`UnitTree`, with the unit each
user belongs to). A principal's depth for an action is the deepest any of its roles grants.

:func:`authorize` and :func:`allowed_scope` are what the enforcing code calls: they turn any
other exception an authoriser raises into a denial (an authoriser that raises denies), and a
scope that is not a LeadQuery restricting owners only into a denial too.
:func:`restrict` ANDs a scope into a caller's query.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum, IntEnum
from types import MappingProxyType
from typing import Final, Protocol

import attrs

from leadkit.errors import ConfigurationError, InvalidValue, PermissionDenied
from leadkit.ports import LeadQuery
from leadkit.values import UserRef

__all__ = [
    "Action",
    "AllowAll",
    "Authorizer",
    "Depth",
    "Principal",
    "Role",
    "RoleDepthAuthorizer",
    "UnitTree",
    "allowed_scope",
    "authorize",
    "restrict",
]


class Action(Enum):
    """What a principal does to a record (Dataverse's privileges, plus leadkit's own)."""

    READ = "read"
    WRITE = "write"
    CREATE = "create"
    DELETE = "delete"
    ASSIGN = "assign"
    MERGE = "merge"
    EXPORT = "export"
    ERASE = "erase"


class Depth(IntEnum):
    """How far a role's privilege reaches (Dataverse's access levels), shallow to deep:
    the user's own records (User), their business unit's (Business Unit), their unit's and
    every unit below it (Parent: Child Business Units), every record (Organization)."""

    USER = 1
    BUSINESS_UNIT = 2
    UNIT_AND_CHILDREN = 3
    ORGANIZATION = 4


def _roles(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValue("roles", value, "must be a set of role names")
    names = frozenset(value)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise InvalidValue("roles", name, "a role name must be non-empty text")
    return names


def _text(field: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field, value, "must be non-empty text")


@attrs.frozen
class Principal:
    """Who acts: a user id, the business unit they belong to (None: the unit the
    authoriser's tree gives them, if any) and the names of their roles.

    Raises InvalidValue for an empty user id or unit, or roles that are not a set of
    non-empty names.
    """

    user_id: str
    unit: str | None = None
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=_roles)

    def __attrs_post_init__(self) -> None:
        _text("user_id", self.user_id)
        if self.unit is not None:
            _text("unit", self.unit)

    @property
    def user(self) -> UserRef:
        """The principal as the user its changes are recorded under."""
        return UserRef(self.user_id)


class Authorizer(Protocol):
    """Decides what a principal may do (see the module doc).

    ``check`` returns None to allow ``action`` on ``record`` (a lead, contact, account or
    opportunity: anything with an ``owner``) and raises PermissionDenied to deny;
    ``scope`` returns a LeadQuery whose only filter is ``owner_ids`` (None: every owner; an
    empty set: none) and must agree with ``check`` on leads. Any other exception from
    either is taken as a denial by the enforcing code.
    """

    def check(self, principal: Principal, action: Action, record: object) -> None: ...

    def scope(self, principal: Principal, action: Action) -> LeadQuery: ...


_EVERY_LEAD: Final = LeadQuery()


class AllowAll:
    """The authoriser that allows everything: what a caller without a principal gets."""

    def check(self, principal: Principal, action: Action, record: object) -> None:
        """Allow. Raises nothing."""

    def scope(self, principal: Principal, action: Action) -> LeadQuery:
        """Every lead (no owner filter). Raises nothing."""
        return _EVERY_LEAD

    def __repr__(self) -> str:
        return "AllowAll()"


def _grants(value: Mapping[Action, Depth]) -> Mapping[Action, Depth]:
    if not isinstance(value, Mapping):
        raise InvalidValue("grants", value, "must map actions to depths")
    checked: dict[Action, Depth] = {}
    for action, depth in value.items():
        if not isinstance(action, Action):
            raise InvalidValue("grants", action, "must be an Action")
        if not isinstance(depth, Depth):
            raise InvalidValue(f"grants.{action.value}", depth, "must be a Depth")
        checked[action] = depth
    return MappingProxyType(checked)


@attrs.frozen
class Role:
    """A security role: its name and, for each action it grants, how deep
    (``Role("salesperson", {Action.READ: Depth.BUSINESS_UNIT, Action.WRITE: Depth.USER})``).
    An action it does not list it does not grant.

    Raises InvalidValue for an empty name, or grants that do not map Actions to Depths.
    """

    name: str
    grants: Mapping[Action, Depth] = attrs.field(converter=_grants, hash=False)

    def __attrs_post_init__(self) -> None:
        _text("name", self.name)


def _parents(value: Mapping[str, str | None]) -> Mapping[str, str | None]:
    if not isinstance(value, Mapping):
        raise InvalidValue("parents", value, "must map each unit to its parent unit (or None)")
    return dict(value)


def _members(value: Mapping[str, str]) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidValue("members", value, "must map each user id to their unit")
    return dict(value)


@attrs.frozen(eq=False)
class UnitTree:
    """The business units as data: ``parents`` maps each unit to its parent (None for the
    root, the organisation's own unit) and ``members`` each user id to the unit they belong
    to. A record's owner belongs to the owner's unit.

    Raises InvalidValue for an empty unit or user id, a parent that is not a unit, a cycle,
    or a member of a unit the tree does not hold.
    """

    parents: Mapping[str, str | None] = attrs.field(converter=_parents)
    members: Mapping[str, str] = attrs.field(converter=_members, factory=dict)
    _children: dict[str, tuple[str, ...]] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        children: dict[str, list[str]] = {unit: [] for unit in self.parents}
        for unit, parent in self.parents.items():
            _text("parents", unit)
            if parent is not None:
                if parent not in self.parents:
                    raise InvalidValue(f"parents.{unit}", parent, "the parent is not a unit")
                children[parent].append(unit)
        for unit in self.parents:
            seen = {unit}
            parent = self.parents[unit]
            while parent is not None:
                if parent in seen:
                    raise InvalidValue(f"parents.{unit}", parent, "the units form a cycle")
                seen.add(parent)
                parent = self.parents[parent]
        for user, unit in self.members.items():
            _text("members", user)
            if unit not in self.parents:
                raise InvalidValue(f"members.{user}", unit, "not a unit of the tree")
        object.__setattr__(
            self, "_children", {unit: tuple(sorted(kids)) for unit, kids in children.items()}
        )

    def unit_of(self, user_id: str) -> str | None:
        """The unit ``user_id`` belongs to (None for a user the tree does not list)."""
        return self.members.get(user_id)

    def below(self, unit: str) -> frozenset[str]:
        """``unit`` and every unit under it. Raises InvalidValue for an unknown unit."""
        if unit not in self.parents:
            raise InvalidValue("unit", unit, "not a unit of the tree")
        found: set[str] = set()
        todo = [unit]
        while todo:
            current = todo.pop()
            found.add(current)
            todo.extend(self._children[current])
        return frozenset(found)

    def users_in(self, units: Iterable[str]) -> frozenset[str]:
        """The users who belong to one of ``units``."""
        wanted = frozenset(units)
        return frozenset(user for user, unit in self.members.items() if unit in wanted)


class RoleDepthAuthorizer:
    """Dataverse's role-based security over a :class:`UnitTree`: a principal may do an
    action to a record when one of its roles grants the action at a depth that reaches the
    record's owner:

    ``USER``                the principal owns it;
    ``BUSINESS_UNIT``       its owner belongs to the principal's unit;
    ``UNIT_AND_CHILDREN``   its owner belongs to the principal's unit or a unit below it;
    ``ORGANIZATION``        any record, those without an owner included.

    The principal's unit is ``Principal.unit``, else the tree's unit of its user. A record
    without an owner (an account or contact created without one) is the organisation's:
    only organisation depth reaches it. Records are always reached at user depth by their
    owner when a role grants the action at all.

    Raises ConfigurationError when built from something that is not Roles (or two roles of
    one name) or a UnitTree; ``check`` and ``scope`` raise ConfigurationError for a
    principal with a role the authoriser does not know or a unit the tree does not hold,
    which the enforcing code takes as a denial.
    """

    def __init__(self, roles: Iterable[Role], units: UnitTree) -> None:
        by_name: dict[str, Role] = {}
        for role in roles:
            if not isinstance(role, Role):
                raise ConfigurationError("roles", f"{role!r} is not a Role")
            if role.name in by_name:
                raise ConfigurationError("roles", f"two roles are named {role.name!r}")
            by_name[role.name] = role
        if not isinstance(units, UnitTree):
            raise ConfigurationError("units", f"{units!r} is not a UnitTree")
        self._roles = by_name
        self._units = units

    @property
    def units(self) -> UnitTree:
        """The unit tree."""
        return self._units

    def depth(self, principal: Principal, action: Action) -> Depth | None:
        """The deepest depth any of the principal's roles grants ``action`` at (None: no
        role grants it). Raises ConfigurationError for a role name it does not know."""
        found: Depth | None = None
        for name in sorted(principal.roles):
            role = self._roles.get(name)
            if role is None:
                raise ConfigurationError("roles", f"no role is named {name!r}")
            depth = role.grants.get(action)
            if depth is not None and (found is None or depth > found):
                found = depth
        return found

    def owners(self, principal: Principal, action: Action) -> frozenset[str] | None:
        """The owners whose records the principal may do ``action`` to (None: every
        record's). Raises ConfigurationError as :meth:`depth`, or for a unit not in the
        tree."""
        depth = self.depth(principal, action)
        if depth is None:
            return frozenset()
        if depth is Depth.ORGANIZATION:
            return None
        own = frozenset({principal.user_id})
        if depth is Depth.USER:
            return own
        unit = principal.unit or self._units.unit_of(principal.user_id)
        if unit is None:
            return own
        if unit not in self._units.parents:
            raise ConfigurationError("principal", f"unit {unit!r} is not in the unit tree")
        units = self._units.below(unit) if depth is Depth.UNIT_AND_CHILDREN else {unit}
        return own | self._units.users_in(units)

    def check(self, principal: Principal, action: Action, record: object) -> None:
        """Return None when the principal's roles reach the record's owner for ``action``.
        Raises PermissionDenied otherwise, ConfigurationError as :meth:`owners`."""
        owners = self.owners(principal, action)
        if owners is None:
            return
        owner = getattr(record, "owner", None)
        if isinstance(owner, UserRef) and owner.id in owners:
            return
        raise PermissionDenied(principal.user_id, action.value, getattr(record, "id", None))

    def scope(self, principal: Principal, action: Action) -> LeadQuery:
        """The leads the principal may do ``action`` to, as an owner set. Raises
        ConfigurationError as :meth:`owners`."""
        owners = self.owners(principal, action)
        return _EVERY_LEAD if owners is None else LeadQuery(owner_ids=owners)

    def __repr__(self) -> str:
        return f"RoleDepthAuthorizer(roles={sorted(self._roles)!r})"


def _denied(principal: Principal, action: Action, key: object, error: Exception) -> None:
    raise PermissionDenied(
        principal.user_id, action.value, key, f"the authoriser failed ({type(error).__name__})"
    ) from error


def authorize(authorizer: Authorizer, principal: Principal, action: Action, record: object) -> None:
    """Ask ``authorizer`` whether ``principal`` may do ``action`` to ``record``.

    Returns None when it may. Raises PermissionDenied when the authoriser denies — or
    raises anything else (an authoriser that raises denies; the cause is chained).
    """
    try:
        authorizer.check(principal, action, record)
    except PermissionDenied:
        raise
    except Exception as error:
        _denied(principal, action, getattr(record, "id", None), error)


_SCOPE_FIELDS: Final = frozenset({"owner_ids", "sort", "descending"})


def allowed_scope(authorizer: Authorizer, principal: Principal, action: Action) -> LeadQuery:
    """The authoriser's scope of ``action`` for ``principal``: a LeadQuery restricting the
    owners only.

    Raises PermissionDenied when the authoriser raises, or returns anything but a LeadQuery
    whose only filter is ``owner_ids`` (a scope the adapters could not be trusted to apply
    is a denial, not a guess).
    """
    try:
        scope = authorizer.scope(principal, action)
    except PermissionDenied:
        raise
    except Exception as error:
        _denied(principal, action, None, error)
    if not isinstance(scope, LeadQuery) or any(
        getattr(scope, f.name) is not None
        for f in attrs.fields(LeadQuery)
        if f.name not in _SCOPE_FIELDS
    ):
        raise PermissionDenied(
            principal.user_id, action.value, None, "the authoriser's scope is not an owner set"
        )
    return scope


def restrict(query: LeadQuery | None, scope: LeadQuery) -> LeadQuery:
    """``query`` (None: every lead) ANDed with ``scope``'s owner set: the owners it keeps are
    those both allow. Raises nothing for a scope :func:`allowed_scope` returned."""
    query = LeadQuery() if query is None else query
    allowed = scope.owner_ids
    if allowed is None:
        return query
    owners = allowed if query.owner_ids is None else query.owner_ids & allowed
    return attrs.evolve(query, owner_ids=owners)
