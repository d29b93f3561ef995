"""Specification of leadkit.access: principals, roles, unit trees and the authorisers."""

from __future__ import annotations

from typing import Any

import pytest

from leadkit import (
    Action,
    AllowAll,
    ConfigurationError,
    Depth,
    InvalidValue,
    LeadQuery,
    LeadState,
    PermissionDenied,
    Principal,
    Role,
    RoleDepthAuthorizer,
    UnitTree,
    UserRef,
    allowed_scope,
    authorize,
    problem,
    restrict,
)

TREE = UnitTree(
    {"org": None, "north": "org", "stockholm": "north", "kiruna": "north", "south": "org"},
    {"ann": "north", "bo": "stockholm", "cai": "south", "dee": "kiruna", "eva": "org"},
)


class Owned:
    """A record with an owner (an account or contact has one too)."""

    def __init__(self, owner: str | None, key: str = "R-1") -> None:
        self.owner = None if owner is None else UserRef(owner)
        self.id = key


def _authorizer(depth: Depth, action: Action = Action.READ) -> RoleDepthAuthorizer:
    return RoleDepthAuthorizer([Role("seller", {action: depth})], TREE)


def _allowed(authorizer: RoleDepthAuthorizer, principal: Principal, owner: str | None) -> bool:
    try:
        authorizer.check(principal, Action.READ, Owned(owner))
    except PermissionDenied:
        return False
    return True


ANN = Principal("ann", roles={"seller"})


@pytest.mark.parametrize(
    ("depth", "reached"),
    [
        (Depth.USER, {"ann"}),
        (Depth.BUSINESS_UNIT, {"ann"}),
        (Depth.UNIT_AND_CHILDREN, {"ann", "bo", "dee"}),
        (Depth.ORGANIZATION, {"ann", "bo", "cai", "dee", "eva", "stranger", None}),
    ],
)
def test_a_depth_reaches_the_owners_of_its_level(depth: Depth, reached: set[str | None]) -> None:
    authorizer = _authorizer(depth)
    owners: list[str | None] = ["ann", "bo", "cai", "dee", "eva", "stranger", None]
    assert {o for o in owners if _allowed(authorizer, ANN, o)} == reached


def test_business_unit_depth_reaches_the_users_of_the_same_unit() -> None:
    tree = UnitTree({"org": None, "north": "org"}, {"ann": "north", "ari": "north", "eva": "org"})
    authorizer = RoleDepthAuthorizer([Role("seller", {Action.READ: Depth.BUSINESS_UNIT})], tree)
    assert authorizer.scope(ANN, Action.READ) == LeadQuery(owner_ids={"ann", "ari"})


def test_the_scope_is_the_owner_set_check_allows() -> None:
    authorizer = _authorizer(Depth.UNIT_AND_CHILDREN)
    assert authorizer.scope(ANN, Action.READ) == LeadQuery(owner_ids={"ann", "bo", "dee"})
    assert authorizer.scope(ANN, Action.WRITE) == LeadQuery(owner_ids=frozenset())
    assert _authorizer(Depth.ORGANIZATION).scope(ANN, Action.READ) == LeadQuery()


def test_the_deepest_grant_of_the_principals_roles_wins() -> None:
    roles = [
        Role("seller", {Action.READ: Depth.USER, Action.WRITE: Depth.USER}),
        Role("manager", {Action.READ: Depth.UNIT_AND_CHILDREN}),
    ]
    authorizer = RoleDepthAuthorizer(roles, TREE)
    both = Principal("ann", roles={"seller", "manager"})
    assert authorizer.depth(both, Action.READ) is Depth.UNIT_AND_CHILDREN
    assert authorizer.depth(both, Action.WRITE) is Depth.USER
    assert authorizer.depth(both, Action.DELETE) is None


def test_the_principals_own_unit_overrides_the_tree() -> None:
    authorizer = _authorizer(Depth.BUSINESS_UNIT)
    visiting = Principal("ann", unit="south", roles={"seller"})
    assert authorizer.scope(visiting, Action.READ) == LeadQuery(owner_ids={"ann", "cai"})


def test_a_principal_without_a_unit_reaches_only_its_own_records_below_organisation() -> None:
    authorizer = _authorizer(Depth.UNIT_AND_CHILDREN)
    stranger = Principal("stranger", roles={"seller"})
    assert authorizer.scope(stranger, Action.READ) == LeadQuery(owner_ids={"stranger"})


def test_a_record_without_an_owner_needs_organisation_depth() -> None:
    assert not _allowed(_authorizer(Depth.UNIT_AND_CHILDREN), ANN, None)
    assert _allowed(_authorizer(Depth.ORGANIZATION), ANN, None)


def test_a_denial_names_the_user_the_action_and_the_record() -> None:
    with pytest.raises(PermissionDenied) as caught:
        _authorizer(Depth.USER).check(ANN, Action.READ, Owned("bo", "L-7"))
    error = caught.value
    assert (error.user_id, error.action, error.key) == ("ann", "read", "L-7")
    assert "ann" in str(error)
    assert "L-7" in str(error)


def test_an_unknown_role_or_unit_is_a_configuration_error() -> None:
    authorizer = _authorizer(Depth.BUSINESS_UNIT)
    with pytest.raises(ConfigurationError):
        authorizer.depth(Principal("ann", roles={"typo"}), Action.READ)
    with pytest.raises(ConfigurationError):
        authorizer.owners(Principal("ann", unit="mars", roles={"seller"}), Action.READ)


def test_authorize_turns_a_failing_authoriser_into_a_denial() -> None:
    class Broken:
        def check(self, principal: Principal, action: Action, record: object) -> None:
            raise RuntimeError("the directory is down")

        def scope(self, principal: Principal, action: Action) -> LeadQuery:
            raise KeyError("x")

    with pytest.raises(PermissionDenied) as caught:
        authorize(Broken(), ANN, Action.READ, Owned("ann"))
    assert isinstance(caught.value.__cause__, RuntimeError)
    with pytest.raises(PermissionDenied) as scoped:
        allowed_scope(Broken(), ANN, Action.READ)
    assert isinstance(scoped.value.__cause__, KeyError)
    # An unknown role in RoleDepthAuthorizer denies the same way.
    with pytest.raises(PermissionDenied):
        authorize(_authorizer(Depth.USER), Principal("ann", roles={"typo"}), Action.READ, None)


@pytest.mark.parametrize(
    "scope", [None, "everything", LeadQuery(states={LeadState.OPEN}), LeadQuery(text="x")]
)
def test_a_scope_that_is_not_an_owner_set_denies(scope: object) -> None:
    class Odd:
        def check(self, principal: Principal, action: Action, record: object) -> None:
            return None

        def scope(self, principal: Principal, action: Action) -> Any:
            return scope

    with pytest.raises(PermissionDenied) as caught:
        allowed_scope(Odd(), ANN, Action.READ)
    assert caught.value.key is None


def test_allow_all_allows_everything() -> None:
    authorize(AllowAll(), ANN, Action.ERASE, Owned(None))
    assert allowed_scope(AllowAll(), ANN, Action.EXPORT) == LeadQuery()


def test_restrict_ands_the_owner_sets() -> None:
    query = LeadQuery(owner_ids={"ann", "bo"}, states={LeadState.OPEN})
    assert restrict(query, LeadQuery(owner_ids={"bo", "cai"})) == LeadQuery(
        owner_ids={"bo"}, states={LeadState.OPEN}
    )
    assert restrict(query, LeadQuery()) == query
    assert restrict(None, LeadQuery(owner_ids={"ann"})) == LeadQuery(owner_ids={"ann"})


def test_permission_denied_is_a_403_problem() -> None:
    status, document = problem(PermissionDenied("ann", "read", "L-7"))
    assert status == 403
    assert document["type"] == "urn:leadkit:problem:permission-denied"
    assert (document["action"], document["key"]) == ("read", "L-7")


def test_the_unit_tree_walks_down() -> None:
    assert TREE.below("north") == {"north", "stockholm", "kiruna"}
    assert TREE.below("south") == {"south"}
    assert TREE.users_in({"north", "kiruna"}) == {"ann", "dee"}
    assert TREE.unit_of("bo") == "stockholm"
    assert TREE.unit_of("nobody") is None
    with pytest.raises(InvalidValue) as caught:
        TREE.below("mars")
    assert caught.value.field == "unit"


@pytest.mark.parametrize(
    ("parents", "members", "field"),
    [
        ({"org": None, "a": "b"}, {}, "parents.a"),
        ({"a": "b", "b": "a"}, {}, "parents.a"),
        ({"a": "a"}, {}, "parents.a"),
        ({"": None}, {}, "parents"),
        ({"org": None}, {"ann": "mars"}, "members.ann"),
        ({"org": None}, {"": "org"}, "members"),
        ("org", {}, "parents"),
        ({"org": None}, ["ann"], "members"),
    ],
)
def test_a_bad_unit_tree_is_refused(parents: Any, members: Any, field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        UnitTree(parents, members)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"user_id": ""}, "user_id"),
        ({"user_id": "ann", "unit": " "}, "unit"),
        ({"user_id": "ann", "roles": "seller"}, "roles"),
        ({"user_id": "ann", "roles": {""}}, "roles"),
        ({"user_id": "ann", "roles": {3}}, "roles"),
    ],
)
def test_a_bad_principal_is_refused(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        Principal(**kwargs)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("name", "grants", "field"),
    [
        ("", {}, "name"),
        ("r", {"read": Depth.USER}, "grants"),
        ("r", {Action.READ: 3}, "grants.read"),
        ("r", [Action.READ], "grants"),
    ],
)
def test_a_bad_role_is_refused(name: str, grants: Any, field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        Role(name, grants)
    assert caught.value.field == field


def test_a_roles_grants_cannot_change_after_it_is_made() -> None:
    grants = {Action.READ: Depth.USER}
    role = Role("seller", grants)
    grants[Action.WRITE] = Depth.ORGANIZATION
    assert Action.WRITE not in role.grants
    with pytest.raises(TypeError):
        role.grants[Action.WRITE] = Depth.USER  # type: ignore[index]
    assert role == Role("seller", {Action.READ: Depth.USER})
    assert hash(role) == hash(Role("seller", {Action.READ: Depth.USER}))


@pytest.mark.parametrize(
    ("roles", "units"),
    [(["seller"], TREE), ([Role("a", {}), Role("a", {})], TREE), ([Role("a", {})], {"org": None})],
)
def test_a_bad_role_depth_authoriser_is_refused(roles: Any, units: Any) -> None:
    with pytest.raises(ConfigurationError):
        RoleDepthAuthorizer(roles, units)


def test_an_owner_set_must_hold_user_ids() -> None:
    for bad in ("ann", {1, 2}, 5):
        with pytest.raises(InvalidValue) as caught:
            LeadQuery(owner_ids=bad)
        assert caught.value.field == "owner_ids"


def test_an_owner_set_matches_the_owners_leads() -> None:
    from datetime import UTC, datetime

    from leadkit import Lead, LeadId, LeadPatch, PersonName

    lead = Lead.create(
        LeadId("L-1"), LeadPatch(topic="t", name=PersonName(last="x")),
        at=datetime(2026, 1, 1, tzinfo=UTC),
        by=UserRef("bo"), owner=UserRef("bo"),
    )  # fmt: skip
    assert LeadQuery(owner_ids={"bo", "ann"}).matches(lead)
    assert not LeadQuery(owner_ids={"ann"}).matches(lead)
    assert not LeadQuery(owner_ids=frozenset()).matches(lead)
