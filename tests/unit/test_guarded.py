"""Specification of authorisation on every write path: leadkit.guarded and Desk.acting_for.

(The read paths are the property of tests/properties/test_access_properties.py.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadkit import (
    HIDDEN_REASON,
    Action,
    AllowAll,
    AuthorizedStore,
    CandidateType,
    Depth,
    Desk,
    DuplicatesUnresolved,
    InvalidValue,
    Lead,
    LeadId,
    LeadPatch,
    LeadQuery,
    LeadState,
    NotFound,
    PermissionDenied,
    PersonName,
    Principal,
    Reassign,
    Role,
    RoleDepthAuthorizer,
    Survivorship,
    UnitTree,
    UserRef,
    mass_edit,
    plan_merge,
    require_permission,
    set_field,
)
from leadkit.adapters.memory import MemoryStore
from leadkit.services import merge
from leadkit.testing.clocks import StepClock

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TREE = UnitTree({"org": None, "north": "org", "south": "org"}, {"ann": "north", "bo": "north",
                                                                 "cai": "south"})  # fmt: skip
EVERY_ACTION_OWN = dict.fromkeys(Action, Depth.USER)
ROLES = [
    Role("own", EVERY_ACTION_OWN),
    Role("reader", {Action.READ: Depth.BUSINESS_UNIT}),
    Role("writer", {Action.WRITE: Depth.BUSINESS_UNIT}),
    Role("assigner", {Action.ASSIGN: Depth.BUSINESS_UNIT}),
    Role("merger", {Action.MERGE: Depth.BUSINESS_UNIT}),
    Role("boss", dict.fromkeys(Action, Depth.ORGANIZATION)),
]
AUTHORIZER = RoleDepthAuthorizer(ROLES, TREE)


def _clock() -> StepClock:
    return StepClock(START, timedelta(minutes=1))


def _ids() -> Callable[[], str]:
    return map("id-{}".format, itertools.count(1)).__next__


def _lead(key: str, owner: str, email: str | None = None) -> Lead:
    user = UserRef(owner)
    patch = LeadPatch(topic=f"Topic {key}", name=PersonName(first="Åsa", last="Öberg"),
                      email=email)  # fmt: skip
    return Lead.create(LeadId(key), patch, at=START, by=user, owner=user)


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        for key, owner in (("A1", "ann"), ("A2", "ann"), ("B1", "bo"), ("C1", "cai")):
            uow.leads.add(_lead(key, owner))
        uow.commit()
    return store


def _as(store: MemoryStore, user: str, *roles: str) -> AuthorizedStore:
    return AuthorizedStore(store, AUTHORIZER, Principal(user, roles=set(roles)))


def _stored(store: MemoryStore, key: str) -> Lead:
    with store.unit_of_work() as uow:
        return uow.leads.get(LeadId(key))


def _edit(target: AuthorizedStore | MemoryStore, key: str, topic: str) -> None:
    with target.unit_of_work() as uow:
        lead = uow.leads.get(LeadId(key))
        uow.leads.save(lead.update(LeadPatch(topic=topic), at=START, by=UserRef("ann")))
        uow.commit()


def test_a_write_needs_write_on_the_stored_lead(store: MemoryStore) -> None:
    before = _stored(store, "B1")
    with pytest.raises(PermissionDenied) as caught:
        _edit(_as(store, "ann", "own", "reader"), "B1", "Changed")
    assert (caught.value.action, caught.value.key) == ("write", LeadId("B1"))
    assert _stored(store, "B1") == before
    _edit(_as(store, "ann", "own", "reader", "writer"), "B1", "Changed")
    assert _stored(store, "B1").topic == "Changed"


def test_a_read_needs_read_and_lists_hold_only_readable_leads(store: MemoryStore) -> None:
    own = _as(store, "ann", "own")
    with own.unit_of_work() as uow:
        with pytest.raises(PermissionDenied):
            uow.leads.get(LeadId("B1"))
        assert uow.leads.count(LeadQuery()) == 2
        assert [x.id.value for x in uow.leads.stream()] == ["A1", "A2"]
        assert [x.id.value for x in uow.leads.query(LeadQuery(), limit=1).items] == ["A1"]
        assert uow.leads.count(LeadQuery(owner_id="bo")) == 0


def test_create_needs_create_for_the_new_leads_owner(store: MemoryStore) -> None:
    own = _as(store, "ann", "own", "reader")
    with own.unit_of_work() as uow:
        uow.leads.add(_lead("A3", "ann"))
        with pytest.raises(PermissionDenied):
            uow.leads.add(_lead("B2", "bo"))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.leads.count(LeadQuery()) == 5
        with pytest.raises(NotFound):
            uow.leads.get(LeadId("B2"))


def test_delete_needs_delete(store: MemoryStore) -> None:
    with _as(store, "ann", "own", "reader", "writer").unit_of_work() as uow:
        with pytest.raises(PermissionDenied):
            uow.leads.delete(LeadId("B1"))
        uow.leads.delete(LeadId("A1"))
        uow.commit()
    with store.unit_of_work() as uow:
        assert sorted(x.id.value for x in uow.leads.stream()) == ["A2", "B1", "C1"]


def test_a_change_of_owner_needs_assign_on_the_stored_lead(store: MemoryStore) -> None:
    writer = _as(store, "ann", "own", "reader", "writer")

    def give_to_ann(target: AuthorizedStore) -> None:
        with target.unit_of_work() as uow:
            lead = uow.leads.get(LeadId("B1"))
            uow.leads.save(lead.assign(UserRef("ann"), at=START, by=UserRef("ann")))
            uow.commit()

    with pytest.raises(PermissionDenied) as caught:
        give_to_ann(writer)
    assert caught.value.action == "assign"
    assert _stored(store, "B1").owner.id == "bo"
    give_to_ann(_as(store, "ann", "own", "reader", "writer", "assigner"))
    assert _stored(store, "B1").owner.id == "ann"


def test_mass_edit_reports_a_denied_lead_and_all_or_nothing_stores_none(
    store: MemoryStore,
) -> None:
    reader = _as(store, "ann", "own", "reader")
    keys = [LeadId("A1"), LeadId("B1")]
    edit = set_field("topic", "Bulk")
    result = mass_edit(reader, keys, edit, at=START, by=UserRef("ann"))
    assert not result.committed
    assert [type(o.error) for o in result.failed] == [PermissionDenied]
    assert _stored(store, "A1").topic == "Topic A1"
    partial = mass_edit(reader, keys, edit, at=START, by=UserRef("ann"), all_or_nothing=False)
    assert [o.lead_id.value for o in partial.changed] == ["A1"]
    assert _stored(store, "B1").topic == "Topic B1"
    reassign = mass_edit(reader, [LeadId("A2")], Reassign(UserRef("bo")), at=START,
                         by=UserRef("ann"))  # fmt: skip
    assert reassign.committed  # her own lead: own role grants assign at user depth


def test_a_merge_needs_merge_on_every_lead_and_stores_nothing_when_denied(
    store: MemoryStore,
) -> None:
    writer = _as(store, "ann", "own", "reader", "writer")
    plan = plan_merge(_stored(store, "A1"), [_stored(store, "B1")], Survivorship())
    with pytest.raises(PermissionDenied) as caught:
        merge(writer, plan, ids=_ids(), at=START, by=UserRef("ann"))
    assert (caught.value.action, caught.value.key) == ("merge", LeadId("B1"))
    assert _stored(store, "B1").state is LeadState.OPEN
    assert _stored(store, "A1").version == 1
    merger = _as(store, "ann", "own", "reader", "writer", "merger")
    result = merge(merger, plan, ids=_ids(), at=START, by=UserRef("ann"))
    assert result.master.id == LeadId("A1")
    assert _stored(store, "B1").state is LeadState.DISQUALIFIED


def test_an_authorised_unit_of_work_passes_the_rest_through(store: MemoryStore) -> None:
    guarded = _as(store, "ann", "own")
    assert guarded.inner is store
    assert guarded.principal.user_id == "ann"
    assert guarded.authorizer is AUTHORIZER
    with guarded.unit_of_work() as uow:
        assert uow.inner is not None
        assert uow.accounts.list() == []
        assert uow.idempotency is not None  # the memory store's, through the wrapper
        assert uow.events == ()
        uow.rollback()


# The front door ------------------------------------------------------------------------------


@pytest.fixture
def desk(store: MemoryStore) -> Desk:
    return Desk(store, clock=_clock(), ids=_ids(), authorizer=AUTHORIZER)


def test_a_desk_with_an_authoriser_and_no_principal_refuses(desk: Desk) -> None:
    with pytest.raises(PermissionDenied):
        desk.get("A1")
    with pytest.raises(PermissionDenied):
        desk.acting_as("ann").views.all()


def test_a_desk_without_an_authoriser_keeps_working(store: MemoryStore) -> None:
    desk = Desk(store, clock=_clock(), ids=_ids()).acting_as("ann")
    assert isinstance(desk.authorizer, AllowAll)
    assert desk.principal is None
    assert desk.count() == 4
    assert desk.get("B1").owner.id == "bo"


def test_acting_for_wants_a_principal(desk: Desk) -> None:
    with pytest.raises(InvalidValue) as caught:
        desk.acting_for("ann")  # type: ignore[arg-type]
    assert caught.value.field == "principal"


def test_the_desk_authorises_every_call(desk: Desk, tmp_path: Path) -> None:
    ann = desk.acting_for(Principal("ann", roles={"own"}))
    assert ann.principal == Principal("ann", roles={"own"})
    assert ann.user == UserRef("ann")
    assert [x.id.value for x in ann.list().items] == ["A1", "A2"]
    for call in (
        lambda: ann.get("B1"),
        lambda: ann.update("B1", topic="x"),
        lambda: ann.note("B1", "hello"),
        lambda: ann.assign("B1", "ann"),
        lambda: ann.disqualify("B1"),
        lambda: ann.delete("B1"),
        lambda: ann.qualify("B1"),
        lambda: ann.score("B1"),
        lambda: ann.create(topic="New", name="Bo Ek", owner="bo"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert ann.update("A1", topic="Mine").topic == "Mine"
    assert ann.with_policy(ann.policy).principal == ann.principal
    assert ann.acting_as("bo").principal == ann.principal  # acting_as cannot escape
    assert ann.export(tmp_path / "mine.csv") == 2


def test_export_needs_the_export_scope_as_well_as_read(store: MemoryStore, tmp_path: Path) -> None:
    roles = [Role("look", {Action.READ: Depth.ORGANIZATION, Action.EXPORT: Depth.USER})]
    desk = Desk(store, authorizer=RoleDepthAuthorizer(roles, TREE))
    ann = desk.acting_for(Principal("ann", roles={"look"}))
    assert ann.count() == 4
    assert ann.export(tmp_path / "out.csv") == 2


def test_mass_edit_by_query_edits_only_the_leads_the_principal_may_write(desk: Desk) -> None:
    ann = desk.acting_for(Principal("ann", roles={"own", "reader"}))
    result = ann.mass_edit(LeadQuery(), set_field("topic", "Bulk"))
    assert result.committed
    assert sorted(o.lead_id.value for o in result.changed) == ["A1", "A2"]
    boss = desk.acting_for(Principal("eve", roles={"boss"}))
    assert boss.get("B1").topic == "Topic B1"


def test_the_qualification_warning_hides_a_contact_the_user_may_not_see(store: MemoryStore) -> None:
    desk = Desk(store, clock=_clock(), ids=_ids(), authorizer=AUTHORIZER)
    cai = desk.acting_for(Principal("cai", roles={"own"}))
    ann = desk.acting_for(Principal("ann", roles={"own"}))
    cais = cai.create(topic="Pumps", name="Åsa Öberg", email="asa@fika.example")
    contact = cai.qualify(cais.id).contact_id
    assert contact is not None
    anns = ann.create(topic="Tea", name="Åsa Öberg", email="asa@fika.example")
    with pytest.raises(DuplicatesUnresolved) as caught:
        ann.qualify(anns.id)
    [hidden] = caught.value.candidates
    assert (hidden.record_type, hidden.record_id, hidden.reason) == (
        CandidateType.CONTACT, "hidden-1", HIDDEN_REASON,
    )  # fmt: skip
    assert contact.value not in repr(caught.value.candidates)
    # find_duplicates says no more (cai's lead, qualified, is no candidate).
    assert ann.find_duplicates(anns.id) == (hidden,)
    # Create anyway with the stand-in: Ann's own contact, beside the one she cannot see.
    result = ann.qualify(anns.id, create_anyway=[hidden])
    assert result.contact_id not in (None, contact)
    # The owner sees the real records.
    boss = desk.acting_for(Principal("eve", roles={"boss"}))
    assert contact.value in {c.record_id for c in boss.find_duplicates(anns.id)}


def test_an_authoriser_that_raises_denies_at_the_front_door(store: MemoryStore) -> None:
    class Broken:
        def check(self, principal: Principal, action: Action, record: object) -> None:
            raise RuntimeError("directory down")

        def scope(self, principal: Principal, action: Action) -> LeadQuery:
            raise RuntimeError("directory down")

    desk = Desk(store, authorizer=Broken()).acting_for(Principal("ann"))
    for call in (lambda: desk.get("A1"), desk.count, desk.list, desk.views.all):
        with pytest.raises(PermissionDenied):
            call()


MESSAGE = (
    b"From: =?utf-8?q?=C3=85sa_=C3=96berg?= <asa@fika.example>\r\n"
    b"To: sales@example.com\r\nSubject: Coffee machines\r\n\r\nPlease call me.\r\n"
)


def test_intake_and_import_create_under_the_principal(desk: Desk, tmp_path: Path) -> None:
    ann = desk.acting_for(Principal("ann", roles={"own"}))
    assert ann.receive_email(MESSAGE).owner.id == "ann"
    with pytest.raises(PermissionDenied):
        ann.receive_email(MESSAGE, owner="cai", create_anyway=True)
    path = tmp_path / "in.csv"
    path.write_text("Topic,Last Name\nCoffee,Öberg\nTea,Ek\n", "utf-8")
    report = ann.import_file(path, dry_run=False)
    assert report.created == 2
    assert ann.count() == 5  # her two, the e-mail's and the two imported


def test_a_reader_sees_a_hidden_lead_candidate_of_intake(desk: Desk) -> None:
    cai = desk.acting_for(Principal("cai", roles={"own"}))
    ann = desk.acting_for(Principal("ann", roles={"own"}))
    hidden = cai.receive_email(MESSAGE)
    with pytest.raises(DuplicatesUnresolved) as caught:
        ann.receive_email(MESSAGE)
    assert [(c.record_id, c.reason) for c in caught.value.candidates] == [
        ("hidden-1", HIDDEN_REASON)
    ]
    assert hidden.id.value not in repr(caught.value.candidates)


def test_require_permission_checks_an_authorised_target_only(store: MemoryStore) -> None:
    record = _stored(store, "B1")
    guarded = _as(store, "ann", "own")
    with pytest.raises(PermissionDenied) as caught:
        require_permission(guarded, Action.ERASE, record)
    assert caught.value.action == "erase"
    with guarded.unit_of_work() as uow, pytest.raises(PermissionDenied):
        require_permission(uow, Action.ERASE, record)
    require_permission(_as(store, "eve", "boss"), Action.ERASE, record)
    require_permission(store, Action.ERASE, record)  # no principal: allowed
