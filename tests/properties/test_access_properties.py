"""Authorisation leaks nothing: for random unit trees, roles, depths, principals and leads,
every read path of the front door returns exactly what the principal may see.

The expected sets come from an oracle written here (walking each owner's unit up the tree),
not from :class:`leadkit.RoleDepthAuthorizer`. Paths: get, list, views, counts, reports,
find_duplicates (by id and by fields) and export; after each example no output holds the
id or the topic of a lead the principal may not read (or, for the export, export).
Runs on the memory store, SQLite, and PostgreSQL when ``LEADKIT_TEST_PG_URL`` is set.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadkit import (
    HIDDEN_REASON,
    Action,
    AllowAll,
    Depth,
    Desk,
    DuplicateCandidate,
    Lead,
    LeadId,
    LeadPatch,
    LeadQuery,
    LeadState,
    PermissionDenied,
    PersonName,
    Principal,
    Role,
    RoleDepthAuthorizer,
    StatusReason,
    UnitTree,
    UserRef,
)
from leadkit.adapters.memory import MemoryStore
from leadkit.ports import LeadStore, Page

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
USERS = ("ann", "bo", "cai", "dee", "eva")
ROLE_NAMES = ("r0", "r1")
ACTIONS = (Action.READ, Action.EXPORT)


@attrs.frozen
class World:
    parents: dict[str, str | None]
    members: dict[str, str]
    grants: dict[str, dict[Action, Depth]]
    principal: Principal
    leads: tuple[tuple[str, int | None, bool], ...]  # owner, e-mail group, closed


@st.composite
def worlds(draw: st.DrawFn) -> World:
    size = draw(st.integers(1, 5))
    parents: dict[str, str | None] = {"unit0": None}
    for i in range(1, size):
        parents[f"unit{i}"] = f"unit{draw(st.integers(0, i - 1))}"
    units = sorted(parents)
    members = {user: draw(st.sampled_from(units)) for user in USERS if draw(st.integers(0, 5))}
    depth = st.none() | st.sampled_from(list(Depth))
    grants: dict[str, dict[Action, Depth]] = {}
    for name in ROLE_NAMES:
        chosen = {action: draw(depth) for action in ACTIONS}
        grants[name] = {action: d for action, d in chosen.items() if d is not None}
    principal = Principal(
        draw(st.sampled_from([*USERS, "stranger"])),
        unit=draw(st.none() | st.sampled_from(units)),
        roles=draw(st.frozensets(st.sampled_from(ROLE_NAMES))),
    )
    owner = st.sampled_from([*USERS, "outsider"])
    leads = draw(
        st.lists(st.tuples(owner, st.none() | st.integers(0, 2), st.booleans()), max_size=10)
    )
    return World(parents, members, grants, principal, tuple(leads))


def reaches(world: World, action: Action, owner: str) -> bool:
    """The oracle: may the world's principal do ``action`` to a lead of ``owner``?"""
    principal = world.principal
    depths = [world.grants[r][action] for r in principal.roles if action in world.grants[r]]
    if not depths:
        return False
    depth = max(depths)
    if depth is Depth.ORGANIZATION or owner == principal.user_id:
        return True
    if depth is Depth.USER:
        return False
    unit = principal.unit or world.members.get(principal.user_id)
    owner_unit = world.members.get(owner)
    if unit is None or owner_unit is None:
        return False
    if depth is Depth.BUSINESS_UNIT:
        return owner_unit == unit
    current: str | None = owner_unit
    while current is not None:  # up from the owner's unit: is the principal's unit above?
        if current == unit:
            return True
        current = world.parents[current]
    return False


def _leads(world: World) -> list[Lead]:
    made = []
    for n, (owner, group, closed) in enumerate(world.leads):
        user = UserRef(owner)
        at = START + timedelta(minutes=n)
        email = None if group is None else f"person{group}@group.example"
        name = PersonName(first="Åsa", last=f"Group{group}" if group is not None else f"Solo{n}")
        patch = LeadPatch(topic=f"Topic-{n:02}-zq", name=name, email=email)
        lead = Lead.create(LeadId(f"lead-{n:02}-zq"), patch, at=at, by=user, owner=user)
        if closed:
            lead = lead.disqualify(StatusReason.LOST, at=at, by=user)
        made.append(lead)
    return made


def _all_pages(read: Callable[[str | None], Page]) -> list[str]:
    found: list[str] = []
    after: str | None = None
    for _ in range(100):
        page = read(after)
        found.extend(lead.id.value for lead in page.items)
        if page.next_cursor is None:
            return found
        after = page.next_cursor
    raise AssertionError("pagination did not end")


def _shown(candidates: tuple[DuplicateCandidate, ...], readable: set[str]) -> list[object]:
    """What the principal must see of the unrestricted candidates: each readable one as it
    is, each other as a stand-in numbered in order."""
    hidden = itertools.count(1)
    return [
        c.key
        if c.record_id in readable
        else (c.record_type, f"hidden-{next(hidden)}", HIDDEN_REASON)
        for c in candidates
    ]


def _seen(candidates: tuple[DuplicateCandidate, ...]) -> list[object]:
    return [c.key if c.reason != HIDDEN_REASON else (*c.key, c.reason) for c in candidates]


def check_world(store: LeadStore, world: World, tmp: Path) -> None:
    leads = _leads(world)
    with store.unit_of_work() as uow:
        for lead in leads:
            uow.leads.add(lead)
        uow.commit()
    ticks = itertools.count()
    numbers = itertools.count(1)
    authorizer = RoleDepthAuthorizer(
        [Role(name, grants) for name, grants in world.grants.items()],
        UnitTree(world.parents, world.members),
    )
    base = Desk(
        store,
        clock=lambda: START + timedelta(hours=1, seconds=next(ticks)),
        ids=lambda: f"new-{next(numbers)}",
        authorizer=authorizer,
    )
    desk = base.acting_for(world.principal)
    everything = base.acting_for(world.principal, authorizer=AllowAll())

    order = _all_pages(lambda after: everything.list(limit=50, after=after))
    owner_of = {lead.id.value: lead.owner.id for lead in leads}
    readable = [key for key in order if reaches(world, Action.READ, owner_of[key])]
    readable_set = set(readable)
    exportable = {k for k in readable if reaches(world, Action.EXPORT, owner_of[k])}
    open_ids = {lead.id.value for lead in leads if lead.state is LeadState.OPEN}
    outputs: list[str] = []

    # get
    for lead in leads:
        if lead.id.value in readable_set:
            assert desk.get(lead.id).id == lead.id
        else:
            with pytest.raises(PermissionDenied):
                desk.get(lead.id)
    # list and views, page by page
    assert _all_pages(lambda after: desk.list(limit=3, after=after)) == readable
    opened = _all_pages(lambda after: desk.views.open(limit=2, after=after))
    assert sorted(opened) == sorted(readable_set & open_ids)
    closed = _all_pages(lambda after: desk.views.closed(limit=2, after=after))
    assert sorted(closed) == sorted(readable_set - open_ids)
    outputs += [*opened, *closed]
    # counts
    assert desk.count() == len(readable)
    assert desk.count(LeadQuery(states={LeadState.OPEN})) == len(readable_set & open_ids)
    # reports
    report = desk.reports.by_owner()
    assert sorted(k.value for row in report.rows for k in row.lead_ids) == sorted(readable)
    assert sum(row.count for row in report.rows) == len(readable)
    outputs.append(repr(report))
    bands = desk.reports.by_score_band()
    assert sum(row.count for row in bands.rows) == len(readable)
    outputs.append(repr(bands))
    # duplicates, by id and by fields
    for lead in leads:
        if lead.id.value not in readable_set:
            with pytest.raises(PermissionDenied):
                desk.find_duplicates(lead.id)
            continue
        found = desk.find_duplicates(lead.id)
        assert _seen(found) == _shown(everything.find_duplicates(lead.id), readable_set)
        outputs.append(repr(found))
    for group in range(3):
        fields = {"topic": "Probe", "name": f"Åsa Group{group}",
                  "email": f"person{group}@group.example"}  # fmt: skip
        found = desk.find_duplicates(**fields)
        assert _seen(found) == _shown(everything.find_duplicates(**fields), readable_set)
        outputs.append(repr(found))
    # export
    path = tmp / f"export-{next(_files)}.csv"
    written = desk.export(path)
    text = path.read_text(encoding="utf-8-sig")
    topics = sorted(row["Topic"] for row in csv.DictReader(io.StringIO(text)))
    expected_topics = sorted(lead.topic for lead in leads if lead.id.value in exportable)
    assert (written, topics) == (len(exportable), expected_topics)

    # No leaks: nothing of a lead the principal may not read, anywhere.
    everything_shown = "\n".join(outputs)
    for lead in leads:
        if lead.id.value not in readable_set:
            assert lead.id.value not in everything_shown
            assert lead.topic not in everything_shown
        if lead.id.value not in exportable:
            assert lead.topic not in text


_files = itertools.count()

_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_SETTINGS
@given(world=worlds())
def test_every_path_returns_exactly_the_permitted_leads_in_memory(
    world: World, tmp_path: Path
) -> None:
    check_world(MemoryStore(), world, tmp_path)


@_SETTINGS
@given(world=worlds())
def test_every_path_returns_exactly_the_permitted_leads_on_sqlite(
    world: World, tmp_path: Path
) -> None:
    from leadkit.adapters.sql import SqlStore

    with SqlStore.open(path=tmp_path / f"access-{next(_files)}.db") as store:
        check_world(store, world, tmp_path)


@pytest.fixture
def pg_urls(pg_databases: object) -> Iterator[Callable[[], str]]:
    taken: list[str] = []

    def take() -> str:
        url: str = pg_databases.take()  # type: ignore[attr-defined]
        taken.append(url)
        return url

    yield take
    for url in taken:
        pg_databases.give_back(url)  # type: ignore[attr-defined]


@settings(_SETTINGS, max_examples=10)
@given(world=worlds())
def test_every_path_returns_exactly_the_permitted_leads_on_postgresql(
    world: World, tmp_path: Path, pg_urls: Callable[[], str]
) -> None:
    from leadkit.adapters.sql import SqlStore

    with SqlStore.open(pg_urls(), create=False) as store:
        check_world(store, world, tmp_path)
